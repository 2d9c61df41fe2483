import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/node/db/database.ts';
import { DatabaseError } from '../../src/node/db/database.ts';
import { getUuidMigrationStats } from '../../src/node/migration/migration-stats.ts';
import { requestRun } from '../../src/node/migration/migration-runs.ts';
import { runJobUuidMigration } from '../../src/node/migration/run-job-uuid-migration.ts';
import { applyMigrations } from '../../src/node/schema/apply-migrations.ts';
import { runDoctor } from '../../src/node/reports/doctor.ts';
import { readMigrationFiles } from '../../src/node/schema/migration-files.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

// The same behaviour, asserted against PGlite (the embedded default) and the
// real PostgreSQL server: see database-behaviour.pglite.test.ts and
// test/servers/database-behaviour.server.test.ts.

async function seed(db: Database, services: string[], jobSlugs: (string | null)[]): Promise<void> {
  for (const slug of services) {
    await db.query('INSERT INTO micro_services (slug, name) VALUES ($1, $1)', [slug]);
  }
  await db.query('INSERT INTO jobs (micro_id) SELECT unnest($1::text[])', [jobSlugs]);
}

async function logRows(db: Database): Promise<{ job_id: string; migration_status: string }[]> {
  const { rows } = await db.query<{ job_id: string; migration_status: string }>(
    'SELECT job_id, migration_status FROM uuid_migration_log',
  );
  return rows;
}

async function historyRows(db: Database): Promise<{ job_id: string; migration_status: string; retired_reason: string }[]> {
  const { rows } = await db.query<{ job_id: string; migration_status: string; retired_reason: string }>(
    'SELECT job_id, migration_status, retired_reason FROM uuid_migration_log_history',
  );
  return rows;
}

function repeat<T>(value: T, times: number): T[] {
  return Array.from({ length: times }, () => value);
}

export function describeDatabaseBehaviour(label: string, factory: TestDatabaseFactory): void {
  describe(`database behaviour on ${label}`, () => {
    let t: TestDatabase;
    let db: Database;
    beforeEach(async () => {
      t = await factory();
      db = t.db;
    });
    afterEach(async () => {
      await t.dispose();
    });

    it('records every applied version where the Supabase CLI looks for it', async () => {
      // What the folder holds, read here rather than through readMigrationFiles(), which the applier uses:
      // <version>_<name>.sql, one row each.
      const expected = readdirSync(new URL('../../supabase/migrations/', import.meta.url))
        .filter((file) => file.endsWith('.sql'))
        .sort()
        .map((file) => ({ version: file.slice(0, file.indexOf('_')), name: file.slice(file.indexOf('_') + 1, -'.sql'.length) }));
      expect(expected.length).toBeGreaterThan(0);
      const { rows } = await db.query<{ version: string; name: string }>(
        'SELECT version, name FROM supabase_migrations.schema_migrations ORDER BY version',
      );
      expect(rows).toEqual(expected);
    });

    it('treats a second apply as a no-op, and each file runs twice without error', async () => {
      const again = await applyMigrations(db);
      expect(again.applied).toEqual([]);
      const before = await db.query('SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1', ['public']);
      for (const file of await readMigrationFiles()) await db.exec(file.sql);
      const after = await db.query('SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1', ['public']);
      expect(after.rows).toEqual(before.rows);
    });

    it('creates no index that duplicates the one the slug constraint makes', async () => {
      const { rows } = await db.query<{ indexname: string }>(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'micro_services' ORDER BY 1",
      );
      expect(rows.map((r) => r.indexname)).toEqual(['micro_services_pkey', 'micro_services_slug_key']);
    });

    it('returns job_id, micro_slug, found_uuid and status from SELECT * FROM migrate_job_uuids()', async () => {
      await seed(db, ['wall-painting'], ['wall-painting', 'unknown-service', null]);
      const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM migrate_job_uuids()');
      expect(Object.keys(rows[0] ?? {})).toEqual(['job_id', 'micro_slug', 'found_uuid', 'status']);
      const service = await db.query<{ id: string }>("SELECT id FROM micro_services WHERE slug = 'wall-painting'");
      const bySlug = Object.fromEntries(rows.map((r) => [r.micro_slug, r]));
      expect(bySlug['wall-painting']).toMatchObject({ status: 'success', found_uuid: service.rows[0]?.id });
      expect(bySlug['unknown-service']).toMatchObject({ status: 'skipped', found_uuid: null });
      // A job without a slug is logged with an empty micro_slug and skipped.
      expect(bySlug['']).toMatchObject({ status: 'skipped', found_uuid: null });
      const jobs = await db.query<{ micro_id: string; micro_uuid: string | null }>(
        "SELECT micro_id, micro_uuid FROM jobs WHERE micro_id = 'wall-painting'",
      );
      expect(jobs.rows[0]?.micro_uuid).toBe(service.rows[0]?.id);
    });

    it('reports zeros and 100 % completion on an empty database, without dividing by zero', async () => {
      expect(await getUuidMigrationStats(db)).toEqual({
        total_jobs: 0,
        jobs_with_uuid: 0,
        jobs_without_uuid: 0,
        successful_migrations: 0,
        failed_migrations: 0,
        skipped_migrations: 0,
        completion_percentage: 100,
      });
      const run = await runJobUuidMigration(db);
      expect(run.processed).toBe(0);
    });

    it('visits each job without a UUID once per run: a plain re-run takes the skipped ones again, a new-only run none', async () => {
      await seed(db, ['a', 'b'], [...repeat('a', 30), ...repeat('b', 20), ...repeat('zzz', 25)]);
      const first = await runJobUuidMigration(db, { batchSize: 7 });
      expect(first).toMatchObject({ processed: 75, succeeded: 50, skipped: 25, failed: 0, batches: 11 });
      expect((await runJobUuidMigration(db, { batchSize: 7, mode: 'new' })).processed).toBe(0);
      expect((await runJobUuidMigration(db, { batchSize: 7, mode: 'retry' })).processed).toBe(0);
      const second = await runJobUuidMigration(db, { batchSize: 7 });
      expect(second).toMatchObject({ processed: 25, succeeded: 0, skipped: 25 });
      const rows = await logRows(db);
      expect(rows).toHaveLength(75);
      expect(new Set(rows.map((r) => r.job_id)).size).toBe(75);
      const history = await historyRows(db);
      expect(history).toHaveLength(25);
      expect(history.every((r) => r.migration_status === 'skipped' && r.retired_reason === 'superseded')).toBe(true);
    });

    it("does the spec's troubleshooting: add the missing service, re-run the plain migration, each job counted once", async () => {
      await seed(db, ['a'], [...repeat('a', 10), ...repeat('late', 6)]);
      await runJobUuidMigration(db);
      expect(await getUuidMigrationStats(db)).toMatchObject({ successful_migrations: 10, skipped_migrations: 6 });

      await db.query("INSERT INTO micro_services (slug) VALUES ('late')");
      const { rows: rerun } = await db.query<{ micro_slug: string; status: string }>('SELECT * FROM migrate_job_uuids()');
      expect(rerun).toHaveLength(6);
      expect(rerun.every((r) => r.micro_slug === 'late' && r.status === 'success')).toBe(true);
      expect((await runJobUuidMigration(db)).processed).toBe(0);

      expect(await getUuidMigrationStats(db)).toEqual({
        total_jobs: 16,
        jobs_with_uuid: 16,
        jobs_without_uuid: 0,
        successful_migrations: 16,
        failed_migrations: 0,
        skipped_migrations: 0,
        completion_percentage: 100,
      });
      expect(await logRows(db)).toHaveLength(16);
      expect(await historyRows(db)).toHaveLength(6); // the skipped attempts, kept for audits
    });

    it('retries only what can now succeed in retry mode, and only never-attempted jobs in new mode', async () => {
      await seed(db, ['a'], [...repeat('a', 4), ...repeat('late', 3), ...repeat('never', 2)]);
      await runJobUuidMigration(db);
      await db.query("INSERT INTO micro_services (slug) VALUES ('late')");
      await seed(db, [], ['a', 'a']); // new jobs since
      expect(await runJobUuidMigration(db, { mode: 'retry', batchSize: 2 })).toMatchObject({ processed: 3, succeeded: 3 });
      expect(await runJobUuidMigration(db, { mode: 'new' })).toMatchObject({ processed: 2, succeeded: 2 });
      expect(await runJobUuidMigration(db)).toMatchObject({ processed: 2, skipped: 2 });
      await expect(runJobUuidMigration(db, { mode: 'some' as never })).rejects.toThrow(/mode must be one of all, new, retry/);
      const error = await db.query("SELECT * FROM migrate_job_uuids(10, 'some')").catch((e: unknown) => e);
      expect((error as DatabaseError).code).toBe('22023');
    });

    it('isolates the rows of a batch that raise, logs them failed, and migrates the rest', async () => {
      await db.exec(`
        CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.micro_id = 'poison' THEN RAISE EXCEPTION 'poisoned job %', NEW.id USING ERRCODE = 'P0099'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER reject_poison BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION reject_poison();
      `);
      await seed(db, ['ok', 'poison'], [...repeat('ok', 90), ...repeat('poison', 3), ...repeat('nope', 7)]);
      const run = await runJobUuidMigration(db, { batchSize: 100 });
      expect(run).toMatchObject({ processed: 100, succeeded: 90, skipped: 7, failed: 3, batches: 1 });
      const failed = await db.query<{ micro_slug: string; error_message: string; error_code: string }>(
        "SELECT micro_slug, error_message, error_code FROM uuid_migration_log WHERE migration_status = 'failed'",
      );
      expect(failed.rows).toHaveLength(3);
      for (const row of failed.rows) {
        expect(row).toMatchObject({ micro_slug: 'poison', error_code: 'P0099' });
        expect(row.error_message).toMatch(/^poisoned job /);
      }
      expect(await getUuidMigrationStats(db)).toMatchObject({
        jobs_with_uuid: 90,
        failed_migrations: 3,
        skipped_migrations: 7,
      });

      // "Fix issues, re-run migration for failed jobs". The skipped jobs' slug
      // still matches no service: a retry leaves them alone.
      await db.exec('DROP TRIGGER reject_poison ON jobs');
      const retry = await runJobUuidMigration(db, { mode: 'retry' });
      expect(retry).toMatchObject({ processed: 3, succeeded: 3, skipped: 0, failed: 0 });
      expect(await getUuidMigrationStats(db)).toMatchObject({ failed_migrations: 0, successful_migrations: 93 });
    });

    it('fails the batch, logging nothing, when the error is the schema and not a row', async () => {
      await seed(db, ['a'], repeat('a', 5));
      await db.exec('ALTER TABLE micro_services RENAME COLUMN slug TO service_slug');
      const error = await runJobUuidMigration(db).catch((e: unknown) => e);
      expect((error as DatabaseError).code).toBe('42703');
      expect(await logRows(db)).toEqual([]);
      await db.exec('ALTER TABLE micro_services RENAME COLUMN service_slug TO slug');
      expect((await runJobUuidMigration(db)).succeeded).toBe(5);
    });

    it('refuses a batch size out of range with SQLSTATE 22023', async () => {
      for (const size of [0, -5, 100_001]) {
        const error = await db.query('SELECT * FROM migrate_job_uuids_batch($1)', [size]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseError);
        expect((error as DatabaseError).code).toBe('22023');
      }
      const nullSize = await db.query('SELECT * FROM migrate_job_uuids(NULL)').catch((e: unknown) => e);
      expect((nullSize as DatabaseError).code).toBe('22023');
      await expect(runJobUuidMigration(db, { batchSize: 0 })).rejects.toThrow(/batchSize must be an integer/);
    });

    it('rests between batches with a heartbeat each hold check that keeps another worker\'s hold, and ends a long rest when the run is cancelled', async () => {
      await seed(db, ['a'], repeat('a', 40));
      const runId = crypto.randomUUID();
      const beats: string[] = [];
      const holds: string[] = [];
      let cancelledAt = 0;
      // A rest far longer than the test (1000 times a batch of at least a few ms, plus 60 s).
      const run = runJobUuidMigration(db, {
        runId,
        batchSize: 10,
        pacing: { health: false, niceRatio: 1000, batchDelayMillis: 60_000, holdCheckMillis: 50 },
        onBatch: async () => {
          // Heartbeats written while it rests after the first batch, then a cancel. Meanwhile another
          // worker of the run holds (as it would on a server, --concurrency 2): the rest keeps its hold.
          setTimeout(() => {
            void (async () => {
              await db.query("UPDATE uuid_migration_runs SET state = 'held', hold_reason = 'lock_waits', held_since = now() WHERE run_id = $1::uuid", [runId]);
              for (let i = 0; i < 4; i += 1) {
                await new Promise((resolve) => setTimeout(resolve, 120));
                const row = (await db.query<{ at: string; state: string; reason: string | null }>('SELECT heartbeat_at::text AS at, state, hold_reason AS reason FROM uuid_migration_runs WHERE run_id = $1::uuid', [runId])).rows[0];
                beats.push(row?.at ?? '');
                holds.push(`${row?.state}/${row?.reason}`);
              }
              await requestRun(db, runId, 'cancel');
              cancelledAt = performance.now();
            })();
          }, 0);
        },
      });
      const result = await run;
      const ended = performance.now();
      expect(result).toMatchObject({ cancelled: true, batches: 1, processed: 10 });
      expect(new Set(beats).size, beats.join(' ')).toBeGreaterThanOrEqual(3);
      expect(holds).toEqual(Array(4).fill('held/lock_waits'));
      expect(ended - cancelledAt).toBeLessThan(1_000);
    });

    it('pauses after each batch for niceRatio times its duration, and refuses a ratio out of range', async () => {
      await seed(db, ['a'], repeat('a', 40));
      const seen: { at: number; ms: number }[] = [];
      const result = await runJobUuidMigration(db, {
        batchSize: 10,
        pacing: { health: false, niceRatio: 3 },
        onBatch: (batch) => void seen.push({ at: performance.now(), ms: batch.durationMs }),
      });
      expect(result.succeeded).toBe(40);
      expect(seen).toHaveLength(4);
      // Between two batches' ends: the first one's pause (3x its time) and the second batch.
      for (let i = 1; i < seen.length; i += 1) {
        const [before, after] = [seen[i - 1], seen[i]];
        expect(after!.at - before!.at).toBeGreaterThanOrEqual(3 * before!.ms + after!.ms - 2);
      }
      for (const niceRatio of [-1, 1001, Number.NaN]) {
        await expect(runJobUuidMigration(db, { pacing: { niceRatio } })).rejects.toThrow(/niceRatio must be a number from 0 to 1000/);
      }
    });

    it('commits per batch from SQL alone with the DO block in supabase/snippets', async () => {
      await seed(db, ['a'], [...repeat('a', 25), ...repeat('b', 5)]);
      const block = readFileSync(new URL('../../supabase/snippets/run_job_uuid_migration.sql', import.meta.url), 'utf8');
      await db.exec(block.replace('v_batch_size constant integer := 5000', 'v_batch_size constant integer := 10'));
      expect(await getUuidMigrationStats(db)).toMatchObject({ successful_migrations: 25, skipped_migrations: 5 });
      const runs = await db.query<{ jobs: string }>('SELECT jobs FROM list_job_uuid_migration_runs()');
      expect(runs.rows.map((r) => Number(r.jobs))).toEqual([30]);
    });

    it('stops between batches when aborted, and a new run resumes where it stopped', async () => {
      await seed(db, ['a'], repeat('a', 50));
      const controller = new AbortController();
      const first = await runJobUuidMigration(db, {
        batchSize: 10,
        signal: controller.signal,
        onBatch: (batch) => {
          if (batch.processed > 0) controller.abort();
        },
      });
      expect(first).toMatchObject({ aborted: true, processed: 10, batches: 1 });
      const rest = await runJobUuidMigration(db, { batchSize: 10 });
      expect(rest.processed).toBe(40);
      expect((await logRows(db)).length).toBe(50);
    });

    it('removes a deleted job from the log with it, history included, and empties the log on TRUNCATE', async () => {
      await seed(db, ['a'], [...repeat('a', 3), 'late', 'late']);
      await runJobUuidMigration(db);
      await db.query("INSERT INTO micro_services (slug) VALUES ('late')");
      await runJobUuidMigration(db);
      expect(await logRows(db)).toHaveLength(5);
      expect(await historyRows(db)).toHaveLength(2);
      await db.query("DELETE FROM jobs WHERE micro_id = 'late' OR id = (SELECT id FROM jobs WHERE micro_id = 'a' LIMIT 1)");
      expect(await getUuidMigrationStats(db)).toMatchObject({ total_jobs: 2, successful_migrations: 2 });
      const orphans = await db.query(
        'SELECT count(*)::int AS n FROM uuid_migration_log l WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = l.job_id)',
      );
      expect(orphans.rows).toEqual([{ n: 0 }]);
      expect(await logRows(db)).toHaveLength(2);
      expect(await historyRows(db)).toHaveLength(0);
      await seed(db, [], ['zzz']);
      await runJobUuidMigration(db);
      await runJobUuidMigration(db);
      expect(await historyRows(db)).toHaveLength(1);
      await db.exec('TRUNCATE jobs');
      expect(await logRows(db)).toHaveLength(0);
      expect(await historyRows(db)).toHaveLength(0);
    });
  });

  describe(`adopting an existing Supabase schema on ${label}`, () => {
    it('refuses tables of another shape with one line naming each column, and records nothing', async () => {
      const t = await factory({ migrate: false });
      try {
        await t.db.exec(`
          CREATE TABLE public.micro_services (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text NOT NULL);
          CREATE TABLE public.jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, micro_id integer, title text);`);
        const error = await applyMigrations(t.db).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseError);
        expect((error as DatabaseError).code).toBe('42804');
        expect((error as DatabaseError).message).toBe(
          'existing tables of another shape: public.jobs.id is bigint, the migrations need uuid; ' +
            'public.jobs.micro_id is integer, the migrations need text (the service slug). Nothing was applied.',
        );
        const recorded = await t.db.query<{ exists: boolean }>("SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL AS exists");
        expect(recorded.rows[0]?.exists).toBe(false);
        const tables = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
        expect(tables.rows[0]?.n).toBe(2);
        // On a database another tool migrated, doctor names the same columns.
        const shape = (await runDoctor(t.db)).find((check) => check.name === 'tables have the column types the product needs');
        expect(shape?.ok).toBe(false);
        expect(shape?.detail).toContain('public.jobs.micro_id is integer, the migrations need text (the service slug)');
      } finally {
        await t.dispose();
      }
    });

    it('applies over the earlier phases\' tables and keeps their rows', async () => {
      const t = await factory({ migrate: false });
      try {
        // The shape of the earlier phases: no micro_uuid yet, no unique slug.
        await t.db.exec(`
          CREATE TABLE public.micro_services (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text NOT NULL, name text);
          CREATE TABLE public.jobs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), micro_id text, title text,
                                    created_at timestamptz DEFAULT now());
          CREATE TABLE public.analytics_events (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), event_name text NOT NULL,
                                    event_category text, event_properties jsonb, created_at timestamptz DEFAULT now());
          INSERT INTO public.micro_services (slug) VALUES ('wall-painting'), ('dup'), ('dup');
          INSERT INTO public.jobs (micro_id, title) VALUES ('wall-painting', 'Paint'), ('dup', 'Ambiguous'), ('x', 'Lost');
          INSERT INTO public.analytics_events (event_name, event_properties) VALUES ('page_view', '{"path": "/"}');
        `);
        const result = await applyMigrations(t.db);
        expect(result.applied.length).toBeGreaterThan(0);
        const indexes = await t.db.query<{ indexname: string }>(
          "SELECT indexname FROM pg_indexes WHERE tablename = 'micro_services' ORDER BY 1",
        );
        // No unique constraint there, so the spec's slug index is created.
        expect(indexes.rows.map((r) => r.indexname)).toContain('idx_micro_services_slug');
        const events = await t.db.query('SELECT count(*)::int AS n FROM analytics_events');
        expect(events.rows).toEqual([{ n: 1 }]);
        const { rows } = await t.db.query<{ micro_slug: string; status: string }>(
          'SELECT micro_slug, status FROM migrate_job_uuids() ORDER BY micro_slug',
        );
        expect(rows).toEqual([
          { micro_slug: 'dup', status: 'failed' },
          { micro_slug: 'wall-painting', status: 'success' },
          { micro_slug: 'x', status: 'skipped' },
        ]);
        const failure = await t.db.query<{ error_message: string }>(
          "SELECT error_message FROM uuid_migration_log WHERE migration_status = 'failed'",
        );
        expect(failure.rows[0]?.error_message).toBe('ambiguous slug: 2 micro_services rows');
      } finally {
        await t.dispose();
      }
    });
  });
}
