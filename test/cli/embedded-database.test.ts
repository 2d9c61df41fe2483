import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../src/node/db/pglite-database.ts';
import { getUuidMigrationStats } from '../../src/node/migration/migration-stats.ts';
import { applyMigrations } from '../../src/node/schema/apply-migrations.ts';
import type { CliExit } from '../support/processes.ts';
import { runCliProcess } from '../support/processes.ts';

// The CLI as separate processes on one embedded database (PGlite: a single-user
// PostgreSQL in each process), as an operator runs it from two terminals.

const main = path.resolve('src/cli/main.ts');

const cli = (args: string[], onStderr?: (text: string, child: ChildProcess) => void): Promise<CliExit> =>
  runCliProcess(args, onStderr === undefined ? {} : { onStderr });

/** Every field of the stats, counted from the tables. */
async function statsAreExact(dataDir: string, jobs: number): Promise<void> {
  const db = await createPgliteDatabase({ dataDir });
  try {
    const stats = await getUuidMigrationStats(db);
    const { rows } = await db.query<{ with_uuid: number; logged: number; distinct_jobs: number; success: number }>(
      `SELECT (SELECT count(*)::int FROM jobs WHERE micro_uuid IS NOT NULL) AS with_uuid,
              (SELECT count(*)::int FROM uuid_migration_log) AS logged,
              (SELECT count(DISTINCT job_id)::int FROM uuid_migration_log) AS distinct_jobs,
              (SELECT count(*)::int FROM uuid_migration_log WHERE migration_status = 'success') AS success`,
    );
    const counted = rows[0];
    expect(stats.total_jobs).toBe(jobs);
    expect(stats.jobs_with_uuid).toBe(counted?.with_uuid);
    expect(counted?.logged).toBe(counted?.distinct_jobs);
    expect(stats.successful_migrations).toBe(counted?.success);
    expect(stats.successful_migrations).toBe(stats.jobs_with_uuid);
    // The indexes agree with the heap: a corrupted index would fail here.
    await db.exec('REINDEX TABLE jobs; REINDEX TABLE uuid_migration_log;');
  } finally {
    await db.close();
  }
}

describe('the embedded database, one process at a time', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-one-writer-'));
  const dataDir = path.join(dir, 'db');
  const JOBS = 30_000;

  beforeAll(async () => {
    const db = await createPgliteDatabase({ dataDir });
    try {
      await applyMigrations(db);
      await db.exec(`
        INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 40) g;
        INSERT INTO jobs (micro_id) SELECT 'service-' || (g % 50) FROM generate_series(1, ${JOBS}) g;
      `);
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets two processes started together in one at a time, and is never corrupted', async () => {
    for (let round = 0; round < 4; round += 1) {
      const [a, b] = await Promise.all([
        cli(['migrate', '--batch-size', '700', '--data-dir', dataDir, '--json']),
        cli([round % 2 === 0 ? 'migrate' : 'stats', '--data-dir', dataDir, '--json']),
      ]);
      // Started together they usually overlap, and then exactly one is refused;
      // on a loaded machine the first may be done before the second looks.
      const refused = [a, b].filter((run) => run.code !== 0);
      expect(refused.length, `round ${round}: ${a.stderr} ${b.stderr}`).toBeLessThanOrEqual(1);
      for (const run of refused) {
        expect(run.code).toBe(1);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        expect(run.stderr).toMatch(/^uuid-lookup: the embedded database in .+ is in use by pid \d+ on .+ \(uuid-lookup (migrate|stats) .+, since .+\); one process at a time/);
      }
    }
    await statsAreExact(dataDir, JOBS);
  });

  it('refuses every other process while one holds the folder, naming it, and lets them in after', async () => {
    const holder = spawn(process.execPath, [main, 'worker', '--data-dir', dataDir, '--metrics-port', '0', '--interval', '3600'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    holder.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!said.includes('metrics at') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      for (const command of [['migrate'], ['stats'], ['db', 'apply']]) {
        const started = Date.now();
        const run = await cli([...command, '--data-dir', dataDir]);
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toMatch(new RegExp(`^uuid-lookup: the embedded database in .+ is in use by pid ${holder.pid} on .+ \\(uuid-lookup worker --data-dir`));
        expect(Date.now() - started).toBeLessThan(15_000);
      }
    } finally {
      holder.kill('SIGTERM');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    const after = await cli(['stats', '--data-dir', dataDir, '--json']);
    expect(after.code, after.stderr).toBe(0);
    await statsAreExact(dataDir, JOBS);
  });

  it('takes over at once from a holder that was killed, and ends the run it left going', async () => {
    // Killed after its first batch (the progress line it prints then).
    const killed = await cli(['migrate', '--batch-size', '200', '--mode', 'all', '--data-dir', dataDir], (text, child) => {
      if (text.includes('migrating:')) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    const runId = /^run ([0-9a-f-]{36}) /m.exec(killed.stderr)?.[1];
    expect(runId, killed.stderr).toBeDefined();
    expect(existsSync(`${dataDir}.lock`)).toBe(true); // left behind by the dead holder
    const started = Date.now();
    const after = await cli(['stats', '--data-dir', dataDir, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    // Its runner is gone for certain (one process holds the folder): the run is marked stopped, once, and said so.
    expect(after.stderr).toContain(`note: run ${runId} was left unfinished by a process that ended (killed?): marked stopped`);
    const runs = await cli(['migrate', 'runs', '--data-dir', dataDir, '--json']);
    expect(runs.stderr).not.toContain('note:');
    const run = (JSON.parse(runs.stdout) as { runs: { run_id: string; state: string; finished_at: string | null }[] }).runs.find((r) => r.run_id === runId);
    expect(run).toMatchObject({ state: 'stopped' });
    expect(run?.finished_at).not.toBeNull();
    await statsAreExact(dataDir, JOBS);
  });

  it('stops after the current batch on Ctrl-C, exits 130, and keeps every finished batch', async () => {
    const reset = await createPgliteDatabase({ dataDir });
    await reset.exec('UPDATE jobs SET micro_uuid = NULL; DELETE FROM uuid_migration_log;');
    await reset.close();
    let signalled = false;
    const run = await cli(['migrate', '--batch-size', '200', '--data-dir', dataDir], (text, child) => {
      if (!signalled && text.includes('migrating:')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('stopping after the current batch');
    expect(run.stdout).toMatch(/stopped_early\s+true/);
    const processed = Number(/processed\s+(\d+)/.exec(run.stdout)?.[1]);
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThan(JOBS);
    await statsAreExact(dataDir, JOBS);
    const db = await createPgliteDatabase({ dataDir });
    const logged = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM uuid_migration_log');
    await db.close();
    expect(logged.rows[0]?.n).toBe(processed);
  });

  it('refuses a --data-dir that is a file, or a folder of other files, writing nothing', async () => {
    const file = path.join(dir, 'notes.txt');
    writeFileSync(file, 'mine');
    const onFile = await cli(['stats', '--data-dir', file]);
    expect(onFile.code).toBe(1);
    expect(onFile.stderr).toBe(`uuid-lookup: --data-dir ${file} is a file, not a folder: name a folder for the embedded database\n`);

    const folder = path.join(dir, 'photos');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'cat.jpg'), 'not a database');
    const onFolder = await cli(['db', 'apply', '--data-dir', folder]);
    expect(onFolder.code).toBe(1);
    expect(onFolder.stderr.trim().split('\n')).toHaveLength(1);
    expect(onFolder.stderr).toContain('holds files but no embedded database');
    expect(readdirSync(folder)).toEqual(['cat.jpg']);
    expect(readdirSync(dir).filter((name) => name.startsWith('photos'))).toEqual(['photos']);
  });
});

describe('report regions, when clients name many regions', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-regions-'));
  const dataDir = path.join(dir, 'db');
  const REGIONS = 3_000;

  beforeAll(async () => {
    const db = await createPgliteDatabase({ dataDir });
    try {
      await applyMigrations(db);
      // A region each, all kept: the bound raised above them (the rollups keep 200 an hour by default).
      await db.exec(`UPDATE analytics_rollup_limits SET regions_per_hour = ${REGIONS}`);
      await db.exec(`
        INSERT INTO analytics_events (event_name, event_category, event_properties, session_id, region)
        SELECT 'uuid_lookup', 'wizard_flow',
               jsonb_build_object('micro_slug', 'tiling', 'micro_uuid', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90',
                                  'lookup_time_ms', g, 'success', true, 'fallback_used', false),
               'session-' || g, 'region-' || g
        FROM generate_series(1, ${REGIONS}) g`);
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the slowest 50 as a table and says how many more there are; --json has every one', async () => {
    const table = await cli(['report', 'regions', '--data-dir', dataDir]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('region-'))).toHaveLength(50);
    expect(lines.find((line) => line.startsWith('region-'))).toMatch(/^region-3000 /); // the slowest first
    expect(lines.at(-1)).toBe(`(${REGIONS - 50} more regions not shown, the slowest and most failing come first: --json has every one)`);
    const json = await cli(['report', 'regions', '--data-dir', dataDir, '--json']);
    expect((JSON.parse(json.stdout) as { rows: unknown[] }).rows).toHaveLength(REGIONS);
  });
});
