import os from 'node:os';
import type { MigrationMode } from '../../contract/migration.ts';
import type { Queryable } from '../db/database.ts';
import { DatabaseError } from '../db/database.ts';
import type { HoldReason } from './migration-health.ts';

// The runs table (migration 20261203000100): each back-fill run's state, holds,
// and what an operator asked of it. The runner writes it; `migrate pause`,
// `resume` and `cancel` write `requested`, from any machine.

/** What a runner is, as it writes itself into the table. */
export type RunState = 'running' | 'held' | 'paused' | 'finished' | 'cancelled' | 'stopped' | 'failed';
/** What an operator asked of a run. */
export type RunRequest = 'run' | 'pause' | 'cancel';

/** A run not finished: its runner goes on, holds, or is paused (`finished_at` is NULL). */
export function isGoing(state: RunState): boolean {
  return state === 'running' || state === 'held' || state === 'paused';
}

/** Who started a run: the command, the host and the process, for `migrate runs`. */
export function describeStarter(command: string): string {
  return `${command} on ${os.hostname()} pid ${process.pid}`.slice(0, 200);
}

export async function beginRun(db: Queryable, run: { runId: string; mode: MigrationMode; startedBy: string; batchSize: number }): Promise<void> {
  await db.query('INSERT INTO public.uuid_migration_runs (run_id, mode, started_by, batch_size) VALUES ($1::uuid, $2, $3, $4)', [
    run.runId,
    run.mode,
    run.startedBy,
    run.batchSize,
  ]);
}

/** A heartbeat: the progress since the last one, the runner's state now; answers what is requested. */
export interface RunProgress {
  batches?: number;
  jobs?: number;
  batchSize?: number;
  /** The committed batch's time, in milliseconds (with `batches: 1`). */
  batchMillis?: number;
  state: 'running' | 'held' | 'paused';
  hold?: { reason: HoldReason; detail: string };
  /** Seconds held since the last heartbeat, and why. */
  heldSeconds?: { reason: HoldReason; seconds: number };
}

export async function reportRunProgress(db: Queryable, runId: string, progress: RunProgress): Promise<RunRequest> {
  const { rows } = await db.query<{ requested: RunRequest }>(
    `UPDATE public.uuid_migration_runs r
     SET batches = r.batches + $2, jobs = r.jobs + $3, batch_size = COALESCE($4, r.batch_size),
         batch_seconds = r.batch_seconds + COALESCE($10::float8, 0) / 1000, last_batch_ms = COALESCE($10::float8, r.last_batch_ms),
         state = $5, hold_reason = $6, hold_detail = $7, heartbeat_at = pg_catalog.clock_timestamp(),
         held_since = CASE WHEN $6::text IS NULL THEN NULL
                           WHEN r.hold_reason IS NOT DISTINCT FROM $6::text THEN r.held_since
                           ELSE pg_catalog.clock_timestamp() END,
         held_seconds = CASE WHEN $8::text IS NULL THEN r.held_seconds
                             ELSE r.held_seconds || pg_catalog.jsonb_build_object($8::text,
                                    COALESCE((r.held_seconds ->> $8::text)::float8, 0) + $9::float8) END
     WHERE r.run_id = $1::uuid
     RETURNING r.requested`,
    [
      runId,
      progress.batches ?? 0,
      progress.jobs ?? 0,
      progress.batchSize ?? null,
      progress.state,
      progress.hold?.reason ?? null,
      progress.hold?.detail ?? null,
      progress.heldSeconds?.reason ?? null,
      progress.heldSeconds?.seconds ?? 0,
      progress.batchMillis ?? null,
    ],
  );
  return rows[0]?.requested ?? 'run';
}

/**
 * A heartbeat and nothing else: what a runner resting between batches writes, so that the
 * state another worker of the run set (held, and since when) stays as it is.
 */
export async function touchRun(db: Queryable, runId: string): Promise<RunRequest> {
  const { rows } = await db.query<{ requested: RunRequest }>(
    `UPDATE public.uuid_migration_runs SET heartbeat_at = pg_catalog.clock_timestamp() WHERE run_id = $1::uuid RETURNING requested`,
    [runId],
  );
  return rows[0]?.requested ?? 'run';
}

/**
 * On the embedded database, which one process holds at a time: the runs a process left
 * unfinished (killed outright, `kill -9`, a lost machine) ended with it. Marks them
 * stopped, with why, and returns their ids. Call it when a process opens the database,
 * before it starts a run of its own; a server's runs are judged by their heartbeat instead.
 */
export async function endOrphanedRuns(db: Queryable): Promise<string[]> {
  const { rows: present } = await db.query<{ present: boolean }>("SELECT pg_catalog.to_regclass('public.uuid_migration_runs') IS NOT NULL AS present");
  if (present[0]?.present !== true) return [];
  const { rows } = await db.query<{ run_id: string }>(
    `UPDATE public.uuid_migration_runs
     SET state = 'stopped', finished_at = pg_catalog.clock_timestamp(), hold_reason = NULL, hold_detail = NULL, held_since = NULL,
         error = 'its process ended without finishing the run (found by the next process to open the embedded database)'
     WHERE finished_at IS NULL
     RETURNING run_id::text`,
  );
  return rows.map((r) => r.run_id);
}

/**
 * Ends a run's row; a run that finished with nothing to do and never held leaves none (the
 * worker starts one every few minutes). Says whether the row stays (`migrate runs` lists it).
 */
export async function endRun(db: Queryable, runId: string, state: Extract<RunState, 'finished' | 'cancelled' | 'stopped' | 'failed'>, error?: string): Promise<boolean> {
  if (state === 'finished') {
    const { rows } = await db.query<{ run_id: string }>(
      `DELETE FROM public.uuid_migration_runs
       WHERE run_id = $1::uuid AND batches = 0 AND held_seconds = '{}'::jsonb AND requested = 'run'
       RETURNING run_id`,
      [runId],
    );
    if (rows.length > 0) return false;
  }
  await db.query(
    `UPDATE public.uuid_migration_runs
     SET state = $2, finished_at = pg_catalog.clock_timestamp(), heartbeat_at = pg_catalog.clock_timestamp(),
         hold_reason = NULL, hold_detail = NULL, held_since = NULL, error = $3
     WHERE run_id = $1::uuid`,
    [runId, state, error === undefined ? null : error.slice(0, 2000)],
  );
  return true;
}

/** A run as the runs table and the log say it. */
export interface RecordedRun {
  run_id: string;
  mode: MigrationMode | null;
  state: RunState;
  requested: RunRequest;
  started_by: string | null;
  started_at: string;
  finished_at: string | null;
  heartbeat_at: string | null;
  batches: number | null;
  jobs: number;
  succeeded: number;
  skipped: number;
  failed: number;
  rolled_back: number;
  hold_reason: HoldReason | null;
  hold_detail: string | null;
  held_seconds: Record<string, number>;
  error: string | null;
}

/**
 * Asks a run to pause, to go on, or to stop for good (`cancel`); the runner obeys
 * before its next batch. A run that has ended is refused (code 55000), one never
 * recorded too (P0002).
 */
export async function requestRun(db: Queryable, runId: string, request: 'pause' | 'resume' | 'cancel'): Promise<{ state: RunState; requested: RunRequest }> {
  const wanted: RunRequest = request === 'resume' ? 'run' : request;
  const { rows } = await db.query<{ state: RunState; requested: RunRequest; updated: boolean }>(
    `WITH asked AS (
       UPDATE public.uuid_migration_runs SET requested = $2
       WHERE run_id = $1::uuid AND finished_at IS NULL AND requested <> 'cancel'
       RETURNING state, requested)
     SELECT a.state, a.requested, true AS updated FROM asked a
     UNION ALL
     SELECT r.state, r.requested, false FROM public.uuid_migration_runs r
     WHERE r.run_id = $1::uuid AND NOT EXISTS (SELECT FROM asked)`,
    [runId, wanted],
  );
  const row = rows[0];
  if (row === undefined) {
    throw new DatabaseError(`uuid migration: no run ${runId} in uuid_migration_runs`, { code: 'P0002', hint: 'uuid-lookup migrate runs lists the runs' });
  }
  if (!row.updated) {
    const why = row.requested === 'cancel' && isGoing(row.state) ? 'is being cancelled' : `has ended (${row.state})`;
    throw new DatabaseError(`uuid migration: run ${runId} ${why}: nothing to ${request}`, { code: '55000' });
  }
  return { state: row.state, requested: row.requested };
}
