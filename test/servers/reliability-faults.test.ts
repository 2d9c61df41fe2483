import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import type { Database } from '../../src/node/db/database.ts';
import { createPgDatabase } from '../../src/node/db/pg-database.ts';
import { getUuidMigrationStats } from '../../src/node/migration/migration-stats.ts';
import { listMigrationRuns } from '../../src/node/migration/migration-operations.ts';
import { runJobUuidMigration } from '../../src/node/migration/run-job-uuid-migration.ts';
import { createPgAnalyticsSink } from '../../src/node/sdk/pg-analytics-sink.ts';
import { collectMetrics, counterValue, createTestMeter } from '../support/metric-collection.ts';
import { waitFor } from '../support/processes.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// Faults on real servers: the network to PostgreSQL cut, backends terminated,
// the server restarted, runs racing, statements timing out.
const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';

function urlThrough(t: TestDatabase, port: number, extra = ''): string {
  const url = new URL(t.url ?? '');
  url.port = String(port);
  return `${url.toString()}${extra}`;
}

describe('analytics sink faults (the network to PostgreSQL cut)', () => {
  let t: TestDatabase;
  let proxy: TcpProxy;
  let db: Database;
  beforeEach(async () => {
    t = await serverTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    db = createPgDatabase({ url: urlThrough(t, proxy.port), maxConnections: 2 });
  });
  afterEach(async () => {
    await db.close().catch(() => {});
    await proxy.close();
    await t.dispose();
  });

  it('lands every accepted event exactly once after outages, even ones cut mid-write', async () => {
    const logger = createUuidLookupLogger({
      meter: createTestMeter().provider.getMeter('t'),
      sink: createPgAnalyticsSink({ db }),
      maxExportBatchSize: 25,
      scheduledDelayMillis: 20,
      maxQueueSize: 10_000,
      initialRetryDelayMillis: 20,
      maxRetryDelayMillis: 200,
    });
    let logged = 0;
    for (let round = 0; round < 8; round += 1) {
      for (let i = 0; i < 250; i += 1) {
        logger.logSuccess('wall-painting', UUID, 10 + (i % 50));
        logged += 1;
      }
      // Writes are in flight: cut the connection under them, keep it down a while.
      await new Promise((resolve) => setTimeout(resolve, 15));
      if (round % 2 === 0) {
        await proxy.down();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await proxy.up();
      }
    }
    await logger.shutdown({ timeoutMillis: 30_000 });
    const { rows } = await t.db.query<{ n: number; ids: number }>('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM analytics_events');
    expect(logger.getDroppedCounts()).toMatchObject({ queue_full: 0, rejected: 0, shutdown: 0 });
    expect(rows[0]).toEqual({ n: logged, ids: logged });
  });

  it('keeps memory bounded and counts the drops in metrics when the database never comes back', async () => {
    const { provider, reader } = createTestMeter();
    const logger = createUuidLookupLogger({
      meter: provider.getMeter('t'),
      sink: createPgAnalyticsSink({ db }),
      maxQueueSize: 200,
      initialRetryDelayMillis: 20,
      maxRetryDelayMillis: 100,
    });
    await proxy.down();
    for (let i = 0; i < 10_000; i += 1) logger.logFailure('unknown-service', 5, 'Service not found');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await logger.shutdown({ timeoutMillis: 300 });
    const dropped = logger.getDroppedCounts();
    // The queue held 200; the rest were refused as they came, then the 200 given up at shutdown.
    expect(dropped.queue_full).toBe(9800);
    expect(dropped.shutdown).toBe(200);
    const metrics = await collectMetrics(reader);
    expect(counterValue(metrics.get('uuid.lookup.events.dropped'), { reason: 'queue_full' })).toBe(9800);
    expect(counterValue(metrics.get('uuid.lookup.events.dropped'), { reason: 'shutdown' })).toBe(200);
    expect(logger.getMetrics().totalLookups).toBe(10_000); // metrics never depended on the sink
  });
});

describe('migration faults', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await serverTestDatabase();
    await t.db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 200) g;
      INSERT INTO jobs (micro_id) SELECT CASE WHEN g % 10 = 0 THEN 'legacy-' || g % 7 ELSE 'service-' || (1 + g % 200) END
      FROM generate_series(1, 60000) g;
    `);
  });
  afterEach(async () => {
    await t.dispose();
  });

  /** No job carries a UUID other than its slug's; one current outcome per job; the stats add up. */
  async function expectConsistent(): Promise<void> {
    const wrong = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs j LEFT JOIN micro_services s ON s.id = j.micro_uuid
       WHERE j.micro_uuid IS NOT NULL AND s.slug IS DISTINCT FROM j.micro_id`,
    );
    expect(wrong.rows[0]?.n).toBe(0);
    const latest = await t.db.query<{ jobs: number; latest: number; distinct_jobs: number }>(
      `SELECT (SELECT count(*)::int FROM jobs) AS jobs, count(*)::int AS latest, count(DISTINCT job_id)::int AS distinct_jobs
       FROM uuid_migration_log`,
    );
    expect(latest.rows[0]).toEqual({ jobs: 60_000, latest: 60_000, distinct_jobs: 60_000 });
    const stats = await getUuidMigrationStats(t.db);
    expect(stats.successful_migrations).toBe(stats.jobs_with_uuid);
    expect(stats.successful_migrations + stats.skipped_migrations + stats.failed_migrations).toBe(stats.total_jobs);
    expect(stats).toMatchObject({ total_jobs: 60_000, jobs_with_uuid: 54_000, skipped_migrations: 6000, failed_migrations: 0 });
  }

  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  it('completes with a new run after the backend of a running batch is terminated', async () => {
    const dbName = new URL(t.url ?? '').pathname.slice(1);
    let killed = 0;
    const first = runJobUuidMigration(t.db, {
      batchSize: 8000,
      onBatch: async () => {
        if (killed > 0) return;
        killed = 1;
        // Terminate the backend of the next batch while it runs: the first one seen
        // active in it (idle connections keep their last query's text too).
        void admin(async (c) => {
          const deadline = Date.now() + 10_000;
          while (Date.now() < deadline) {
            const { rows } = await c.query<{ ok: boolean }>(
              `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
               WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%migrate_job_uuids_batch%'`,
              [dbName],
            );
            if (rows.length > 0) return;
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        });
      },
    });
    await expect(first).rejects.toThrow();
    // The runs table says so: the run that lost its batch failed, with the error.
    const failed = (await listMigrationRuns(t.db)).filter((r) => r.state === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toMatch(/terminat/);
    const before = await getUuidMigrationStats(t.db);
    expect(before.jobs_with_uuid).toBeGreaterThan(0);
    expect(before.jobs_with_uuid).toBeLessThan(54_000);
    // The plain run visits every job still without a UUID, the skipped ones included.
    const second = await runJobUuidMigration(t.db, { batchSize: 8000 });
    expect(second.processed).toBe(before.jobs_without_uuid);
    await expectConsistent();
  });

  it('completes with a new run after the server restarts mid-run', async () => {
    const cluster = readdirSync('/etc/postgresql')[0] ?? '15';
    let restarted = false;
    const run = runJobUuidMigration(t.db, {
      batchSize: 4000,
      onBatch: () => {
        if (!restarted) {
          restarted = true;
          const restart = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'restart', '-m', 'fast'], { encoding: 'utf8' });
          expect(restart.status, restart.stderr).toBe(0);
        }
      },
    });
    await expect(run).rejects.toThrow();
    await waitFor('PostgreSQL to accept connections', async () => ((await t.db.query('SELECT 1').catch(() => undefined)) ? true : undefined), 60_000);
    const again = await runJobUuidMigration(t.db, { batchSize: 4000 });
    expect(again.processed).toBeGreaterThan(0);
    await expectConsistent();
  });

  it('processes every job once with four new-only runs at once', async () => {
    const connect = t.connect;
    if (connect === undefined) throw new Error('server database expected');
    const runs = await Promise.all([
      runJobUuidMigration(connect(), { batchSize: 1500, mode: 'new' }),
      runJobUuidMigration(connect(), { batchSize: 2500, concurrency: 2, mode: 'new' }),
      runJobUuidMigration(connect(), { batchSize: 1000, mode: 'new' }),
      runJobUuidMigration(connect(), { batchSize: 3000, concurrency: 3, mode: 'new' }),
    ]);
    expect(runs.reduce((n, r) => n + r.processed, 0)).toBe(60_000);
    expect(runs.filter((r) => r.processed > 0).length).toBeGreaterThan(1);
    const history = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM uuid_migration_log');
    expect(history.rows[0]?.n).toBe(60_000);
    await expectConsistent();
  });

  it('shrinks batches that hit a small statement_timeout, and completes', async () => {
    const db = createPgDatabase({ url: `${t.url}?options=${encodeURIComponent('-c statement_timeout=40')}` });
    const retries: number[] = [];
    try {
      const run = await runJobUuidMigration(db, { batchSize: 30_000, onRetry: (r) => retries.push(r.batchSize) });
      expect(run.processed).toBe(60_000);
    } finally {
      await db.close();
    }
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toBe(15_000);
    await expectConsistent();
  });
});
