// The public surface of each entry point of the package, as a reviewable file
// (api/public-api.txt): every exported name and what it is. `npm run api:report`
// writes it; a test fails when the code's surface and the file differ, so a
// change to what users can import shows in review.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The package's entry points (package.json "exports") and their sources. */
export const ENTRY_POINTS: Record<string, string> = {
  'uuid-lookup-observability': 'src/core/index.ts',
  'uuid-lookup-observability/browser': 'src/browser/index.ts',
  'uuid-lookup-observability/node': 'src/node/index.ts',
  'uuid-lookup-observability/mixin': 'src/mixin/index.ts',
};

function kindOf(checker: ts.TypeChecker, symbol: ts.Symbol): string {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = target.flags;
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Variable) return 'const';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  return 'other';
}

/** The report's text: per entry point, one `name: kind` line per export, sorted. */
export function renderApiReport(root: string): string {
  const files = Object.values(ENTRY_POINTS).map((file) => `${root}/${file}`);
  const program = ts.createProgram(files, {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const sections = Object.entries(ENTRY_POINTS).map(([name, file]) => {
    const source = program.getSourceFile(`${root}/${file}`);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    const exports = module === undefined ? [] : checker.getExportsOfModule(module);
    const lines = exports.map((symbol) => `  ${symbol.getName()}: ${kindOf(checker, symbol)}`).sort();
    return `${name} (${file})\n${lines.join('\n')}\n`;
  });
  return `# The public API of each entry point. Written by \`npm run api:report\`; a test compares it with the code.\n\n${sections.join('\n')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  writeFileSync(`${root}/api/public-api.txt`, renderApiReport(root));
  process.stdout.write('wrote api/public-api.txt\n');
}
