import type { MigrationMode } from '../../contract/migration.ts';
import { MIGRATION_MODES, MIGRATION_SHARDS } from '../../contract/migration.ts';
import type { Database } from '../db/database.ts';
import { DatabaseError } from '../db/database.ts';
import type { HealthCheck, HoldReason, MigrationHealthLimits, Unhealthy } from './migration-health.ts';
import { createHealthCheck } from './migration-health.ts';
import { createBatchSizePolicy } from './batch-sizer.ts';
import { compactMigrationCounters } from './migration-stats.ts';
import type { RunProgress, RunRequest } from './migration-runs.ts';
import { beginRun, describeStarter, endRun, reportRunProgress, touchRun } from './migration-runs.ts';

/** One batch's outcome, as `migrate_job_uuids_batch()` reports it. */
export interface UuidMigrationBatch {
  processed: number;
  succeeded: number;
  skipped: number;
  failed: number;
  /** Keyset cursor: the next batch starts after this job id. */
  lastJobId: string | null;
  durationMs: number;
  /** Jobs this batch asked for, and what the next asks for (they differ after a timeout, or as the target batch time steers). */
  batchSize: number;
  nextBatchSize: number;
}

/** Totals of a run. */
export interface UuidMigrationRunResult {
  runId: string;
  batches: number;
  processed: number;
  succeeded: number;
  skipped: number;
  failed: number;
  durationMs: number;
  slowestBatchMs: number;
  /** True when the run stopped because `signal` was aborted; every finished batch is committed. */
  aborted: boolean;
  /** True when an operator cancelled the run (`uuid-lookup migrate cancel`); every finished batch is committed. */
  cancelled: boolean;
  /** Time spent held before batches, by reason (`paused` by an operator, or the database's health). */
  heldMillis: Partial<Record<HoldReason, number>>;
  /** False when the run found nothing to do and never held: it left no row in the runs table (`migrate runs`). */
  recorded: boolean;
}

/** A hold as the runner reports it: when it starts (or its reason changes), and when it ends. */
export interface MigrationHold {
  reason: HoldReason;
  detail: string;
  /** False when the hold starts; true when the run goes on (or stops) after it. */
  ended: boolean;
  /** How long this hold lasted, once ended. */
  heldMillis: number;
}

/** How a run paces itself (docs/architecture.md, "Back-fill pacing"). */
export interface MigrationPacing {
  /** The database's health, checked before each batch; the run holds while it is poor. Default: the defaults of {@link MigrationHealthLimits}; `false`: never hold for health. */
  health?: MigrationHealthLimits | false;
  /** How often a held (or paused) run looks again. Default 10000. */
  holdCheckMillis?: number;
  /** A pause after each batch. Default 0. */
  batchDelayMillis?: number;
  /**
   * A pause after each batch in proportion to its time, as gh-ost's `--nice-ratio`:
   * 1 sleeps as long as the batch took, so the back-fill holds its connection (and
   * a core of the database) at most half the time. Added to `batchDelayMillis`. Default 0.
   */
  niceRatio?: number;
  /**
   * Aim each batch at this time (milliseconds): the size follows the time per job of
   * the recent batches, from `batchSize` on, within 10 to 100000 jobs ({@link createBatchSizer}).
   * Off by default: every batch asks for `batchSize` jobs.
   */
  targetBatchMillis?: number;
}

/** Options of {@link runJobUuidMigration}. */
export interface RunJobUuidMigrationOptions {
  /** Jobs per batch (one transaction each). Default 5000. */
  batchSize?: number;
  /**
   * Which jobs without a UUID the run visits, each once (docs/architecture.md, "Database"):
   * `all` (default, the spec's process: failed and skipped ones included), `new` (never
   * attempted: the scheduled worker), `retry` (failed, or skipped with a service by now).
   */
  mode?: MigrationMode;
  /** Identifies the run in `uuid_migration_log.run_id`; generated when absent. */
  runId?: string;
  /** Called after each committed batch; the next batch waits for a returned promise. */
  onBatch?: (batch: UuidMigrationBatch) => void | Promise<void>;
  /** Stops between batches: a batch in flight commits or rolls back whole, never half. */
  signal?: AbortSignal;
  /** Called when a batch is tried again: smaller after a statement timeout, or after a deadlock. */
  onRetry?: (retry: { reason: 'statement_timeout' | 'serialization_failure' | 'deadlock'; batchSize: number }) => void;
  /**
   * Batches run at once, each on its own connection, each in its own shard of the
   * id space (16 fixed shards). Default 1. PGlite has one connection: always 1.
   */
  concurrency?: number;
  /** Holds for the database's health, and a delay between batches. */
  pacing?: MigrationPacing;
  /** Told when the run holds and when it goes on. */
  onHold?: (hold: MigrationHold) => void;
  /** Who runs it, for `migrate runs` (default: `migrate on <host> pid <pid>`). */
  startedBy?: string;
}


const MAX_TRANSIENT_RETRIES = 5;

interface BatchRow {
  processed: number;
  succeeded: number;
  skipped: number;
  failed: number;
  last_job_id: string | null;
}

/**
 * Back-fills `jobs.micro_uuid` batch by batch, each batch its own transaction,
 * so no lock on `jobs` outlives its batch and a stopped run resumes where it was.
 * A batch cancelled by `statement_timeout` is retried at half the size, down to
 * one job; a deadlock or serialization failure is retried as it was.
 *
 * @example
 * ```ts
 * const result = await runJobUuidMigration(db, { batchSize: 10_000, onBatch: (b) => bar.increment(b.processed) });
 * ```
 */
export async function runJobUuidMigration(
  db: Database,
  options: RunJobUuidMigrationOptions = {},
): Promise<UuidMigrationRunResult> {
  const settings = runSettings(db, options);
  const { runId, mode, batchSize } = settings;
  const started = performance.now();
  const result: UuidMigrationRunResult = {
    runId,
    batches: 0,
    processed: 0,
    succeeded: 0,
    skipped: 0,
    failed: 0,
    durationMs: 0,
    slowestBatchMs: 0,
    aborted: false,
    cancelled: false,
    heldMillis: {},
    recorded: true,
  };
  let workerFailed = false;
  const gate = createRunGate(db, settings, options, result, () => workerFailed);
  // Runs batches until the shard (or, unsharded, the whole table) has no work left.
  const drain = async (shard: number | null): Promise<void> => {
    let after: string | null = null;
    const sizes = createBatchSizePolicy(batchSize, settings.targetBatchMillis);
    let transientRetries = 0;
    for (;;) {
      if (!(await gate.pass())) return;
      const batchStarted = performance.now();
      const asked = sizes.size;
      let row: BatchRow | undefined;
      try {
        row = await db.transaction(async (tx) => {
          const { rows } = await tx.query<BatchRow>(
            'SELECT * FROM public.migrate_job_uuids_batch($1::integer, $2::uuid, $3::text, $4::uuid, $5::integer)',
            [asked, after, mode, runId, shard],
          );
          return rows[0];
        });
      } catch (error) {
        // The batch rolled back whole. A timeout shrinks the batch; a deadlock or
        // serialization failure is tried again; anything else ends the run.
        const code = error instanceof DatabaseError ? error.code : undefined;
        if (code === '57014' && asked > 1) {
          options.onRetry?.({ reason: 'statement_timeout', batchSize: sizes.timedOut() });
          continue;
        }
        if ((code === '40001' || code === '40P01') && transientRetries < MAX_TRANSIENT_RETRIES) {
          transientRetries += 1;
          options.onRetry?.({ reason: code === '40001' ? 'serialization_failure' : 'deadlock', batchSize: asked });
          continue;
        }
        throw error;
      }
      transientRetries = 0;
      const durationMs = performance.now() - batchStarted;
      const nextBatchSize = sizes.committed(asked, row?.processed ?? 0, durationMs);
      if (row === undefined || row.processed === 0) return;
      const batch: UuidMigrationBatch = {
        processed: row.processed,
        succeeded: row.succeeded,
        skipped: row.skipped,
        failed: row.failed,
        lastJobId: row.last_job_id,
        durationMs,
        batchSize: asked,
        nextBatchSize,
      };
      result.batches += 1;
      result.processed += batch.processed;
      result.succeeded += batch.succeeded;
      result.skipped += batch.skipped;
      result.failed += batch.failed;
      result.slowestBatchMs = Math.max(result.slowestBatchMs, batch.durationMs);
      after = batch.lastJobId;
      await gate.progress({ state: 'running', batches: 1, jobs: batch.processed, batchSize: asked, batchMillis: durationMs });
      await options.onBatch?.(batch);
      // PGlite answers in-process: without a turn of the event loop between
      // batches, a Ctrl-C (its signal handler) would wait for the whole run.
      await new Promise((resolve) => setImmediate(resolve));
      const pause = settings.batchDelayMillis + settings.niceRatio * durationMs;
      if (pause > 0) await gate.rest(pause);
    }
  };

  await beginRun(db, { runId, mode, startedBy: options.startedBy ?? describeStarter('migrate'), batchSize });
  try {
    if (settings.concurrency === 1) {
      await drain(null);
    } else {
      const shards = Array.from({ length: MIGRATION_SHARDS }, (_, shard) => shard);
      const worker = async (): Promise<void> => {
        try {
          for (let shard = shards.shift(); shard !== undefined; shard = shards.shift()) await drain(shard);
        } catch (error) {
          workerFailed = true; // the others stop before their next batch
          throw error;
        }
      };
      const failures = await Promise.allSettled(Array.from({ length: settings.concurrency }, worker));
      const failed = failures.find((f): f is PromiseRejectedResult => f.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
  } catch (error) {
    // Best effort: the database that failed the run may not take this either.
    await endRun(db, runId, 'failed', error instanceof Error ? error.message : String(error)).catch(() => undefined);
    throw error;
  }
  result.recorded = await endRun(db, runId, result.cancelled ? 'cancelled' : result.aborted ? 'stopped' : 'finished');
  // The run's counter deltas, and the app's since the last compaction, folded: best
  // effort, the stats are exact without it (a login without the grant skips it).
  await compactMigrationCounters(db).catch(() => null);
  result.durationMs = performance.now() - started;
  return result;
}

/** A run's options, checked (a RangeError names the bad one), with their defaults. */
interface RunSettings {
  runId: string;
  mode: MigrationMode;
  batchSize: number;
  concurrency: number;
  health: HealthCheck | undefined;
  holdCheckMillis: number;
  batchDelayMillis: number;
  niceRatio: number;
  targetBatchMillis: number | undefined;
}

function runSettings(db: Database, options: RunJobUuidMigrationOptions): RunSettings {
  const batchSize = options.batchSize ?? 5000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new RangeError(`uuid-lookup: batchSize must be an integer from 1 to 100000, got ${String(batchSize)}`);
  }
  const concurrency = db.kind === 'pglite' ? 1 : (options.concurrency ?? 1);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MIGRATION_SHARDS) {
    throw new RangeError(`uuid-lookup: concurrency must be an integer from 1 to ${MIGRATION_SHARDS}, got ${String(options.concurrency)}`);
  }
  const mode = options.mode ?? 'all';
  if (!MIGRATION_MODES.includes(mode)) {
    throw new RangeError(`uuid-lookup: mode must be one of ${MIGRATION_MODES.join(', ')}, got ${String(mode)}`);
  }
  const pacing = options.pacing ?? {};
  const niceRatio = pacing.niceRatio ?? 0;
  if (typeof niceRatio !== 'number' || !Number.isFinite(niceRatio) || niceRatio < 0 || niceRatio > 1000) {
    throw new RangeError(`uuid-lookup: niceRatio must be a number from 0 to 1000, got ${String(pacing.niceRatio)}`);
  }
  return {
    runId: options.runId ?? crypto.randomUUID(),
    mode,
    batchSize,
    concurrency,
    health: pacing.health === false ? undefined : createHealthCheck(pacing.health),
    holdCheckMillis: millisOption('holdCheckMillis', pacing.holdCheckMillis, 10_000, 1),
    batchDelayMillis: millisOption('batchDelayMillis', pacing.batchDelayMillis, 0, 0),
    niceRatio,
    targetBatchMillis: pacing.targetBatchMillis === undefined ? undefined : millisOption('targetBatchMillis', pacing.targetBatchMillis, 0, 10),
  };
}

/** Before each batch, whether the run goes on; and the run's progress, which brings back what an operator asked. */
interface RunGate {
  /** Go on (true), or stop (false: aborted, cancelled, or another worker of the run failed). */
  pass(): Promise<boolean>;
  progress(update: RunProgress): Promise<void>;
  /**
   * The pause between batches (--batch-delay, --nice-ratio): a heartbeat every holdCheckMillis,
   * so a long one is not taken for a dead runner, and over as soon as an operator pauses or
   * cancels the run (or it is stopped).
   */
  rest(millis: number): Promise<void>;
}

/**
 * Holds while an operator paused the run or the database's health is poor,
 * looking again every holdCheckMillis, with a heartbeat each time; counts the
 * time held by reason in `result.heldMillis`.
 */
function createRunGate(
  db: Database,
  settings: RunSettings,
  options: RunJobUuidMigrationOptions,
  result: UuidMigrationRunResult,
  workerFailed: () => boolean,
): RunGate {
  // What an operator asks of the run (the runs table), as the last heartbeat read it.
  let requested: RunRequest = 'run';
  const progress = async (update: RunProgress): Promise<void> => {
    requested = await reportRunProgress(db, settings.runId, update);
  };
  const stopped = (): boolean => {
    if (options.signal?.aborted === true) result.aborted = true;
    else if (requested === 'cancel') result.cancelled = true;
    return result.aborted || result.cancelled;
  };
  let hold: (Unhealthy | { reason: 'paused'; detail: string }) & { since: number; counted: number } | undefined;
  const account = (now: number): { reason: HoldReason; seconds: number } | undefined => {
    if (hold === undefined) return undefined;
    const millis = now - hold.counted;
    hold.counted = now;
    result.heldMillis[hold.reason] = (result.heldMillis[hold.reason] ?? 0) + millis;
    return { reason: hold.reason, seconds: millis / 1000 };
  };
  const announceEnd = (now: number): void => {
    if (hold !== undefined) options.onHold?.({ reason: hold.reason, detail: hold.detail, ended: true, heldMillis: now - hold.since });
  };
  const release = async (): Promise<void> => {
    if (hold === undefined) return;
    const now = performance.now();
    const heldSeconds = account(now);
    announceEnd(now);
    hold = undefined;
    await progress({ state: 'running', ...(heldSeconds === undefined ? {} : { heldSeconds }) });
  };
  return {
    progress,
    async rest(millis) {
      const until = performance.now() + millis;
      for (;;) {
        const left = until - performance.now();
        if (left <= 0 || requested !== 'run' || workerFailed() || stopped()) return;
        await sleep(Math.min(left, settings.holdCheckMillis), options.signal);
        // Only the heartbeat: another worker of the run may be holding, and its hold stays.
        if (until - performance.now() > 0) requested = await touchRun(db, settings.runId);
      }
    },
    async pass() {
      for (;;) {
        if (workerFailed() || stopped()) {
          await release();
          return false;
        }
        const why =
          requested === 'pause'
            ? { reason: 'paused' as const, detail: `paused by an operator (uuid-lookup migrate resume ${settings.runId})` }
            : await settings.health?.check(db);
        if (why === undefined) {
          await release();
          return true;
        }
        const now = performance.now();
        const heldSeconds = account(now);
        if (hold === undefined || hold.reason !== why.reason) {
          announceEnd(now);
          hold = { ...why, since: now, counted: now };
          options.onHold?.({ reason: why.reason, detail: why.detail, ended: false, heldMillis: 0 });
        }
        await progress({ state: why.reason === 'paused' ? 'paused' : 'held', hold: why, ...(heldSeconds === undefined ? {} : { heldSeconds }) });
        if (requested !== 'pause' && why.reason === 'paused') continue; // resumed: look at the health at once
        await sleep(settings.holdCheckMillis, options.signal);
      }
    },
  };
}

/** Resolves after `millis`, or at once when `signal` aborts. */
function sleep(millis: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, millis);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function millisOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 3_600_000) {
    throw new RangeError(`uuid-lookup: ${name} must be a number of milliseconds from ${min} to 3600000, got ${String(value)}`);
  }
  return value;
}
