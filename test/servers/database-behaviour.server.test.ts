import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { describeDatabaseBehaviour } from '../db/database-behaviour.suite.ts';
import { describeMigrationLog } from '../db/migration-log.suite.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';
import { runJobUuidMigration } from '../../src/node/migration/run-job-uuid-migration.ts';
import { getUuidMigrationStats } from '../../src/node/migration/migration-stats.ts';

describeDatabaseBehaviour('PostgreSQL', serverTestDatabase);
describeMigrationLog('PostgreSQL', serverTestDatabase);

/** Each of the 4000 jobs has exactly one log row, and the outcomes add up. */
async function expectEveryJobOnce(t: TestDatabase): Promise<void> {
  const { rows } = await t.db.query<{ n: number; jobs: number }>(
    'SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS jobs FROM uuid_migration_log',
  );
  expect(rows[0]).toEqual({ n: 4000, jobs: 4000 });
  expect(await getUuidMigrationStats(t.db)).toMatchObject({ successful_migrations: 3200, skipped_migrations: 800 });
}

// What only a server with several connections can show.
describe('concurrent migration runs on PostgreSQL', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await serverTestDatabase();
    await t.db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 20) g;
      INSERT INTO jobs (micro_id) SELECT 'service-' || (g % 25) FROM generate_series(1, 4000) g;
    `);
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('never processes a job twice when two new-only runs share the table', async () => {
    const connect = t.connect;
    if (connect === undefined) throw new Error('server database expected');
    const [a, b] = await Promise.all([
      runJobUuidMigration(connect(), { batchSize: 97, mode: 'new' }),
      runJobUuidMigration(connect(), { batchSize: 131, mode: 'new' }),
    ]);
    expect(a.processed + b.processed).toBe(4000);
    expect(a.processed).toBeGreaterThan(0);
    expect(b.processed).toBeGreaterThan(0);
    await expectEveryJobOnce(t);
  });

  it('never processes a job twice when a sharded run with several connections meets an unsharded one', async () => {
    const connect = t.connect;
    if (connect === undefined) throw new Error('server database expected');
    const [sharded, plain] = await Promise.all([
      runJobUuidMigration(connect(), { batchSize: 50, concurrency: 3, mode: 'new' }),
      runJobUuidMigration(connect(), { batchSize: 70, mode: 'new' }),
    ]);
    expect(sharded.processed + plain.processed).toBe(4000);
    expect(sharded.processed).toBeGreaterThan(0);
    await expectEveryJobOnce(t);
  });

  it('keeps one current outcome per job when two plain runs overlap (each may visit a skipped job once)', async () => {
    const connect = t.connect;
    if (connect === undefined) throw new Error('server database expected');
    const [a, b] = await Promise.all([
      runJobUuidMigration(connect(), { batchSize: 60, concurrency: 2 }),
      runJobUuidMigration(connect(), { batchSize: 90 }),
    ]);
    expect(a.succeeded + b.succeeded).toBe(3200); // a success is never repeated
    expect(a.skipped).toBeLessThanOrEqual(800);
    expect(b.skipped).toBeLessThanOrEqual(800);
    await expectEveryJobOnce(t);
    const history = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM uuid_migration_log_history');
    expect(history.rows[0]?.n).toBe(a.skipped + b.skipped - 800);
  });

  it('refuses a shard outside 0-15', async () => {
    const error = await t.db.query("SELECT * FROM migrate_job_uuids_batch(10, NULL, 'all', NULL, 16)").catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('22023');
  });

  it('skips a job the application holds locked and takes it on the next run', async () => {
    const url = t.url;
    if (url === undefined) throw new Error('server database expected');
    const app = new pg.Client({ connectionString: url });
    await app.connect();
    try {
      await app.query('BEGIN');
      const locked = await app.query<{ id: string }>(
        "SELECT id FROM jobs WHERE micro_id = 'service-1' ORDER BY id LIMIT 1 FOR UPDATE",
      );
      const first = await runJobUuidMigration(t.db, { batchSize: 500 });
      expect(first.processed).toBe(3999);
      await app.query('COMMIT');
      const second = await runJobUuidMigration(t.db, { batchSize: 500, mode: 'new' });
      expect(second.processed).toBe(1);
      const job = await t.db.query<{ micro_uuid: string | null }>('SELECT micro_uuid FROM jobs WHERE id = $1', [
        locked.rows[0]?.id,
      ]);
      expect(job.rows[0]?.micro_uuid).not.toBeNull();
    } finally {
      await app.end();
    }
  });

  it('holds no lock on jobs between batches', async () => {
    const url = t.url;
    if (url === undefined) throw new Error('server database expected');
    const observer = new pg.Client({ connectionString: url });
    await observer.connect();
    const locksSeen: number[] = [];
    try {
      const run = await runJobUuidMigration(t.db, {
        batchSize: 1000,
        onBatch: async () => {
          const { rows } = await observer.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE c.relname IN ('jobs', 'uuid_migration_log') AND l.pid <> pg_backend_pid()`,
          );
          locksSeen.push(rows[0]?.n ?? -1);
        },
      });
      expect(run.batches).toBe(4);
    } finally {
      await observer.end();
    }
    expect(locksSeen).toEqual([0, 0, 0, 0]);
  });
});
