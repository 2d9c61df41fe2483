import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getUuidMigrationStats } from '../../src/node/migration/migration-stats.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';
import { waitFor } from '../support/processes.ts';

// The counters behind get_uuid_migration_stats() are kept by triggers on jobs and
// the log, inside the app's own transactions. The app must never wait or fail
// because of them (issue 22). Until 20261203000200 each statement updated a
// counter row shared by every backend whose pid had the same remainder mod 16, so
// two unrelated transactions on such backends waited for each other, deadlocked,
// or failed at REPEATABLE READ. Each case below takes two connections that share
// that remainder, runs a pattern that needs no wait without the triggers, and
// holds it to a 2 s lock timeout: on the old slots every case waited or failed.
// At the end the stats equal full counts of the tables.

const WAIT_LIMIT = "SET lock_timeout = '2s'";

describe('the migration counters never make the app wait or fail', () => {
  let t: TestDatabase;
  let a: pg.Client;
  let b: pg.Client;
  const spare: pg.Client[] = [];

  beforeAll(async () => {
    t = await serverTestDatabase();
    await t.db.exec(`
      INSERT INTO micro_services (slug) VALUES ('wall-painting'), ('tiling');
      INSERT INTO jobs (micro_id, title) SELECT CASE WHEN g % 2 = 0 THEN 'wall-painting' ELSE 'tiling' END, 'Job ' || g FROM generate_series(1, 400) g;`);
    // Connections until two share pid % 16 (17 are enough); the others close.
    const bySlot = new Map<number, pg.Client>();
    for (;;) {
      const client = new pg.Client({ connectionString: t.url });
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const slot = (rows[0]?.pid ?? 0) % 16;
      const other = bySlot.get(slot);
      if (other !== undefined) {
        a = other;
        b = client;
        bySlot.delete(slot);
        break;
      }
      bySlot.set(slot, client);
    }
    spare.push(...bySlot.values());
    for (const client of [a, b]) await client.query(WAIT_LIMIT);
  }, 60_000);

  afterAll(async () => {
    for (const client of [a, b, ...spare]) await client?.end().catch(() => undefined);
    await t?.dispose();
  });

  beforeEach(async () => {
    for (const client of [a, b]) await client.query('ROLLBACK').catch(() => undefined);
  });

  const newJob = "INSERT INTO jobs (micro_id, title) VALUES ('wall-painting', 'new')";
  const someJob = async (offset: number): Promise<string> => {
    const { rows } = await t.db.query<{ id: string }>('SELECT id FROM jobs ORDER BY id OFFSET $1 LIMIT 1', [offset]);
    return rows[0]?.id ?? '';
  };

  it('an insert does not wait for another open transaction that inserted a job', async () => {
    await a.query('BEGIN');
    await a.query(newJob);
    await b.query(newJob); // old slots: 55P03 after 2 s, waiting on a's counter row
    await a.query('COMMIT');
  });

  it('an open transaction that inserted a job does not stall a migration batch', async () => {
    await a.query('BEGIN');
    await a.query(newJob);
    const { rows } = await b.query<{ processed: number }>('SELECT processed FROM public.migrate_job_uuids_batch(50)');
    expect(rows[0]?.processed).toBe(50);
    await a.query('ROLLBACK');
  });

  it('update-then-update in two transactions waits, as it would without the triggers, and does not deadlock', async () => {
    const [x, y] = [await someJob(10), await someJob(20)];
    await a.query('BEGIN');
    await a.query(newJob); // a's counter row, on the old slots
    await b.query('BEGIN');
    await b.query("UPDATE jobs SET title = 'b' WHERE id = $1", [x]);
    // Waits for b: an ordinary row lock.
    const aWaits = a.query("UPDATE jobs SET title = 'a' WHERE id = $1", [x]).then(() => 'updated', (error: unknown) => error);
    await waitFor('a to wait for the row b holds', async () => {
      const { rows } = await t.db.query<{ waiting: boolean }>("SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1", [
        (a as unknown as { processID: number }).processID,
      ]);
      return rows[0]?.waiting === true ? true : undefined;
    });
    await b.query(newJob); // old slots: waits for a's counter row, a waits for b: 40P01
    await b.query("UPDATE jobs SET title = 'b' WHERE id = $1", [y]);
    await b.query('COMMIT');
    expect(await aWaits).toBe('updated');
    await a.query('COMMIT');
  });

  it('a job insert at REPEATABLE READ does not fail for an unrelated job written after its snapshot', async () => {
    await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await a.query('SELECT count(*) FROM micro_services'); // the snapshot
    await b.query(newJob);
    await b.query("UPDATE jobs SET micro_uuid = NULL WHERE id = (SELECT id FROM jobs WHERE micro_uuid IS NOT NULL LIMIT 1)");
    await a.query(newJob); // old slots: 40001, the counter row changed after the snapshot
    await a.query("UPDATE jobs SET micro_id = 'tiling' WHERE id = (SELECT id FROM jobs ORDER BY id DESC LIMIT 1)");
    await a.query('COMMIT');
  });

  it('leaves the stats equal to full counts of the tables', async () => {
    const stats = await getUuidMigrationStats(t.db);
    const { rows } = await t.db.query<{ jobs: string; without: string; success: string; failed: string; skipped: string }>(
      `SELECT (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM jobs WHERE micro_uuid IS NULL) AS without,
              count(*) FILTER (WHERE migration_status = 'success') AS success,
              count(*) FILTER (WHERE migration_status = 'failed') AS failed,
              count(*) FILTER (WHERE migration_status = 'skipped') AS skipped
       FROM uuid_migration_log`,
    );
    const counted = rows[0];
    expect(stats).toMatchObject({
      total_jobs: Number(counted?.jobs),
      jobs_without_uuid: Number(counted?.without),
      successful_migrations: Number(counted?.success),
      failed_migrations: Number(counted?.failed),
      skipped_migrations: Number(counted?.skipped),
    });
    expect(stats.successful_migrations).toBeGreaterThan(0);
  });
});
