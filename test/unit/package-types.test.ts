import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The published declarations, as an application meets them: built from the
// sources, installed with the dependencies npm would install (never the optional
// peer @supabase/supabase-js), and type-checked with skipLibCheck: false.
const root = path.resolve(import.meta.dirname, '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

describe('the package types, in an application without @supabase/supabase-js', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-types-'));
  const modules = path.join(dir, 'node_modules');
  const link = (name: string): void => {
    mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name), 'dir');
  };
  beforeAll(() => {
    const pkg = path.join(modules, 'uuid-lookup-observability');
    mkdirSync(pkg, { recursive: true });
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')], { stdio: 'pipe' });
    cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    const required = Object.keys(manifest.peerDependencies).filter((name) => manifest.peerDependenciesMeta[name]?.optional !== true);
    for (const name of [...Object.keys(manifest.dependencies), ...required]) link(name);
    link('@types/node'); // a Node application has Node's types; the browser one below does not
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const typeCheck = (name: string, source: string, compilerOptions: Record<string, unknown>) => {
    writeFileSync(path.join(dir, `${name}.ts`), source);
    writeFileSync(
      path.join(dir, `tsconfig.${name}.json`),
      JSON.stringify({
        compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', ...compilerOptions },
        files: [`${name}.ts`],
      }),
    );
    return spawnSync(process.execPath, [tsc, '-p', path.join(dir, `tsconfig.${name}.json`)], { cwd: dir, encoding: 'utf8' });
  };

  it('has no @supabase/supabase-js to resolve (the premise of the test)', () => {
    expect(() => createRequire(path.join(dir, 'app.js')).resolve('@supabase/supabase-js')).toThrow();
  });

  it('type-checks a Node application using the core and node entry points', () => {
    const result = typeCheck(
      'node-app',
      `import { createSupabaseAnalyticsSink, createSupabaseSlugSource, submitJob, uuidLookupLogger } from 'uuid-lookup-observability';
       import type { SupabaseClientLike } from 'uuid-lookup-observability';
       import { createNodeTelemetry, createPgAnalyticsSink } from 'uuid-lookup-observability/node';
       declare const client: SupabaseClientLike;
       const telemetry = createNodeTelemetry({ serviceName: 'app', prometheus: { port: 9464 }, shutdownTimeoutMillis: 1000 });
       uuidLookupLogger.setSink(createSupabaseAnalyticsSink({ client }));
       export const parts = [telemetry, createSupabaseSlugSource(client), submitJob, createPgAnalyticsSink];
       uuidLookupLogger.logSuccess('wall-painting', 'uuid-123', 25, false);`,
      { lib: ['es2023'], types: ['node'] },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it('type-checks a browser application using the core and browser entry points', () => {
    const result = typeCheck(
      'browser-app',
      `import { createSupabaseAnalyticsSink, uuidLookupLogger, withKeepalive } from 'uuid-lookup-observability';
       import type { SupabaseClientLike } from 'uuid-lookup-observability';
       import { createBrowserTelemetry, installPageHideFlush } from 'uuid-lookup-observability/browser';
       declare const client: SupabaseClientLike;
       const telemetry = createBrowserTelemetry({ serviceName: 'wizard', otlpUrl: '/otel/v1/metrics' });
       uuidLookupLogger.setSink(createSupabaseAnalyticsSink({ client }));
       installPageHideFlush({ logger: uuidLookupLogger, telemetry });
       export const fetchWithKeepalive = withKeepalive(fetch);`,
      { lib: ['es2023', 'dom'], types: [] },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it('type-checks a build script using the mixin entry point', () => {
    const result = typeCheck(
      'mixin-script',
      `import { renderMonitoringFiles, resolveMixinConfig } from 'uuid-lookup-observability/mixin';
       import type { MixinConfigInput } from 'uuid-lookup-observability/mixin';
       const input: MixinConfigInput = { lookupJob: 'booking-web', thresholds: { lookup_latency: { warning: 80, critical: 250 } }, grafana: { folder: 'Bookings' } };
       const files: Map<string, string> = renderMonitoringFiles(resolveMixinConfig(input));
       export const paths = [...files.keys()];`,
      { lib: ['es2023'], types: ['node'] },
    );
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});
