import type { Database, Queryable } from '../db/database.ts';
import { DatabaseError } from '../db/database.ts';
import type { MigrationMode } from '../../contract/migration.ts';
import type { RecordedRun, RunState } from './migration-runs.ts';
import { isGoing } from './migration-runs.ts';

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

/**
 * A run: the runs table's row (state, real start and finish, holds), with what the
 * log holds of it (attempts by outcome). Runs from before the runs table, and
 * slug mappings, are the log's alone: their times are their first and last attempts.
 */
export type MigrationRun = RecordedRun;

/** The runs, newest first. */
export async function listMigrationRuns(db: Queryable): Promise<MigrationRun[]> {
  const { rows } = await db.query<Record<keyof MigrationRun, unknown>>(
    `SELECT COALESCE(r.run_id, l.run_id) AS run_id, r.mode, COALESCE(r.state, 'finished') AS state,
            COALESCE(r.requested, 'run') AS requested, r.started_by,
            COALESCE(r.started_at, l.started_at) AS started_at,
            CASE WHEN r.run_id IS NULL THEN l.finished_at ELSE r.finished_at END AS finished_at,
            r.heartbeat_at, r.batches, COALESCE(l.jobs, 0) AS jobs, COALESCE(l.succeeded, 0) AS succeeded,
            COALESCE(l.skipped, 0) AS skipped, COALESCE(l.failed, 0) AS failed, COALESCE(l.rolled_back, 0) AS rolled_back,
            r.hold_reason, r.hold_detail, COALESCE(r.held_seconds, '{}'::jsonb) AS held_seconds, r.error
     FROM public.uuid_migration_runs r
     FULL JOIN public.list_job_uuid_migration_runs() l ON l.run_id = r.run_id
     ORDER BY 6 DESC`,
  );
  const time = (value: unknown): string | null => (value === null || value === undefined ? null : new Date(value as string).toISOString());
  return rows.map((r) => ({
    run_id: String(r.run_id),
    mode: (r.mode ?? null) as MigrationRun['mode'],
    state: r.state as MigrationRun['state'],
    requested: r.requested as MigrationRun['requested'],
    started_by: (r.started_by ?? null) as string | null,
    started_at: time(r.started_at) ?? '',
    finished_at: time(r.finished_at),
    heartbeat_at: time(r.heartbeat_at),
    batches: r.batches === null || r.batches === undefined ? null : Number(r.batches),
    jobs: Number(r.jobs),
    succeeded: Number(r.succeeded),
    skipped: Number(r.skipped),
    failed: Number(r.failed),
    rolled_back: Number(r.rolled_back),
    hold_reason: (r.hold_reason ?? null) as MigrationRun['hold_reason'],
    hold_detail: (r.hold_detail ?? null) as string | null,
    held_seconds: Object.fromEntries(Object.entries((r.held_seconds ?? {}) as Record<string, number>).map(([k, v]) => [k, Math.round(Number(v) * 10) / 10])),
    error: (r.error ?? null) as string | null,
  }));
}

/** A run whose heartbeat is older than this is taken for dead (its runner killed outright): it may be rolled back. */
export const RUN_SILENT_AFTER_SECONDS = 15 * 60;

/**
 * Undoes a run: its jobs lose the UUID it gave them (where they still carry it) and count as
 * never attempted; their outcomes move to the history. Refused (`DatabaseError`, code 55000)
 * while the run is still going (cancel it first: {@link requestRun}) and when it was rolled
 * back already; a run id the log has never seen is code P0002.
 */
export async function rollbackMigrationRun(db: Database, runId: string): Promise<{ jobsReverted: number; jobsChangedSince: number }> {
  return db.transaction(async (tx) => {
    // The run's row locked: its runner's next heartbeat waits for this transaction.
    const { rows: found } = await tx.query<{ state: RunState | null; age: number | null; undone: string }>(
      `SELECT r.state, extract(epoch FROM pg_catalog.clock_timestamp() - r.heartbeat_at)::float8 AS age,
              (SELECT pg_catalog.count(*) FROM public.uuid_migration_log_history h
               WHERE h.run_id = $1::uuid AND h.retired_reason = 'rolled_back') AS undone
       FROM (SELECT 1) one
       LEFT JOIN (SELECT * FROM public.uuid_migration_runs WHERE run_id = $1::uuid FOR UPDATE) r ON true`,
      [runId],
    );
    const run = found[0];
    if (run !== undefined && run.state !== null && isGoing(run.state) && (run.age ?? 0) < RUN_SILENT_AFTER_SECONDS) {
      throw new DatabaseError(`uuid migration: run ${runId} is still going (${run.state}): cancel it first, then roll it back`, {
        code: '55000',
        hint: `uuid-lookup migrate cancel ${runId}`,
      });
    }
    // A rollback retires the successes it reverted: a run with retired ones was rolled back.
    if (run !== undefined && Number(run.undone) > 0) {
      throw new DatabaseError(`uuid migration: run ${runId} was rolled back already (${Number(run.undone)} jobs reverted then)`, {
        code: '55000',
      });
    }
    const { rows } = await tx.query<{ jobs_reverted: string; jobs_changed_since: string }>(
      'SELECT * FROM public.rollback_job_uuid_migration($1::uuid)',
      [runId],
    );
    return { jobsReverted: Number(rows[0]?.jobs_reverted ?? 0), jobsChangedSince: Number(rows[0]?.jobs_changed_since ?? 0) };
  });
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
