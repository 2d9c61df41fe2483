import type { Queryable } from '../db/database.ts';
import type { MigrationMode } from '../../contract/migration.ts';

/** What a run would do, by slug (`preview_job_uuid_migration`). */
export interface MigrationPreviewRow {
  micro_slug: string;
  would_be: 'success' | 'skipped' | 'failed';
  jobs: number;
}

/** A dry run: nothing is written. */
export async function previewJobUuidMigration(db: Queryable, options: { mode?: MigrationMode } = {}): Promise<MigrationPreviewRow[]> {
  const { rows } = await db.query<MigrationPreviewRow & { jobs: string }>(
    'SELECT * FROM public.preview_job_uuid_migration($1::text)',
    [options.mode ?? 'all'],
  );
  return rows.map((row) => ({ ...row, jobs: Number(row.jobs) }));
}

/** Jobs a run would take (the dry run's total): for a progress bar's 100 %. */
export async function countMigrationCandidates(db: Queryable, options: { mode?: MigrationMode } = {}): Promise<number> {
  return (await previewJobUuidMigration(db, options)).reduce((sum, row) => sum + row.jobs, 0);
}

/** A run recorded in the log. */
export interface MigrationRun {
  run_id: string;
  started_at: string;
  finished_at: string;
  jobs: number;
  succeeded: number;
  skipped: number;
  failed: number;
  rolled_back: number;
}

export async function listMigrationRuns(db: Queryable): Promise<MigrationRun[]> {
  const { rows } = await db.query<Record<keyof MigrationRun, unknown>>('SELECT * FROM public.list_job_uuid_migration_runs()');
  return rows.map((r) => ({
    run_id: String(r.run_id),
    started_at: new Date(r.started_at as string).toISOString(),
    finished_at: new Date(r.finished_at as string).toISOString(),
    jobs: Number(r.jobs),
    succeeded: Number(r.succeeded),
    skipped: Number(r.skipped),
    failed: Number(r.failed),
    rolled_back: Number(r.rolled_back),
  }));
}

/**
 * Undoes a run: its jobs lose the UUID it gave them (where they still carry it) and count as
 * never attempted; their outcomes move to the history. A run id the log has never seen is a
 * `DatabaseError` with code P0002.
 */
export async function rollbackMigrationRun(db: Queryable, runId: string): Promise<{ jobsReverted: number; jobsChangedSince: number }> {
  const { rows } = await db.query<{ jobs_reverted: string; jobs_changed_since: string }>(
    'SELECT * FROM public.rollback_job_uuid_migration($1::uuid)',
    [runId],
  );
  return { jobsReverted: Number(rows[0]?.jobs_reverted ?? 0), jobsChangedSince: Number(rows[0]?.jobs_changed_since ?? 0) };
}

/**
 * Gives every job without a UUID whose slug is `jobSlug` (a slug no service has,
 * such as `wall_painting`) the UUID of the service `serviceSlug`: one run of the
 * migration, logged as successes, undone by {@link rollbackMigrationRun}.
 * An unknown `serviceSlug` is a `DatabaseError` with code P0002.
 */
export async function mapJobSlugToService(db: Queryable, jobSlug: string, serviceSlug: string): Promise<{ runId: string; jobsMapped: number }> {
  const { rows } = await db.query<{ run_id: string; jobs_mapped: string }>('SELECT * FROM public.map_job_slug_to_service($1, $2)', [
    jobSlug,
    serviceSlug,
  ]);
  return { runId: String(rows[0]?.run_id), jobsMapped: Number(rows[0]?.jobs_mapped ?? 0) };
}
