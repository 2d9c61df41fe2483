import type { AnalyticsSink, SinkResult } from './analytics-sink.ts';
import type { UuidLookupEvent } from './lookup-event.ts';
import { toAnalyticsRow } from './lookup-event.ts';
import type { DropReason } from '../contract/metrics.ts';

/** Options of {@link createAnalyticsBatcher}; units in the names. */
export interface AnalyticsBatcherOptions {
  sink?: AnalyticsSink | undefined;
  /** Rows per write; a full batch is written at once. Default 10 (the spec's). */
  maxBatchSize?: number;
  /** A partial batch is written after this long. Default 5000. */
  flushIntervalMillis?: number;
  /** Rows held at most; beyond, new rows are refused (see {@link AnalyticsBatcher.enqueue}). Default 1000. */
  maxQueueSize?: number;
  /** First retry delay after a retryable failure; doubles per attempt, with full jitter. Default 500. */
  initialRetryDelayMillis?: number;
  /** Cap of the retry delay. Default 30000. */
  maxRetryDelayMillis?: number;
  /** Rows that can never land: refused (queue full), rejected by the sink, or abandoned at shutdown. */
  onDrop?: (reason: DropReason, count: number, error?: Error) => void;
  /** A write failed and will be retried. */
  onRetry?: (error: Error, delayMillis: number) => void;
  /** Jitter source; `Math.random` by default. */
  random?: () => number;
}

/** The outcome of one flush. */
export interface FlushResult {
  /** Rows that landed in this flush. */
  sent: number;
  /** Rows still queued (a retryable failure, or no sink yet). */
  pending: number;
}

/**
 * A bounded, batching, retrying queue of lookup events bound for analytics: at-least-once delivery
 * to the sink, made exactly-once by the rows' client ids.
 */
export interface AnalyticsBatcher {
  /**
   * Queues a row. Returns false, and counts `queue_full`, when the queue is full:
   * the policy is to refuse the newest, so a row once accepted is never pushed
   * out by later ones.
   */
  enqueue(event: UuidLookupEvent): boolean;
  /** Writes everything queued now, in batches. Never rejects. */
  flush(): Promise<FlushResult>;
  /**
   * Hands queued rows not handed over before to the sink's page-hide path
   * (keepalive). They stay queued in case the page lives on; a second delivery
   * is harmless, the database skips ids it has.
   */
  flushOnPageHide(): void;
  /** Flushes, retrying until `timeoutMillis`; what is left is dropped as `shutdown`. Idempotent. */
  shutdown(options?: { timeoutMillis?: number }): Promise<void>;
  setSink(sink: AnalyticsSink): void;
  readonly size: number;
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`uuid-lookup: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
};

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

const unref = (timer: unknown): void => {
  (timer as { unref?: () => void } | undefined)?.unref?.();
};

/**
 * @example
 * ```ts
 * const batcher = createAnalyticsBatcher({ sink, maxBatchSize: 10, onDrop: (reason, n) => dropped.add(n, { reason }) });
 * batcher.enqueue(event);
 * await batcher.shutdown();
 * ```
 */
export function createAnalyticsBatcher(options: AnalyticsBatcherOptions = {}): AnalyticsBatcher {
  const maxBatchSize = Math.floor(positive('maxBatchSize', options.maxBatchSize, 10));
  const flushIntervalMillis = positive('flushIntervalMillis', options.flushIntervalMillis, 5000);
  const maxQueueSize = Math.floor(positive('maxQueueSize', options.maxQueueSize, 1000));
  const initialRetryDelayMillis = positive('initialRetryDelayMillis', options.initialRetryDelayMillis, 500);
  const maxRetryDelayMillis = positive('maxRetryDelayMillis', options.maxRetryDelayMillis, 30_000);
  const random = options.random ?? Math.random;
  const onDrop = options.onDrop ?? (() => {});
  const onRetry = options.onRetry ?? (() => {});

  let sink = options.sink;
  const queue: UuidLookupEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = 0;
  let backoffUntil = 0;
  let attempt = 0;
  let inFlight: Promise<FlushResult> | undefined;
  let closed = false;
  let shutdownPromise: Promise<void> | undefined;
  let batchQueued = false;
  // Events already handed to the page-hide path: visibilitychange and pagehide
  // both fire when a tab goes away, and each event needs sending once.
  const handedOff = new WeakSet<UuidLookupEvent>();

  // One timer; a sooner need (a retry after a short backoff) moves it earlier.
  const schedule = (delayMillis: number): void => {
    if (closed) return;
    // An armed timer is never due later than one flush interval from now.
    if (timer !== undefined && delayMillis >= flushIntervalMillis) return;
    const due = Date.now() + delayMillis;
    if (timer !== undefined) {
      if (timerDue <= due) return;
      clearTimeout(timer);
    }
    timerDue = due;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delayMillis);
    unref(timer);
  };

  const remove = (rows: readonly UuidLookupEvent[]): void => {
    // Batches are taken from the front: the common case is a prefix.
    if (rows.length <= queue.length && rows.every((row, i) => queue[i] === row)) {
      queue.splice(0, rows.length);
      return;
    }
    const gone = new Set(rows);
    let kept = 0;
    for (const row of queue) if (!gone.has(row)) queue[kept++] = row;
    queue.length = kept;
  };

  const write = async (rows: readonly UuidLookupEvent[]): Promise<SinkResult> => {
    if (sink === undefined) return { status: 'retryable', error: new Error('no sink configured') };
    try {
      // Rows are built here, when written, not on the logger's hot path.
      return await sink.write(rows.map(toAnalyticsRow));
    } catch (error) {
      // A sink that throws breaks its contract; treat it as transient, not as data loss.
      return { status: 'retryable', error: asError(error) };
    }
  };

  // Writes rows; a rejected batch is split until the rejected rows are isolated.
  // Returns how many landed, or the retryable failure that stopped it.
  const writeIsolating = async (
    rows: readonly UuidLookupEvent[],
  ): Promise<{ sent: number; retry?: { error: Error; retryAfterMillis?: number } }> => {
    const result = await write(rows);
    if (result.status === 'success') {
      remove(rows);
      return { sent: rows.length };
    }
    if (result.status === 'retryable') {
      return { sent: 0, retry: { error: result.error, ...(result.retryAfterMillis === undefined ? {} : { retryAfterMillis: result.retryAfterMillis }) } };
    }
    if (rows.length === 1) {
      remove(rows);
      onDrop('rejected', 1, result.error);
      return { sent: 0 };
    }
    const half = Math.ceil(rows.length / 2);
    const first = await writeIsolating(rows.slice(0, half));
    if (first.retry) return first;
    const second = await writeIsolating(rows.slice(half));
    return { sent: first.sent + second.sent, ...(second.retry ? { retry: second.retry } : {}) };
  };

  // all = false: only full batches (a batch filled up); true: everything (interval, flush, shutdown).
  const pump = async (all: boolean): Promise<FlushResult> => {
    let sent = 0;
    while (queue.length >= (all ? 1 : maxBatchSize)) {
      if (sink === undefined) break;
      const batch = queue.slice(0, maxBatchSize);
      const outcome = await writeIsolating(batch);
      sent += outcome.sent;
      if (outcome.retry) {
        attempt += 1;
        const ceiling = Math.min(maxRetryDelayMillis, initialRetryDelayMillis * 2 ** (attempt - 1));
        // Full jitter (AWS architecture blog), floored by a server's Retry-After.
        const delay = Math.max(outcome.retry.retryAfterMillis ?? 0, random() * ceiling);
        backoffUntil = Date.now() + delay;
        onRetry(outcome.retry.error, delay);
        schedule(delay);
        break;
      }
      attempt = 0;
    }
    return { sent, pending: queue.length };
  };

  const run = (all: boolean): Promise<FlushResult> => {
    if (inFlight !== undefined) return all ? inFlight.then(() => run(true)) : inFlight;
    if (all && timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    inFlight = pump(all).finally(() => {
      inFlight = undefined;
      if (queue.length > 0 && sink !== undefined) schedule(Math.max(flushIntervalMillis, backoffUntil - Date.now()));
    });
    return inFlight;
  };
  const flush = (): Promise<FlushResult> => run(true);

  return {
    enqueue(event: UuidLookupEvent): boolean {
      if (closed) {
        onDrop('shutdown', 1);
        return false;
      }
      if (queue.length >= maxQueueSize) {
        onDrop('queue_full', 1);
        return false;
      }
      queue.push(event);
      if (sink === undefined) return true;
      if (queue.length >= maxBatchSize && inFlight === undefined && !batchQueued && Date.now() >= backoffUntil) {
        // Off the caller's stack: building and sending the batch is not the
        // lookup's cost.
        batchQueued = true;
        queueMicrotask(() => {
          batchQueued = false;
          void run(false);
        });
      } else {
        schedule(flushIntervalMillis);
      }
      return true;
    },
    flush,
    flushOnPageHide(): void {
      const fresh = queue.filter((event) => !handedOff.has(event));
      if (sink?.writeOnPageHide === undefined || fresh.length === 0) return;
      for (const event of fresh) handedOff.add(event);
      try {
        sink.writeOnPageHide(fresh.map(toAnalyticsRow));
      } catch {
        // Best effort: the rows stay queued for the normal path.
      }
    },
    shutdown(shutdownOptions: { timeoutMillis?: number } = {}): Promise<void> {
      if (shutdownPromise !== undefined) return shutdownPromise;
      const deadline = Date.now() + (shutdownOptions.timeoutMillis ?? 5000);
      shutdownPromise = (async () => {
        while (queue.length > 0 && sink !== undefined && Date.now() < deadline) {
          if (inFlight !== undefined) await inFlight;
          const before = queue.length;
          await flush();
          if (queue.length === 0) break;
          if (queue.length === before) {
            // Retryable failure: wait for the backoff, but not past the deadline.
            const wait = Math.min(Math.max(backoffUntil - Date.now(), 0), deadline - Date.now());
            // Not unref'd: a process awaiting shutdown must not exit before it ends.
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          }
        }
        closed = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        if (queue.length > 0) {
          onDrop('shutdown', queue.length);
          queue.length = 0;
        }
      })();
      return shutdownPromise;
    },
    setSink(next: AnalyticsSink): void {
      sink = next;
      if (queue.length > 0) schedule(0);
    },
    get size(): number {
      return queue.length;
    },
  };
}
