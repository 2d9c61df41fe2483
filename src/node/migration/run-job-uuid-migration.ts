import type { MigrationMode } from '../../contract/migration.ts';
import { MIGRATION_MODES, MIGRATION_SHARDS } from '../../contract/migration.ts';
import type { Database } from '../db/database.ts';
import { DatabaseError } from '../db/database.ts';

/** One batch's outcome, as `migrate_job_uuids_batch()` reports it. */
export interface UuidMigrationBatch {
  processed: number;
  succeeded: number;
  skipped: number;
  failed: number;
  /** Keyset cursor: the next batch starts after this job id. */
  lastJobId: string | null;
  durationMs: number;
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
  const runId = options.runId ?? crypto.randomUUID();
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
  };
  let workerFailed = false;
  // Runs batches until the shard (or, unsharded, the whole table) has no work left.
  const drain = async (shard: number | null): Promise<void> => {
    let after: string | null = null;
    let size = batchSize;
    let transientRetries = 0;
    let successesSinceShrink = 0;
    for (;;) {
      if (workerFailed) return;
      if (options.signal?.aborted === true) {
        result.aborted = true;
        return;
      }
      const batchStarted = performance.now();
      let row: BatchRow | undefined;
      try {
        row = await db.transaction(async (tx) => {
          const { rows } = await tx.query<BatchRow>(
            'SELECT * FROM public.migrate_job_uuids_batch($1::integer, $2::uuid, $3::text, $4::uuid, $5::integer)',
            [size, after, mode, runId, shard],
          );
          return rows[0];
        });
      } catch (error) {
        // The batch rolled back whole. A timeout shrinks the batch; a deadlock or
        // serialization failure is tried again; anything else ends the run.
        const code = error instanceof DatabaseError ? error.code : undefined;
        if (code === '57014' && size > 1) {
          size = Math.max(1, Math.floor(size / 2));
          successesSinceShrink = 0;
          options.onRetry?.({ reason: 'statement_timeout', batchSize: size });
          continue;
        }
        if ((code === '40001' || code === '40P01') && transientRetries < MAX_TRANSIENT_RETRIES) {
          transientRetries += 1;
          options.onRetry?.({ reason: code === '40001' ? 'serialization_failure' : 'deadlock', batchSize: size });
          continue;
        }
        throw error;
      }
      transientRetries = 0;
      // Grow back towards the asked size once smaller batches go through.
      if (size < batchSize && ++successesSinceShrink >= 5) {
        size = Math.min(batchSize, size * 2);
        successesSinceShrink = 0;
      }
      if (row === undefined || row.processed === 0) return;
      const batch: UuidMigrationBatch = {
        processed: row.processed,
        succeeded: row.succeeded,
        skipped: row.skipped,
        failed: row.failed,
        lastJobId: row.last_job_id,
        durationMs: performance.now() - batchStarted,
      };
      result.batches += 1;
      result.processed += batch.processed;
      result.succeeded += batch.succeeded;
      result.skipped += batch.skipped;
      result.failed += batch.failed;
      result.slowestBatchMs = Math.max(result.slowestBatchMs, batch.durationMs);
      after = batch.lastJobId;
      await options.onBatch?.(batch);
      // PGlite answers in-process: without a turn of the event loop between
      // batches, a Ctrl-C (its signal handler) would wait for the whole run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  if (concurrency === 1) {
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
    const failures = await Promise.allSettled(Array.from({ length: concurrency }, worker));
    const failed = failures.find((f): f is PromiseRejectedResult => f.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
  result.durationMs = performance.now() - started;
  return result;
}
