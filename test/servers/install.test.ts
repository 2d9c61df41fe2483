import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverTestDatabase } from '../support/test-databases.ts';

// The package as people get it: a clone of the repository, a tarball from npm
// pack, and npm install from the git URL (npm builds it with `prepare`).
const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-install-'));
const clone = path.join(dir, 'uuid-lookup-observability');
// Node 24 first on PATH (the package needs Node >= 22.15; the machine's may be older); no DATABASE_URL.
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL')),
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
};
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline'];

function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 240_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** An empty application project. */
function newApp(name: string): string {
  const app = path.join(dir, name);
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return app;
}

/** The checks an installed copy must pass: the bin, the migrations it ships (on request: it takes seconds), and the four entry points. */
function expectWorkingInstall(app: string, options: { migrations: boolean }): void {
  const help = run('npx', ['--no-install', 'uuid-lookup', '--help'], app);
  expect(help.status, help.stderr).toBe(0);
  expect(help.stdout).toContain('Usage: uuid-lookup');
  if (options.migrations) {
    const apply = run('npx', ['--no-install', 'uuid-lookup', 'db', 'apply', '--json', '--data-dir', path.join(app, 'pglite')], app);
    expect(apply.status, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('20261128000100');
  }
  const entries = run(
    'node',
    [
      '--input-type=module',
      '-e',
      `const core = await import('uuid-lookup-observability');
       const browser = await import('uuid-lookup-observability/browser');
       const node = await import('uuid-lookup-observability/node');
       const mixin = await import('uuid-lookup-observability/mixin');
       core.uuidLookupLogger.logSuccess('wall-painting', 'uuid-123', 25, false);
       const files = mixin.renderMonitoringFiles(mixin.resolveMixinConfig({ lookupJob: 'booking-web' }));
       console.log(JSON.stringify({ total: core.uuidLookupLogger.getMetrics().totalLookups,
         browser: typeof browser.createBrowserTelemetry, node: typeof node.createNodeTelemetry,
         mixin: files.get('prometheus/rules/uuid-lookup.rules.yml').includes('job="booking-web"') }));`,
    ],
    app,
  );
  expect(entries.status, entries.stderr).toBe(0);
  expect(JSON.parse(entries.stdout)).toEqual({ total: 1, browser: 'function', node: 'function', mixin: true });
}

/** Runs each command with sh in the clone against a new database of its own; each must exit 0. */
async function runInClone(commands: string[], options: { migrate: boolean }): Promise<void> {
  const database = await serverTestDatabase(options);
  try {
    for (const command of commands) {
      const result = run('sh', ['-c', command], clone, { DATABASE_URL: database.url ?? '' });
      expect(result.status, `${command}\n${result.stderr}`).toBe(0);
    }
  } finally {
    await database.dispose();
  }
}

describe('installing the package', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('from a clone: npm ci builds it, and npx uuid-lookup works', () => {
    execFileSync('git', ['clone', '--quiet', root, clone]);
    expect(existsSync(path.join(clone, 'dist'))).toBe(false); // dist/ is not in git
    const ci = run('npm', ['ci', ...NPM_QUIET], clone);
    expect(ci.status, ci.stderr.slice(-3000)).toBe(0);
    const help = run('npx', ['--no-install', 'uuid-lookup', '--help'], clone);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: uuid-lookup');
  }, 240_000);

  it("runs the Phase 6 commands of docs/analytics.md as written, in the clone", async () => {
    const doc = readFileSync(path.join(clone, 'docs/analytics.md'), 'utf8');
    const block = /^# Phase 6[^\n]*\n+```sh\n([\s\S]*?)```/m.exec(doc)?.[1] ?? '';
    const commands = block.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(commands).toHaveLength(3);
    await runInClone(commands, { migrate: true });
  }, 120_000);

  it("runs the README's CLI commands in their order, in the clone: each exits 0 on a new database", async () => {
    const readme = readFileSync(path.join(clone, 'README.md'), 'utf8');
    const block = /^## The CLI, in the order you run it\n[\s\S]*?```sh\n([\s\S]*?)```/m.exec(readme)?.[1] ?? '';
    const commands = block.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(commands[0]).toBe('npx uuid-lookup db apply');
    // The worker runs until stopped: the worker's own tests start and stop it.
    const once = commands.filter((c) => c !== 'npx uuid-lookup worker');
    expect(once.length).toBe(commands.length - 1);
    await runInClone(once, { migrate: false });
  }, 120_000);

  it('from the tarball of npm pack: a working bin and entry points, without the optional supabase-js', () => {
    const pack = run('npm', ['pack', '--json', '--pack-destination', dir], clone);
    expect(pack.status, pack.stderr.slice(-3000)).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = new Set(packed?.files.map((f) => f.path));
    const stackFiles = ['otel-collector/config.yaml', 'otel-collector/builder-config.yaml', 'prometheus/prometheus.yml', 'prometheus/alertmanager.yml', 'prometheus/postgres-exporter/queries.yml'];
    for (const file of ['dist/cli/main.js', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/browser/index.js', 'dist/node/index.js', ...stackFiles]) {
      expect(files, file).toContain(file);
    }
    const app = newApp('tarball-app');
    const install = run('npm', ['install', ...NPM_QUIET, path.join(dir, packed?.filename ?? '')], app);
    expect(install.status, install.stderr.slice(-3000)).toBe(0);
    expect(existsSync(path.join(app, 'node_modules/@supabase/supabase-js'))).toBe(false);
    expectWorkingInstall(app, { migrations: true });
  }, 240_000);

  it('from the git URL: npm runs prepare, and the bin and entry points work', () => {
    const app = newApp('git-app');
    const install = run('npm', ['install', ...NPM_QUIET, `git+file://${clone}`], app);
    expect(install.status, install.stderr.slice(-3000)).toBe(0);
    expect(readdirSync(path.join(app, 'node_modules/uuid-lookup-observability/dist'))).toEqual(
      expect.arrayContaining(['browser', 'cli', 'core', 'mixin', 'node']),
    );
    expectWorkingInstall(app, { migrations: false }); // the same files as the tarball
  }, 240_000);
});
