import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/node/db/database.ts';
import { listMigrationRuns, rollbackMigrationRun } from '../../src/node/migration/migration-operations.ts';
import { requestRun } from '../../src/node/migration/migration-runs.ts';
import type { MigrationHold, RunJobUuidMigrationOptions, UuidMigrationRunResult } from '../../src/node/migration/run-job-uuid-migration.ts';
import { runJobUuidMigration } from '../../src/node/migration/run-job-uuid-migration.ts';
import { runCliProcess, waitFor } from '../support/processes.ts';
import { startStandby } from '../support/pg-cluster.ts';
import type { RunningPrometheus } from '../support/stack.ts';
import { parsePrometheusText } from '../support/prometheus-text.ts';
import { promQuery, startPostgresExporter, startPrometheus } from '../support/stack.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// The back-fill paced by the database's health (issue: "the back-fill as a
// production operation"): each indicator made unhealthy on purpose on the real
// server, a run that holds while it is, and goes on, exact, once it is not.

const JOBS = 6_000;

describe('back-fill pacing on PostgreSQL', () => {
  let t: TestDatabase;
  let db: Database;

  beforeEach(async () => {
    t = await serverTestDatabase();
    db = t.db;
    await db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 20) g;
      INSERT INTO jobs (micro_id) SELECT 'service-' || (g % 25) FROM generate_series(1, ${JOBS}) g;`);
  });
  afterEach(async () => {
    await t.dispose();
  });

  /** Starts a run that records its holds; resolves its result. */
  const startRun = (options: RunJobUuidMigrationOptions = {}): { holds: MigrationHold[]; done: Promise<UuidMigrationRunResult>; runId: string } => {
    const holds: MigrationHold[] = [];
    const runId = crypto.randomUUID();
    const done = runJobUuidMigration(db, {
      runId,
      batchSize: 500,
      ...options,
      pacing: { holdCheckMillis: 100, ...options.pacing },
      onHold: (hold) => holds.push(hold),
    });
    return { holds, done, runId };
  };
  const migrated = async (): Promise<number> =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM jobs WHERE micro_uuid IS NOT NULL')).rows[0]?.n);
  const runRow = async (runId: string) => (await listMigrationRuns(db)).find((r) => r.run_id === runId);

  /** The run holds for `reason`, shows it in the runs table, and makes no batch for a while. */
  async function expectHeld(run: ReturnType<typeof startRun>, reason: string): Promise<void> {
    await waitFor(`a hold for ${reason}`, async () => (run.holds.some((h) => h.reason === reason && !h.ended) ? true : undefined), 20_000);
    const before = await migrated();
    const row = await runRow(run.runId);
    expect(row).toMatchObject({ state: 'held', hold_reason: reason });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await migrated()).toBe(before);
  }

  /** The run went on after its hold, and did every job once. */
  async function expectFinished(run: ReturnType<typeof startRun>, reason: string): Promise<void> {
    const result = await run.done;
    expect(result.processed).toBe(JOBS);
    expect(result.heldMillis[reason as keyof typeof result.heldMillis]).toBeGreaterThan(500);
    expect(run.holds.some((h) => h.reason === reason && h.ended)).toBe(true);
    const row = await runRow(run.runId);
    expect(row).toMatchObject({ state: 'finished', jobs: JOBS, hold_reason: null });
    expect(row?.held_seconds[reason]).toBeGreaterThan(0.5);
    expect(row?.finished_at).not.toBeNull();
    expect(Date.parse(row?.finished_at ?? '')).toBeGreaterThan(Date.parse(row?.started_at ?? ''));
    expect(await migrated()).toBe((JOBS * 20) / 25);
  }

  it('holds while a session waits for a lock on jobs, and goes on when it gets it', async () => {
    const holder = t.connect?.();
    const waiter = t.connect?.();
    if (holder === undefined || waiter === undefined) throw new Error('a server database has connect()');
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held: () => void = () => {};
    const holds = new Promise<void>((resolve) => (held = resolve));
    // The app: one transaction holds a row, another waits for it.
    const holding = holder.transaction(async (tx) => {
      await tx.query("UPDATE jobs SET title = 'edited' WHERE id = (SELECT id FROM jobs ORDER BY id LIMIT 1)");
      held();
      await released;
    });
    await holds;
    const waiting = waiter.query("UPDATE jobs SET title = 'edited again' WHERE id = (SELECT id FROM jobs ORDER BY id LIMIT 1)");
    await waitFor('the app waiting for the row', async () => {
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
      return (rows[0]?.n ?? 0) > 0 ? true : undefined;
    });
    const run = startRun();
    await expectHeld(run, 'lock_waits');
    expect(run.holds[0]?.detail).toBe('1 session(s) waiting for a lock on jobs (limit 0)');
    release();
    await holding;
    await waiting;
    await expectFinished(run, 'lock_waits');
  });

  it('holds while a VACUUM runs on jobs, and goes on when it ends', async () => {
    const vacuuming = new pg.Client({ connectionString: t.url });
    await vacuuming.connect();
    // A VACUUM made slow on purpose (cost-based delay): it runs for as long as the test needs.
    const pid = (await vacuuming.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await vacuuming.query("SET vacuum_cost_delay = '50ms'");
    await vacuuming.query('SET vacuum_cost_limit = 1');
    const running = vacuuming.query('VACUUM (DISABLE_PAGE_SKIPPING) jobs').catch((error: unknown) => error);
    await waitFor('the VACUUM on jobs', async () => {
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_progress_vacuum WHERE relid = 'jobs'::regclass");
      return (rows[0]?.n ?? 0) > 0 ? true : undefined;
    });
    const run = startRun();
    await expectHeld(run, 'vacuum');
    await db.query('SELECT pg_cancel_backend($1)', [pid]);
    expect(String(await running)).toContain('canceling statement due to user request'); // as an operator would
    await vacuuming.end();
    await expectFinished(run, 'vacuum');
  });

  it('holds while WAL is written faster than its limit, and goes on when the rate falls', async () => {
    // 1 MiB a minute: the run's own batches go over it; the quiet of a hold comes under.
    const run = startRun({ pacing: { health: { maxWalBytesPerMinute: 1024 * 1024 }, holdCheckMillis: 1_000 } });
    await waitFor('a hold for wal_rate', async () => (run.holds.some((h) => h.reason === 'wal_rate') ? true : undefined), 20_000);
    expect(run.holds[0]?.detail).toMatch(/^WAL at [\d.]+ (KiB|MiB|GiB)\/min \(limit 1\.0 MiB\/min\)$/);
    const result = await run.done;
    expect(result.processed).toBe(JOBS);
    expect(result.heldMillis.wal_rate).toBeGreaterThan(0);
    expect(await migrated()).toBe((JOBS * 20) / 25);
  });

  it("holds while a replica's replay lag is over its limit, and goes on when it catches up", async () => {
    // A real hot standby of this cluster, streaming; its replay paused, as a replica busy
    // with a long query (or a slow disk) falls behind while the back-fill writes.
    const standby = await startStandby();
    const replica = new pg.Client({ connectionString: standby.url });
    try {
      await waitFor('the standby streaming', async () => {
        const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'");
        return (rows[0]?.n ?? 0) > 0 ? true : undefined;
      });
      await replica.connect();
      await replica.query('SELECT pg_wal_replay_pause()');
      // The app writes; the replica receives it and does not replay it: its lag grows.
      await db.query("UPDATE micro_services SET name = 'renamed' WHERE slug = 'service-1'");
      await waitFor('the replay lag over 1 s', async () => {
        const { rows } = await db.query<{ lag: number | null }>('SELECT max(extract(epoch FROM replay_lag))::float8 AS lag FROM pg_stat_replication');
        return (rows[0]?.lag ?? 0) > 1 ? true : undefined;
      });
      const run = startRun({ pacing: { health: { maxReplicationLagSeconds: 1 } } });
      await expectHeld(run, 'replication_lag');
      expect(run.holds.find((h) => h.reason === 'replication_lag')?.detail).toMatch(/^a replica's replay lag is \d+\.\d s \(limit 1 s\)$/);
      await replica.query('SELECT pg_wal_replay_resume()');
      await expectFinished(run, 'replication_lag');
      // The replica replayed the back-fill: it holds the same migrated jobs.
      await waitFor('the replica to replay the run', async () => {
        const { rows } = await db.query<{ behind: boolean }>('SELECT bool_or(replay_lsn < pg_current_wal_lsn()) AS behind FROM pg_stat_replication');
        return rows[0]?.behind === false ? true : undefined;
      });
    } finally {
      await replica.end().catch(() => {});
      standby.stop();
    }
  });

  it('holds while Prometheus has an alert firing, and goes on when it resolves', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-pacing-'));
    let prometheus: RunningPrometheus | undefined;
    try {
      // A real alert that fires for the first seconds of the test, then resolves.
      const until = Math.round(Date.now() / 1000) + 12;
      const rules = path.join(dir, 'hold.rules.yml');
      writeFileSync(
        rules,
        `groups:\n  - name: hold\n    rules:\n      - alert: DatabaseUnderLoad\n        expr: vector(time()) < ${until}\n        labels:\n          severity: critical\n`,
      );
      prometheus = await startPrometheus(dir, { targets: {}, rulesFile: rules });
      const url = prometheus.url;
      await waitFor('the alert firing', async () => ((await promQuery(url, 'ALERTS{alertstate="firing"}')).data.result.length > 0 ? true : undefined));
      const run = startRun({ pacing: { health: { prometheus: { url, query: 'ALERTS{alertstate="firing",severity="critical"}' } } } });
      await expectHeld(run, 'prometheus');
      expect(run.holds[0]?.detail).toBe('1 series from the hold query: DatabaseUnderLoad');
      await expectFinished(run, 'prometheus');
    } finally {
      await prometheus?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('aims batches at a target time: from 50 jobs a batch the size grows by steps, and the run stays exact', async () => {
    const sizes: { asked: number; next: number; ms: number }[] = [];
    const result = await runJobUuidMigration(db, {
      batchSize: 50,
      pacing: { targetBatchMillis: 150, health: false },
      onBatch: (batch) => void sizes.push({ asked: batch.batchSize, next: batch.nextBatchSize, ms: batch.durationMs }),
    });
    expect(result.processed).toBe(JOBS);
    expect(sizes[0]?.asked).toBe(50);
    // Small batches are quick: each step grows by at most x1.2, and only the last batch (the rest) is short.
    for (const [i, s] of sizes.slice(0, -1).entries()) expect(s.next, `batch ${i}`).toBeLessThanOrEqual(Math.round(s.asked * 1.2));
    expect(Math.max(...sizes.map((s) => s.asked))).toBeGreaterThan(200);
    expect(await migrated()).toBe((JOBS * 20) / 25);
  });

  it('holds while Prometheus does not answer, shows it through the Postgres exporter, and stops for good when cancelled from another connection', async () => {
    const run = startRun({ pacing: { health: { prometheus: { url: 'http://127.0.0.1:1', query: 'up' } } } });
    await expectHeld(run, 'prometheus');
    expect(run.holds[0]?.detail).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:1 did not answer/);
    // What UuidMigrationRunHeldLong and the "Back-fill runs" panels read: the shipped exporter queries.
    const exporter = await startPostgresExporter(`${t.url ?? ''}?sslmode=disable`);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const samples = parsePrometheusText(await (await fetch(`http://${exporter.address}/metrics`)).text());
      const value = (name: string, state: string) => samples.find((m) => m.name === name && m.labels.state === state)?.value;
      expect([value('uuid_migration_runs_active', 'held'), value('uuid_migration_runs_active', 'running'), value('uuid_migration_runs_active', 'paused')]).toEqual([1, 0, 0]);
      expect(value('uuid_migration_runs_longest_hold_seconds', 'held')).toBeGreaterThan(1);
      expect(value('uuid_migration_runs_longest_silence_seconds', 'held')).toBeLessThan(5); // a heartbeat each hold check
    } finally {
      await exporter.process.stop();
    }
    const other = t.connect?.();
    if (other === undefined) throw new Error('a server database has connect()');
    // Rolling back a run that is still going is refused: it would go on under the same id.
    await expect(rollbackMigrationRun(other, run.runId)).rejects.toThrow(/is still going \(held\): cancel it first/);
    await requestRun(other, run.runId, 'cancel');
    const result = await run.done;
    expect(result).toMatchObject({ cancelled: true, processed: 0 });
    expect(await runRow(run.runId)).toMatchObject({ state: 'cancelled', requested: 'cancel' });
    await expect(requestRun(other, run.runId, 'resume')).rejects.toThrow(/has ended \(cancelled\): nothing to resume/);
  });
});

describe('pause, resume and cancel from another process (the CLI on PostgreSQL)', () => {
  let t: TestDatabase;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await serverTestDatabase();
    await t.db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 20) g;
      INSERT INTO jobs (micro_id) SELECT 'service-' || (g % 25) FROM generate_series(1, 20000) g;`);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await t.dispose();
  });

  it('obeys within one batch: pauses, resumes, is cancelled; the rollback waits for the cancel', async () => {
    const url = t.url ?? '';
    const runs = async () => (JSON.parse((await runCliProcess(['migrate', 'runs', '--database-url', url, '--json'])).stdout) as { runs: { run_id: string; state: string; jobs: number; held_seconds: Record<string, number> }[] }).runs;
    let runId = '';
    const migrating = runCliProcess(['migrate', '--database-url', url, '--batch-size', '200', '--batch-delay', '150', '--hold-check', '1'], {
      onStderr: (text, child) => {
        if (!children.includes(child)) children.push(child);
        runId = /^run ([0-9a-f-]{36}) /m.exec(text)?.[1] ?? runId;
      },
    });
    await waitFor('the run to start', async () => (runId !== '' && (await runs()).some((r) => r.run_id === runId && r.jobs > 0) ? true : undefined));

    const paused = await runCliProcess(['migrate', 'pause', runId, '--database-url', url]);
    expect(paused.code, paused.stderr).toBe(0);
    await waitFor('the run paused', async () => ((await runs()).find((r) => r.run_id === runId)?.state === 'paused' ? true : undefined), 10_000);
    const jobsPaused = (await runs()).find((r) => r.run_id === runId)?.jobs;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await runs()).find((r) => r.run_id === runId)?.jobs).toBe(jobsPaused);

    // A one-off migrate has no /metrics: its batches reach Prometheus through the exporter's view of the runs table.
    const exporter = await startPostgresExporter(`${url}?sslmode=disable`);
    try {
      const samples = parsePrometheusText(await (await fetch(`http://${exporter.address}/metrics`)).text());
      const value = (name: string) => samples.find((m) => m.name === `uuid_migration_run_batches_${name}`)?.value;
      const row = (
        await t.db.query<{ batches: string; batch_seconds: number; last_batch_ms: number }>(
          'SELECT batches, batch_seconds, last_batch_ms FROM uuid_migration_runs WHERE run_id = $1',
          [runId],
        )
      ).rows[0];
      expect(value('jobs')).toBe(jobsPaused);
      expect(value('batches')).toBe(Number(row?.batches));
      expect(value('batches')).toBeGreaterThan(0);
      expect(value('batch_seconds')).toBeCloseTo(row?.batch_seconds ?? -1, 6);
      expect(value('last_batch_seconds')).toBeCloseTo((row?.last_batch_ms ?? -1) / 1000, 6);
      expect(value('last_batch_seconds')).toBeGreaterThan(0);
      expect(value('batch_size')).toBe(200);
      // Paused, with --batch-delay 150 before: most of its time is not in batches.
      expect(value('time_efficiency_ratio')).toBeGreaterThan(0);
      expect(value('time_efficiency_ratio')).toBeLessThan(0.9);
    } finally {
      await exporter.process.stop();
    }

    const refused = await runCliProcess(['migrate', 'rollback', runId, '--database-url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is still going (paused): cancel it first, then roll it back');

    expect((await runCliProcess(['migrate', 'resume', runId, '--database-url', url])).code).toBe(0);
    await waitFor('the run going on', async () => (((await runs()).find((r) => r.run_id === runId)?.jobs ?? 0) > (jobsPaused ?? 0) ? true : undefined), 10_000);

    expect((await runCliProcess(['migrate', 'cancel', runId, '--database-url', url])).code).toBe(0);
    const ended = await migrating;
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/cancelled\s+true/);
    expect(ended.stderr).toContain('holding (paused): paused by an operator');
    const run = (await runs()).find((r) => r.run_id === runId);
    expect(run?.state).toBe('cancelled');
    expect(run?.jobs).toBeLessThan(20_000);
    expect(run?.held_seconds.paused).toBeGreaterThan(1);

    const rolledBack = await runCliProcess(['migrate', 'rollback', runId, '--database-url', url, '--json']);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const again = await runCliProcess(['migrate', 'rollback', runId, '--database-url', url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('was rolled back already');
  });
});
