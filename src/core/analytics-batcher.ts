import type { AnalyticsSink } from './analytics-sink.ts';
import { deliver } from './batching/delivery.ts';
import { createEventQueue } from './batching/event-queue.ts';
import { createRetryPolicy } from './batching/retry-policy.ts';
import type { UuidLookupEvent } from './lookup-event.ts';
import { eventId, toAnalyticsRow } from './lookup-event.ts';
import type { DropReason } from '../contract/metrics.ts';

/** Options of {@link createAnalyticsBatcher}; units in the names. */
export interface AnalyticsBatcherOptions {
  sink?: AnalyticsSink | undefined;
  /** Rows per write (OpenTelemetry's BatchProcessor name); a full batch is written at once. Default 10 (the spec's). At most maxQueueSize. */
  maxExportBatchSize?: number;
  /** A partial batch is written after this long (OpenTelemetry's name). Default 5000. */
  scheduledDelayMillis?: number;
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
   * (keepalive). They stay queued in case the page lives on, until the sink
   * reports them landed; a second delivery is harmless: the database refuses
   * ids it has, and the queue counts such rows as delivered.
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

const unref = (timer: unknown): void => {
  (timer as { unref?: () => void } | undefined)?.unref?.();
};

/**
 * @example
 * ```ts
 * const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, onDrop: (reason, n) => dropped.add(n, { reason }) });
 * batcher.enqueue(event);
 * await batcher.shutdown();
 * ```
 */
export function createAnalyticsBatcher(options: AnalyticsBatcherOptions = {}): AnalyticsBatcher {
  const { batchSize, delayMillis, maxQueueSize, retryPolicy } = batcherSettings(options);
  const onDrop = options.onDrop ?? (() => {});
  const onRetry = options.onRetry ?? (() => {});

  let sink = options.sink;
  const queue = createEventQueue(maxQueueSize);
  let backoffUntil = 0;
  let inFlight: Promise<FlushResult> | undefined;
  let closed = false;
  let shutdownPromise: Promise<void> | undefined;
  let batchQueued = false;

  const timer = createFlushTimer(delayMillis, () => void flush());
  const schedule = (inMillis: number): void => {
    if (!closed) timer.schedule(inMillis);
  };

  // all = false: only full batches (a batch filled up); true: everything (interval, flush, shutdown).
  const pump = async (all: boolean): Promise<FlushResult> => {
    let sent = 0;
    while (sink !== undefined && queue.size >= (all ? 1 : batchSize)) {
      const delivery = await deliver(sink, queue.peek(batchSize));
      queue.remove(delivery.landed);
      queue.remove(delivery.rejected.map((r) => r.event));
      for (const { error } of delivery.rejected) onDrop('rejected', 1, error);
      sent += delivery.landed.length;
      if (delivery.retry) {
        const delay = retryPolicy.nextDelay(delivery.retry.retryAfterMillis);
        backoffUntil = Date.now() + delay;
        onRetry(delivery.retry.error, delay);
        schedule(delay);
        break;
      }
      retryPolicy.reset();
    }
    return { sent, pending: queue.size };
  };

  const run = (all: boolean): Promise<FlushResult> => {
    if (inFlight !== undefined) return all ? inFlight.then(() => run(true)) : inFlight;
    if (all) timer.cancel();
    inFlight = pump(all).finally(() => {
      inFlight = undefined;
      if (queue.size > 0 && sink !== undefined) schedule(Math.max(delayMillis, backoffUntil - Date.now()));
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
      if (!queue.push(event)) {
        onDrop('queue_full', 1);
        return false;
      }
      if (sink === undefined) return true;
      if (queue.size >= batchSize && inFlight === undefined && !batchQueued && Date.now() >= backoffUntil) {
        // Off the caller's stack: building and sending the batch is not the
        // lookup's cost.
        batchQueued = true;
        queueMicrotask(() => {
          batchQueued = false;
          void run(false);
        });
      } else {
        schedule(delayMillis);
      }
      return true;
    },
    flush,
    flushOnPageHide(): void {
      if (sink !== undefined) handOffOnPageHide(sink, queue);
    },
    shutdown(shutdownOptions: { timeoutMillis?: number } = {}): Promise<void> {
      if (shutdownPromise !== undefined) return shutdownPromise;
      const deadline = Date.now() + (shutdownOptions.timeoutMillis ?? 5000);
      shutdownPromise = (async () => {
        while (queue.size > 0 && sink !== undefined && Date.now() < deadline) {
          if (inFlight !== undefined) await inFlight;
          const before = queue.size;
          await flush();
          if (queue.size === 0) break;
          if (queue.size === before) {
            // Retryable failure: wait for the backoff, but not past the deadline.
            const wait = Math.min(Math.max(backoffUntil - Date.now(), 0), deadline - Date.now());
            // Not unref'd: a process awaiting shutdown must not exit before it ends.
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          }
        }
        closed = true;
        timer.cancel();
        const abandoned = queue.clear();
        if (abandoned > 0) onDrop('shutdown', abandoned);
      })();
      return shutdownPromise;
    },
    setSink(next: AnalyticsSink): void {
      sink = next;
      if (queue.size > 0) schedule(0);
    },
    get size(): number {
      return queue.size;
    },
  };
}

/** The options checked (a RangeError names the bad one), with their defaults. */
function batcherSettings(options: AnalyticsBatcherOptions) {
  const batchSize = Math.floor(positive('maxExportBatchSize', options.maxExportBatchSize, 10));
  const delayMillis = positive('scheduledDelayMillis', options.scheduledDelayMillis, 5000);
  const maxQueueSize = Math.floor(positive('maxQueueSize', options.maxQueueSize, 1000));
  if (batchSize > maxQueueSize) {
    throw new RangeError(`uuid-lookup: maxExportBatchSize (${batchSize}) must not exceed maxQueueSize (${maxQueueSize})`);
  }
  const retryPolicy = createRetryPolicy({
    initialDelayMillis: positive('initialRetryDelayMillis', options.initialRetryDelayMillis, 500),
    maxDelayMillis: positive('maxRetryDelayMillis', options.maxRetryDelayMillis, 30_000),
    random: options.random ?? Math.random,
  });
  return { batchSize, delayMillis, maxQueueSize, retryPolicy };
}

/**
 * Hands the queued rows not handed over before to the sink's page-hide path. They
 * stay queued: if the page lives on and the sink knows what landed, those rows are
 * delivered, and the others may go by the page-hide path again next time.
 */
function handOffOnPageHide(sink: AnalyticsSink, queue: ReturnType<typeof createEventQueue>): void {
  if (sink.writeOnPageHide === undefined) return;
  const fresh = queue.takeNotHandedOff();
  if (fresh.length === 0) return;
  try {
    const landed = sink.writeOnPageHide(fresh.map(toAnalyticsRow));
    void landed?.then(
      (rows) => {
        const ids = new Set(rows.map((row) => row.id));
        const delivered: UuidLookupEvent[] = [];
        const undelivered: UuidLookupEvent[] = [];
        for (const event of fresh) (ids.has(eventId(event)) ? delivered : undelivered).push(event);
        queue.remove(delivered);
        queue.releaseHandedOff(undelivered);
      },
      () => queue.releaseHandedOff(fresh),
    );
  } catch {
    // Best effort: the rows stay queued for the normal path.
  }
}

/**
 * The queue's one timer: armed at most one flush interval ahead; a sooner need (a
 * retry after a short backoff) moves it earlier, a later one leaves it.
 */
function createFlushTimer(delayMillis: number, fire: () => void): { schedule(inMillis: number): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = 0;
  return {
    schedule(inMillis) {
      if (timer !== undefined && inMillis >= delayMillis) return;
      const due = Date.now() + inMillis;
      if (timer !== undefined) {
        if (timerDue <= due) return;
        clearTimeout(timer);
      }
      timerDue = due;
      timer = setTimeout(() => {
        timer = undefined;
        fire();
      }, inMillis);
      unref(timer);
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
