import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/node/db/database.ts';
import { DatabaseError } from '../../src/node/db/database.ts';
import { listMigrationRuns, rollbackMigrationRun } from '../../src/node/migration/migration-operations.ts';
import type { UuidMigrationStats } from '../../src/node/migration/migration-stats.ts';
import { compactMigrationCounters, getUuidMigrationStats } from '../../src/node/migration/migration-stats.ts';
import { runJobUuidMigration } from '../../src/node/migration/run-job-uuid-migration.ts';
import { findDuplicateIndexes, runDoctor } from '../../src/node/reports/doctor.ts';
import { dashboardForms, specQueries } from '../../src/contract/spec-queries.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

// The spec's monitoring queries over uuid_migration_log, verbatim ("Migration
// Progress", "Failed Migrations by Error", "Review Failures", "Migration Failures").
const SPEC_MIGRATION_PROGRESS = `SELECT 
  migration_status,
  COUNT(*) as count,
  ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 2) as percentage
FROM uuid_migration_log
GROUP BY migration_status;`;

const SPEC_FAILED_BY_ERROR = `SELECT 
  error_message,
  COUNT(*) as occurrences,
  array_agg(DISTINCT micro_slug) as affected_slugs
FROM uuid_migration_log
WHERE migration_status = 'failed'
GROUP BY error_message
ORDER BY occurrences DESC;`;

const SPEC_REVIEW_FAILURES = `SELECT * FROM uuid_migration_log
   WHERE migration_status IN ('failed', 'skipped')
   ORDER BY created_at DESC;`;

const SPEC_INVESTIGATION = `SELECT 
  error_message,
  COUNT(*) as count,
  array_agg(job_id) as failed_jobs
FROM uuid_migration_log
WHERE migration_status = 'failed'
GROUP BY error_message;`;

interface SpecView {
  success: number;
  failed: number;
  skipped: number;
  percentages: number;
  failedByError: number;
  reviewed: number;
  investigated: number;
}

/** What the spec's queries show, in the stats' terms. */
async function specView(db: Database): Promise<SpecView> {
  const progress = await db.query<{ migration_status: string; count: string | number; percentage: string }>(SPEC_MIGRATION_PROGRESS);
  const count = (status: string): number => Number(progress.rows.find((r) => r.migration_status === status)?.count ?? 0);
  const byError = await db.query<{ occurrences: string | number }>(SPEC_FAILED_BY_ERROR);
  const review = await db.query(SPEC_REVIEW_FAILURES);
  const investigation = await db.query<{ count: string | number; failed_jobs: string[] }>(SPEC_INVESTIGATION);
  return {
    success: count('success'),
    failed: count('failed'),
    skipped: count('skipped'),
    percentages: Math.round(progress.rows.reduce((sum, r) => sum + Number(r.percentage), 0)),
    failedByError: byError.rows.reduce((sum, r) => sum + Number(r.occurrences), 0),
    reviewed: review.rows.length,
    investigated: investigation.rows.reduce((sum, r) => sum + r.failed_jobs.length, 0),
  };
}

function expectAgreement(view: SpecView, stats: UuidMigrationStats): void {
  expect(view).toEqual({
    success: stats.successful_migrations,
    failed: stats.failed_migrations,
    skipped: stats.skipped_migrations,
    percentages: stats.successful_migrations + stats.failed_migrations + stats.skipped_migrations === 0 ? 0 : 100,
    failedByError: stats.failed_migrations,
    reviewed: stats.failed_migrations + stats.skipped_migrations,
    investigated: stats.failed_migrations,
  });
}

/** Every count of the stats, recomputed from the tables. */
async function fullCounts(db: Database): Promise<UuidMigrationStats> {
  const { rows } = await db.query<Record<string, string | number>>(`
    SELECT (SELECT count(*) FROM jobs) AS total,
           (SELECT count(*) FROM jobs WHERE micro_uuid IS NOT NULL) AS with_uuid,
           (SELECT count(*) FROM uuid_migration_log WHERE migration_status = 'success') AS success,
           (SELECT count(*) FROM uuid_migration_log WHERE migration_status = 'failed') AS failed,
           (SELECT count(*) FROM uuid_migration_log WHERE migration_status = 'skipped') AS skipped`);
  const r = rows[0] ?? {};
  const total = Number(r.total);
  const withUuid = Number(r.with_uuid);
  return {
    total_jobs: total,
    jobs_with_uuid: withUuid,
    jobs_without_uuid: total - withUuid,
    successful_migrations: Number(r.success),
    failed_migrations: Number(r.failed),
    skipped_migrations: Number(r.skipped),
    completion_percentage: total === 0 ? 100 : Math.round((10_000 * withUuid) / total) / 100,
  };
}

/** The dashboard's forms of the spec's progress and missing-services queries give the spec's rows, in any order. */
async function expectDashboardForms(db: Database, step: string): Promise<void> {
  const rows = async (sql: string) => (await db.query<Record<string, unknown>>(sql)).rows.map((r) => JSON.stringify(r)).sort();
  for (const name of ['migrationProgress', 'missingServices'] as const) {
    expect(await rows(dashboardForms[name]), `${name}, ${step}`).toEqual(await rows(specQueries[name].sql));
  }
}

async function seedJobs(db: Database, slugs: string[]): Promise<void> {
  await db.query('INSERT INTO jobs (micro_id) SELECT unnest($1::text[])', [slugs]);
}

export function describeMigrationLog(label: string, factory: TestDatabaseFactory): void {
  describe(`the migration log on ${label}`, () => {
    let t: TestDatabase;
    let db: Database;
    beforeEach(async () => {
      t = await factory();
      db = t.db;
    });
    afterEach(async () => {
      await t.dispose();
    });

    it("agrees, in every spec query run verbatim, with get_uuid_migration_stats() after runs, retries and rollbacks", async () => {
      // A trigger that fails some jobs until it is dropped, as a broken RLS policy would.
      await db.exec(`
        CREATE FUNCTION reject_flaky() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.micro_id = 'flaky' THEN RAISE EXCEPTION 'flaky job' USING ERRCODE = 'P0098'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER reject_flaky BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION reject_flaky();
      `);
      await db.query("INSERT INTO micro_services (slug) VALUES ('a'), ('flaky')");
      await seedJobs(db, [...Array<string>(40).fill('a'), ...Array<string>(7).fill('flaky'), ...Array<string>(9).fill('late')]);

      const check = async (step: string): Promise<void> => {
        const stats = await getUuidMigrationStats(db);
        expect(stats, step).toEqual(await fullCounts(db));
        expectAgreement(await specView(db), stats);
        await expectDashboardForms(db, step);
      };

      const first = await runJobUuidMigration(db, { batchSize: 8 });
      expect(first).toMatchObject({ succeeded: 40, failed: 7, skipped: 9 });
      await check('after the first run');

      await runJobUuidMigration(db, { batchSize: 8 }); // the plain re-run: failed and skipped again
      await check('after a plain re-run');

      await db.query("INSERT INTO micro_services (slug) VALUES ('late')");
      await db.exec('DROP TRIGGER reject_flaky ON jobs');
      const retry = await runJobUuidMigration(db, { mode: 'retry', batchSize: 3 });
      expect(retry).toMatchObject({ processed: 16, succeeded: 16 });
      await check('after a retry');

      const rolledBack = await rollbackMigrationRun(db, retry.runId);
      expect(rolledBack).toEqual({ jobsReverted: 16, jobsChangedSince: 0 });
      await check('after rolling the retry back');
      expect((await getUuidMigrationStats(db)).jobs_without_uuid).toBe(16);

      await rollbackMigrationRun(db, first.runId);
      await check('after rolling the first run back');
      expect(await getUuidMigrationStats(db)).toMatchObject({ jobs_with_uuid: 0, successful_migrations: 0 });

      await seedJobs(db, ['a', 'nothing']);
      await runJobUuidMigration(db, { mode: 'new' });
      await check('after a new-only run');
      await runJobUuidMigration(db);
      await check('after the last plain run');
      expect(await getUuidMigrationStats(db)).toMatchObject({ jobs_without_uuid: 1, skipped_migrations: 1 });

      // The history keeps every retired attempt: nothing an audit needs is lost. The
      // attempts, counted by hand: the first run 56 (40 a, 7 flaky, 9 late), the plain
      // re-run 16 (the failed and skipped), the retry 16, the new-only run 58 (the 56
      // jobs, all rolled back, and the 2 new ones), the last plain run 1 ('nothing').
      const attempts = await db.query<{ n: string | number }>(
        'SELECT (SELECT count(*) FROM uuid_migration_log) + (SELECT count(*) FROM uuid_migration_log_history) AS n',
      );
      expect(Number(attempts.rows[0]?.n)).toBe(56 + 16 + 16 + 58 + 1);
      const runs = await listMigrationRuns(db);
      expect(runs.map((run) => run.jobs).sort((a, b) => a - b)).toEqual([1, 16, 16, 56, 58]);
      expect(runs.find((run) => run.run_id === retry.runId)).toMatchObject({ jobs: 16, succeeded: 16, rolled_back: 16 });
    });

    it("gives the dashboard's forms of the spec's queries the spec's rows: no run yet, slugs without a job, NULL slugs, duplicates", async () => {
      await expectDashboardForms(db, 'an empty database');
      await db.query("INSERT INTO micro_services (slug) VALUES ('a'), ('b')");
      await seedJobs(db, ['a', 'zeta', 'zeta', 'alpha', 'Zeta', 'b']);
      await db.query('INSERT INTO jobs (micro_id) VALUES (NULL), (NULL)');
      await expectDashboardForms(db, 'before any run');
      const missing = await db.query<{ micro_id: string | null }>(dashboardForms.missingServices);
      expect(missing.rows.map((r) => String(r.micro_id)).sort()).toEqual(['Zeta', 'alpha', 'null', 'zeta']);
      await runJobUuidMigration(db, { batchSize: 2 });
      await expectDashboardForms(db, 'after a run');
      await db.query("INSERT INTO micro_services (slug) VALUES ('zeta')");
      await expectDashboardForms(db, 'after a service was added');
    });

    it('keeps the stats exact, from counters, whatever the application does to jobs', async () => {
      await db.query("INSERT INTO micro_services (slug) VALUES ('a'), ('b')");
      await seedJobs(db, [...Array<string>(30).fill('a'), ...Array<string>(10).fill('zzz')]);
      await runJobUuidMigration(db, { batchSize: 7 });
      const steps = [
        "INSERT INTO jobs (micro_id, micro_uuid) SELECT 'b', (SELECT id FROM micro_services WHERE slug = 'b') FROM generate_series(1, 5)",
        "UPDATE jobs SET micro_uuid = NULL WHERE id IN (SELECT id FROM jobs WHERE micro_id = 'a' LIMIT 4)",
        "UPDATE jobs SET title = 'renamed'",
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE micro_id = 'zzz' LIMIT 3)",
        "DELETE FROM jobs WHERE micro_id = 'b'",
        "UPDATE uuid_migration_log SET migration_status = 'failed' WHERE micro_slug = 'zzz'",
        'DELETE FROM uuid_migration_log WHERE job_id IN (SELECT job_id FROM uuid_migration_log LIMIT 2)',
      ];
      for (const [i, sql] of steps.entries()) {
        await db.exec(sql);
        expect(await getUuidMigrationStats(db), sql).toEqual(await fullCounts(db));
        // Every other step, the deltas so far are folded into the counters: the stats stay exact either way.
        if (i % 2 === 1) {
          const pending = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM uuid_migration_counter_deltas')).rows[0]?.n);
          expect(pending).toBeGreaterThan(0);
          expect(await compactMigrationCounters(db)).toBe(pending);
          expect(await getUuidMigrationStats(db), `${sql}, compacted`).toEqual(await fullCounts(db));
        }
      }
      await runJobUuidMigration(db);
      expect(await getUuidMigrationStats(db)).toEqual(await fullCounts(db));
      await db.exec('TRUNCATE jobs');
      expect(await getUuidMigrationStats(db)).toEqual(await fullCounts(db));
      await seedJobs(db, ['a']);
      expect(await getUuidMigrationStats(db)).toMatchObject({ total_jobs: 1, jobs_without_uuid: 1, skipped_migrations: 0 });
    });

    it('has doctor notice stats left behind by a load with triggers off, and rebuilds them', async () => {
      await seedJobs(db, ['a', 'b']);
      await db.exec(`SET session_replication_role = replica;
                     INSERT INTO jobs (micro_id) SELECT 'bulk' FROM generate_series(1, 50);
                     SET session_replication_role = origin;`);
      expect((await getUuidMigrationStats(db)).total_jobs).toBe(2);
      const check = (await runDoctor(db)).find((c) => c.name === 'migration stats agree with the tables');
      expect(check).toMatchObject({ ok: false, fix: 'SELECT public.rebuild_uuid_migration_counters();' });
      expect(check?.detail).toContain('counted 52 jobs');
      await db.exec('SELECT public.rebuild_uuid_migration_counters()');
      expect(await getUuidMigrationStats(db)).toEqual(await fullCounts(db));
      expect((await runDoctor(db)).find((c) => c.name === 'migration stats agree with the tables')?.ok).toBe(true);
    });

    it('refuses to roll back a run id the log has never seen', async () => {
      const error = await rollbackMigrationRun(db, '00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).code).toBe('P0002');
      expect((error as DatabaseError).message).toMatch(/no run 00000000-0000-4000-8000-000000000000 in the log/);
    });

    it('upgrades a log of the earlier shape (one row per attempt, is_latest) in place', async () => {
      await db.query("INSERT INTO micro_services (slug) VALUES ('a')");
      await seedJobs(db, ['a', 'b', 'b']);
      await runJobUuidMigration(db);
      // The earlier shape: retired attempts beside current ones.
      await db.exec(`
        DROP INDEX uuid_migration_log_job;
        ALTER TABLE uuid_migration_log ADD COLUMN is_latest boolean NOT NULL DEFAULT true;
        INSERT INTO uuid_migration_log (job_id, run_id, micro_slug, migration_status, error_message, is_latest, created_at)
        SELECT job_id, gen_random_uuid(), micro_slug, 'skipped', 'no micro_services row with this slug', false, created_at - interval '1 day'
        FROM uuid_migration_log WHERE micro_slug = 'b';
      `);
      const file = new URL('../../supabase/migrations/20261128001100_uuid_migration_current_outcome.sql', import.meta.url);
      await db.exec(readFileSync(file, 'utf8'));
      const columns = await db.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'uuid_migration_log' AND column_name = 'is_latest'");
      expect(columns.rows).toEqual([]);
      expect(await getUuidMigrationStats(db)).toMatchObject({ successful_migrations: 1, skipped_migrations: 2 });
      const history = await db.query<{ retired_reason: string }>('SELECT retired_reason FROM uuid_migration_log_history');
      expect(history.rows).toEqual([{ retired_reason: 'superseded' }, { retired_reason: 'superseded' }]);
      expectAgreement(await specView(db), await getUuidMigrationStats(db));
    });

    // Supabase's database linter (splinter) at levels ERROR and WARN, for the
    // lints that apply to what these migrations create: each query below states
    // the lint's rule over the catalogs.
    // With `search_path = ''` PostgreSQL still looks up type names in the caller's
    // temporary schema first; 20261129000200 names it last. The caller here keeps
    // domains named like the built-in types the functions cast to or declare, each
    // refusing every value: a function that resolved one of those names in pg_temp
    // would fail. The test's own statements name no such type.
    it("resolves built-in type names in pg_catalog, whatever types the caller keeps in pg_temp", async () => {
      const shadowed = ['date', 'text', 'uuid', 'jsonb', 'timestamptz', 'regclass'];
      await db.query("INSERT INTO micro_services (slug) VALUES ('a')");
      await db.transaction(async (tx) => {
        for (const name of shadowed) await tx.exec(`CREATE DOMAIN pg_temp.${name} AS pg_catalog.int4 CHECK (false)`);
        const probe = await tx.query<{ n: string | number }>(
          "SELECT count(*) AS n FROM pg_catalog.pg_type WHERE typname = ANY ($1) AND typnamespace = pg_catalog.pg_my_temp_schema()",
          [shadowed],
        );
        expect(Number(probe.rows[0]?.n), 'the domains are in place').toBe(shadowed.length);
        await tx.exec(`
          INSERT INTO analytics_events (event_name, event_category, event_properties, session_id, region)
          VALUES ('uuid_lookup', 'wizard_flow',
                  '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 12.5, "success": false,
                    "fallback_used": true, "error_message": "Service not found"}', 'session-temp', 'DE')`);
        await tx.exec("INSERT INTO jobs (micro_id, session_id) VALUES ('a', 'session-temp'), ('missing', NULL)");
        await tx.exec('SELECT * FROM public.migrate_job_uuids()');
        await tx.exec('SELECT * FROM public.get_uuid_migration_stats()');
        await tx.exec("DELETE FROM analytics_events WHERE session_id = 'session-temp'");
        await tx.exec(`DROP DOMAIN ${shadowed.map((name) => `pg_temp.${name}`).join(', ')}`);
      });
      expect(await getUuidMigrationStats(db)).toEqual(await fullCounts(db));
      expect(await getUuidMigrationStats(db)).toMatchObject({ total_jobs: 2, successful_migrations: 1, skipped_migrations: 1 });
      // Doctor's check lists every function whose search_path is not pg_catalog, pg_temp.
      expect((await runDoctor(db)).find((c) => c.name === 'functions pin search_path')).toMatchObject({ ok: true, detail: 'all pinned' });
    });

    it("leaves nothing for Supabase's database linter to warn about", async () => {
      const mutableSearchPath = await db.query<{ name: string }>(`
        SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
        WHERE n.nspname = 'public' AND d.objid IS NULL
          AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) AS config WHERE config LIKE 'search_path=%')`);
      expect(mutableSearchPath.rows, 'function_search_path_mutable').toEqual([]);

      const withoutRls = await db.query<{ name: string }>(`
        SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity`);
      expect(withoutRls.rows, 'rls_disabled_in_public').toEqual([]);

      expect(await findDuplicateIndexes(db), 'duplicate_index').toEqual([]);

      const definerForApi = await db.query<{ name: string; role: string }>(`
        SELECT p.proname AS name, r.rolname AS role
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, pg_roles r
        WHERE n.nspname = 'public' AND p.prosecdef AND r.rolname IN ('anon', 'authenticated')
          AND p.prorettype <> 'trigger'::regtype
          AND has_function_privilege(r.oid, p.oid, 'EXECUTE')`);
      expect(definerForApi.rows, 'anon/authenticated_security_definer_function_executable').toEqual([]);

      const policiesWithoutRls = await db.query<{ name: string }>(`
        SELECT DISTINCT c.relname AS name FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT c.relrowsecurity`);
      expect(policiesWithoutRls.rows, 'policy_exists_rls_disabled').toEqual([]);
    });

    it('shows the duplicate index that the spec\'s CREATE INDEX makes, run verbatim, to the linter\'s query', async () => {
      // The spec's "Ensure indexes exist" block, verbatim.
      await db.exec(`CREATE INDEX IF NOT EXISTS idx_micro_services_slug 
  ON micro_services(slug);`);
      expect(await findDuplicateIndexes(db)).toEqual([
        { table: 'micro_services', indexes: ['idx_micro_services_slug', 'micro_services_slug_key'], droppable: ['idx_micro_services_slug'] },
      ]);
      const doctor = await runDoctor(db);
      expect(doctor.find((c) => c.name === 'no duplicate indexes')).toMatchObject({
        ok: false,
        fix: 'DROP INDEX idx_micro_services_slug;',
      });
    });
  });
}
