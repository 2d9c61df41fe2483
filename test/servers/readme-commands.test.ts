import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A newcomer's first minutes: clone, then the README's first two commands, with
// only Node on the machine (no DATABASE_URL: the embedded database).
const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const commands = [...readme.matchAll(/^(npm [^#\n]+?)\s+#/gm)].slice(0, 2).map((m) => (m[1] ?? '').trim());

describe("the README's first two commands, from a clean clone", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-clone-'));
  const clone = path.join(dir, 'uuid-lookup-observability');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are the demo and the tests', () => {
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('runs the demo on the embedded database', () => {
    execFileSync('git', ['clone', '--quiet', root, clone]);
    // No DATABASE_URL: the newcomer's machine has none, so the embedded database is used.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL'));
    const start = spawnSync('sh', ['-c', commands[0] ?? 'false'], { cwd: clone, env, encoding: 'utf8', timeout: 300_000 });
    expect(start.status, start.stderr.slice(-3000)).toBe(0);
    expect(start.stdout).toContain('== database: embedded PGlite');
    expect(start.stdout).toMatch(/migration: \d+ jobs/);
    expect(start.stdout).toContain('== thresholds');
  }, 600_000);

  // The second command is what CI runs on its clean checkout (.ci/run: `npm ci`, then
  // `npm test`), so it is run there once rather than a second time here.
  it('has the tests run by CI as the README gives them: npm ci, then npm test, before any server test', () => {
    const steps = readFileSync(path.join(root, '.ci/run'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('npm '));
    const install = steps.findIndex((s) => /^npm ci\b/.test(s));
    const unit = steps.indexOf('npm test');
    expect(install).toBeGreaterThanOrEqual(0);
    expect(unit).toBeGreaterThan(install);
    expect(steps.slice(0, unit).some((s) => s.startsWith('npm run test:'))).toBe(false);
    expect(commands[1]?.split(' && ')).toEqual(['npm ci', 'npm test']);
  });
});
