// `npm run tools`: builds the servers that the stack tests run, from their Go modules at
// the versions docker-compose.yml pins, into .tools/bin (ignored by git):
//
//   otelcol-uuid-lookup   the OpenTelemetry Collector distribution of otel-collector/builder-config.yaml
//   prometheus, promtool  Prometheus 3
//   alertmanager, amtool  Alertmanager
//   postgres_exporter     the exporter of the migration statistics
//
// Each tool is a Go module under tools/ (go.mod and go.sum committed). A build is cached
// outside the checkout, keyed by the module's files and the Go version, so a second clone
// on the same machine (CI's) copies it instead of compiling; Go's own build cache makes a
// rebuild after a version change incremental. A fresh machine builds once (minutes).
//
//   npm run tools                  build what is missing or out of date
//   npm run tools -- --generate    regenerate tools/otelcol from the ocb manifest first
//   npm run tools -- --list        print each binary's path and version, build nothing
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** One Go module under tools/ and the binaries built from it. */
export interface GoTool {
  /** Folder under tools/. */
  module: string;
  /** The upstream module whose version the tool is pinned at (its `require` in go.mod). */
  upstream: string;
  /** Binary name → package path to build. */
  binaries: Record<string, string>;
  /** Extra -ldflags (the Prometheus projects print their version from these). */
  ldflags?: (version: string) => string[];
}

const prometheusVersionFlags = (version: string): string[] => [
  `-X github.com/prometheus/common/version.Version=${version.replace(/^v0\.(\d)(\d\d)\.(\d+)$/, (_, major: string, minor: string, patch: string) => `${major}.${Number(minor)}.${patch}`).replace(/^v/, '')}`,
  '-X github.com/prometheus/common/version.Branch=HEAD',
  '-X github.com/prometheus/common/version.BuildUser=uuid-lookup-observability',
];

export const goTools: GoTool[] = [
  {
    module: 'otelcol',
    upstream: 'go.opentelemetry.io/collector/otelcol',
    binaries: { 'otelcol-uuid-lookup': '.' },
  },
  {
    module: 'prometheus',
    upstream: 'github.com/prometheus/prometheus',
    binaries: { prometheus: 'github.com/prometheus/prometheus/cmd/prometheus', promtool: 'github.com/prometheus/prometheus/cmd/promtool' },
    ldflags: prometheusVersionFlags,
  },
  {
    module: 'alertmanager',
    upstream: 'github.com/prometheus/alertmanager',
    binaries: { alertmanager: 'github.com/prometheus/alertmanager/cmd/alertmanager', amtool: 'github.com/prometheus/alertmanager/cmd/amtool' },
    ldflags: prometheusVersionFlags,
  },
  {
    module: 'postgres_exporter',
    upstream: 'github.com/prometheus-community/postgres_exporter',
    binaries: { postgres_exporter: 'github.com/prometheus-community/postgres_exporter/cmd/postgres_exporter' },
    ldflags: prometheusVersionFlags,
  },
];

export const toolsBin = path.join(root, '.tools', 'bin');

/** The version a tool module requires of its upstream module, from its go.mod. */
export function pinnedVersion(tool: GoTool): string {
  const goMod = readFileSync(path.join(root, 'tools', tool.module, 'go.mod'), 'utf8');
  const escaped = tool.upstream.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`tools: tools/${tool.module}/go.mod requires no ${tool.upstream}`);
  return match[1];
}

function goVersion(): string {
  return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
}

/** A key for one build: the module's files (sources, go.mod, go.sum), the Go version, this script's flags. */
function buildKey(tool: GoTool, go: string): string {
  const hash = createHash('sha256').update(go).update(JSON.stringify(tool.binaries)).update(String(tool.ldflags?.(pinnedVersion(tool)) ?? ''));
  const dir = path.join(root, 'tools', tool.module);
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(path.join(dir, file)));
  return hash.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return process.env.UUID_LOOKUP_TOOLS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'uuid-lookup-observability', 'tools');
}

function build(tool: GoTool, into: string): void {
  const version = pinnedVersion(tool);
  const ldflags = ['-s', '-w', ...(tool.ldflags?.(version) ?? [])].join(' ');
  const partial = `${into}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  for (const [binary, pkg] of Object.entries(tool.binaries)) {
    const started = Date.now();
    const result = spawnSync('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', path.join(partial, binary), pkg], {
      cwd: path.join(root, 'tools', tool.module),
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0) {
      // Nothing half-built is kept: the next run builds this tool again.
      rmSync(partial, { recursive: true, force: true });
      if (result.signal === 'SIGINT' || result.signal === 'SIGTERM') {
        process.stderr.write(`tools: interrupted while building ${binary}; run npm run tools again to finish\n`);
        process.exit(result.signal === 'SIGINT' ? 130 : 143);
      }
      throw new Error(`tools: go build of ${binary} (${tool.upstream} ${version}) failed`);
    }
    process.stdout.write(`tools: built ${binary} ${version} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  // A second process building the same key at once: the first rename wins, the other's work is dropped.
  try {
    renameSync(partial, into);
  } catch {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Half-built folders of runs that were killed (their process is gone). */
function removeAbandonedBuilds(): void {
  let entries: string[];
  try {
    entries = readdirSync(cacheRoot());
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/\.partial-(\d+)$/.exec(entry)?.[1] ?? Number.NaN);
    if (!Number.isInteger(pid)) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(path.join(cacheRoot(), entry), { recursive: true, force: true });
    }
  }
}

function generateCollectorSources(): void {
  const ocbDir = path.join(cacheRoot(), 'ocb');
  const ocb = path.join(ocbDir, 'ocb');
  mkdirSync(ocbDir, { recursive: true });
  execFileSync('go', ['build', '-o', ocb, 'go.opentelemetry.io/collector/cmd/builder'], { cwd: path.join(root, 'tools', 'ocb'), stdio: 'inherit' });
  execFileSync(ocb, ['--config=otel-collector/builder-config.yaml', '--skip-compilation'], { cwd: root, stdio: 'inherit' });
}

function main(argv: string[]): void {
  const unknown = argv.filter((a) => !['--generate', '--list'].includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`tools: unknown option ${unknown.join(' ')} (use --generate or --list)\n`);
    process.exit(2);
  }
  if (argv.includes('--list')) {
    for (const tool of goTools) {
      for (const binary of Object.keys(tool.binaries)) {
        const file = path.join(toolsBin, binary);
        process.stdout.write(`${binary}\t${pinnedVersion(tool)}\t${existsSync(file) ? file : '(not built: npm run tools)'}\n`);
      }
    }
    return;
  }
  if (spawnSync('go', ['version']).status !== 0) {
    process.stderr.write('tools: Go is needed to build the collector, Prometheus, Alertmanager and postgres_exporter (go.dev/doc/install)\n');
    process.exit(1);
  }
  if (argv.includes('--generate')) generateCollectorSources();
  const go = goVersion();
  // Ctrl-C reaches `go build` too (one process group): this process waits for it to
  // stop, then removes what it half-built (build() above) instead of dying first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {});
  removeAbandonedBuilds();
  mkdirSync(toolsBin, { recursive: true });
  for (const tool of goTools) {
    const cached = path.join(cacheRoot(), `${tool.module}-${buildKey(tool, go)}`);
    if (!existsSync(cached)) build(tool, cached);
    for (const binary of Object.keys(tool.binaries)) {
      const target = path.join(toolsBin, binary);
      rmSync(target, { force: true });
      copyFileSync(path.join(cached, binary), target);
      chmodSync(target, 0o755);
    }
    process.stdout.write(`tools: ${Object.keys(tool.binaries).join(', ')} ${pinnedVersion(tool)} ready (${go})\n`);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
