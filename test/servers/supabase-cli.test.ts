import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/node/reports/doctor.ts';
import { applyMigrations } from '../../src/node/schema/apply-migrations.ts';
import { runCliProcess } from '../support/processes.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// Supabase's own CLI (the npm package `supabase`, pinned) against PostgreSQL 15,
// as our users run it on a project without Docker: `db push` applies our
// migrations, `migration list` agrees, `db lint` (plpgsql_check) at its default
// level finds nothing, `inspect db` reads the tables, and our `db apply` and
// `doctor` then agree with what Supabase's tools did.

const root = fileURLToPath(new URL('../..', import.meta.url));
const supabaseBin = path.join(root, 'node_modules', '.bin', 'supabase');

function supabase(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(supabaseBin, args, { cwd, timeout: 120_000, env: { ...process.env, DO_NOT_TRACK: '1', SUPABASE_TELEMETRY_DISABLED: '1' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('Supabase CLI 2.117.0 on our migrations', () => {
  let t: TestDatabase;
  let workdir: string;
  let dbUrl: string;
  const versions = readdirSync(path.join(root, 'supabase', 'migrations'))
    .filter((file) => file.endsWith('.sql'))
    .map((file) => file.slice(0, 14))
    .sort();

  beforeAll(async () => {
    t = await serverTestDatabase({ migrate: false });
    dbUrl = `${t.url ?? ''}?sslmode=disable`;
    // The CLI reads supabase/migrations under its working directory and may write supabase/.temp there.
    workdir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-supabase-cli-'));
    cpSync(path.join(root, 'supabase', 'migrations'), path.join(workdir, 'supabase', 'migrations'), { recursive: true });
  }, 60_000);

  afterAll(async () => {
    rmSync(workdir, { recursive: true, force: true });
    await t?.dispose();
  });

  it('db push applies every migration on a Supabase-shaped database, and a second push has nothing to do', async () => {
    const pushed = await supabase(['db', 'push', '--db-url', dbUrl, '--yes'], workdir);
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const version of versions) expect(pushed.stdout + pushed.stderr).toContain(`Applying migration ${version}_`);
    const again = await supabase(['db', 'push', '--db-url', dbUrl, '--yes'], workdir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toContain('Remote database is up to date');
  });

  it('migration list shows every local migration applied', async () => {
    const listed = await supabase(['migration', 'list', '--db-url', dbUrl], workdir);
    expect(listed.code, listed.stderr).toBe(0);
    for (const version of versions) {
      // One row per migration: local | remote | time.
      expect(listed.stdout, version).toMatch(new RegExp(`${version}\\S*\\s*\\|\\s*\\S*${version}`));
    }
  });

  it('db lint finds nothing at its default level (warning)', async () => {
    const linted = await supabase(['db', 'lint', '--db-url', dbUrl, '--level', 'warning', '--fail-on', 'warning'], workdir);
    expect(linted.code, linted.stdout).toBe(0);
    expect(linted.stdout.trim(), 'the findings, as JSON').toBe('');
    expect(linted.stderr).toContain('No schema errors found');
  });

  it('inspect db reads our tables', async () => {
    const inspected = await supabase(['inspect', 'db', 'table-stats', '--db-url', dbUrl], workdir);
    expect(inspected.code, inspected.stderr).toBe(0);
    for (const table of ['public.jobs', 'public.analytics_events', 'public.uuid_migration_log']) expect(inspected.stdout).toContain(table);
  });

  it('leaves nothing for db apply to do, and doctor finds every check ok', async () => {
    const applied = await applyMigrations(t.db);
    expect(applied.applied).toEqual([]);
    const failing = (await runDoctor(t.db)).filter((check) => !check.ok);
    expect(failing).toEqual([]);
    const cli = await runCliProcess(['db', 'apply', '--database-url', t.url ?? '', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ applied: [] });
  });
});
