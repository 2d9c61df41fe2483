import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnalyticsSink, SinkResult } from '../../src/core/analytics-sink.ts';
import { createAnalyticsBatcher } from '../../src/core/analytics-batcher.ts';
import type { AnalyticsEventRow, UuidLookupEvent } from '../../src/core/lookup-event.ts';
import { createMemorySink } from '../../src/core/memory-sink.ts';
import type { DropReason } from '../../src/contract/metrics.ts';

let sequence = 0;
function event(slug = 'wall-painting'): UuidLookupEvent {
  sequence += 1;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    microSlug: slug,
    microUuid: null,
    lookupTimeMs: 10,
    success: false,
    fallbackUsed: false,
    errorMessage: 'Service not found',
    createdAtMillis: Date.now(),
  };
}

/** A sink that answers from a script, then succeeds, and keeps what landed by id. */
function scriptedSink(script: ((rows: readonly AnalyticsEventRow[]) => SinkResult | undefined)[]) {
  const landed = new Map<string, AnalyticsEventRow>();
  const calls: number[] = [];
  const sink: AnalyticsSink = {
    async write(rows) {
      calls.push(rows.length);
      const answer = script.shift()?.(rows);
      if (answer !== undefined && answer.status !== 'success') return answer;
      for (const row of rows) landed.set(row.id, row);
      return { status: 'success' };
    },
  };
  return { sink, landed, calls };
}

const retryable = (): SinkResult => ({ status: 'retryable', error: new Error('503 Service Unavailable') });

describe('analytics batcher', () => {
  let drops: [DropReason, number][];
  const onDrop = (reason: DropReason, count: number): void => {
    drops.push([reason, count]);
  };
  beforeEach(() => {
    vi.useFakeTimers();
    drops = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a full batch of 10 at once and a partial one after the flush interval', async () => {
    const sink = createMemorySink();
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, scheduledDelayMillis: 5000, onDrop });
    for (let i = 0; i < 13; i += 1) batcher.enqueue(event());
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.rows).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(4999);
    expect(sink.rows).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.rows).toHaveLength(13);
    expect(sink.rows[0]).toMatchObject({ event_name: 'uuid_lookup', event_category: 'wizard_flow' });
    expect(drops).toEqual([]);
  });

  it('retries a retryable failure with growing, jittered delays and lands each row once', async () => {
    const { sink, landed, calls } = scriptedSink([retryable, retryable]);
    const delays: number[] = [];
    const batcher = createAnalyticsBatcher({
      sink,
      maxExportBatchSize: 10,
      initialRetryDelayMillis: 100,
      random: () => 1,
      onRetry: (_error, delay) => delays.push(delay),
      onDrop,
    });
    const events = Array.from({ length: 10 }, () => event());
    for (const e of events) batcher.enqueue(e);
    await vi.advanceTimersByTimeAsync(0);
    expect(landed.size).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(landed.size).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect([...landed.keys()].sort()).toEqual(events.map((e) => e.id).sort());
    expect(delays).toEqual([100, 200]);
    expect(calls).toEqual([10, 10, 10]);
    expect(drops).toEqual([]);
  });

  it('honours a Retry-After longer than its own backoff', async () => {
    const { sink, landed } = scriptedSink([() => ({ status: 'retryable', error: new Error('429'), retryAfterMillis: 2000 })]);
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 1, initialRetryDelayMillis: 10, onDrop });
    batcher.enqueue(event());
    await vi.advanceTimersByTimeAsync(1999);
    expect(landed.size).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(landed.size).toBe(1);
  });

  it('isolates a rejected row, drops and counts only it, and lands the rest', async () => {
    const bad = event('bad');
    const rejectBad = (rows: readonly AnalyticsEventRow[]): SinkResult | undefined =>
      rows.some((row) => row.id === bad.id) ? { status: 'rejected', error: new Error('23514 check violation') } : undefined;
    const { sink, landed } = scriptedSink(Array.from({ length: 10 }, () => rejectBad));
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, onDrop });
    const good = Array.from({ length: 9 }, () => event());
    for (const e of [...good.slice(0, 4), bad, ...good.slice(4)]) batcher.enqueue(e);
    await vi.advanceTimersByTimeAsync(0);
    expect([...landed.keys()].sort()).toEqual(good.map((e) => e.id).sort());
    expect(drops).toEqual([['rejected', 1]]);
    expect(batcher.size).toBe(0);
  });

  it('refuses new rows when full, counts them, and still delivers every accepted row', async () => {
    const { sink, landed } = scriptedSink([retryable]);
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 5, maxQueueSize: 5, initialRetryDelayMillis: 50, random: () => 1, onDrop });
    const accepted = Array.from({ length: 5 }, () => event());
    expect(accepted.map((e) => batcher.enqueue(e))).toEqual([true, true, true, true, true]);
    expect(batcher.enqueue(event())).toBe(false);
    expect(batcher.enqueue(event())).toBe(false);
    expect(drops).toEqual([['queue_full', 1], ['queue_full', 1]]);
    await vi.advanceTimersByTimeAsync(60);
    expect([...landed.keys()].sort()).toEqual(accepted.map((e) => e.id).sort());
  });

  it('treats a sink that throws as a transient failure, not as lost data', async () => {
    let thrown = false;
    const landed: string[] = [];
    const sink: AnalyticsSink = {
      async write(rows) {
        if (!thrown) {
          thrown = true;
          throw new TypeError('fetch failed');
        }
        landed.push(...rows.map((r) => r.id));
        return { status: 'success' };
      },
    };
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 1, initialRetryDelayMillis: 10, random: () => 1, onDrop });
    const e = event();
    batcher.enqueue(e);
    await vi.advanceTimersByTimeAsync(20);
    expect(landed).toEqual([e.id]);
  });

  it('shares one write between concurrent flushes', async () => {
    const { sink, calls } = scriptedSink([]);
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, onDrop });
    batcher.enqueue(event());
    batcher.enqueue(event());
    const results = await Promise.all([batcher.flush(), batcher.flush()]);
    expect(results.map((r) => r.pending)).toEqual([0, 0]);
    expect(calls).toEqual([2]);
  });

  it('flushes on shutdown, is safe to call twice, and refuses rows after it', async () => {
    const sink = createMemorySink();
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, onDrop });
    batcher.enqueue(event());
    batcher.enqueue(event());
    const first = batcher.shutdown();
    expect(batcher.shutdown()).toBe(first);
    await first;
    expect(sink.rows).toHaveLength(2);
    expect(batcher.enqueue(event())).toBe(false);
    expect(drops).toEqual([['shutdown', 1]]);
  });

  it('gives up at the shutdown deadline when the sink stays down, counting what it drops', async () => {
    const { sink, landed } = scriptedSink(Array.from({ length: 100 }, () => retryable));
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, initialRetryDelayMillis: 100, onDrop });
    for (let i = 0; i < 3; i += 1) batcher.enqueue(event());
    const done = batcher.shutdown({ timeoutMillis: 1000 });
    await vi.advanceTimersByTimeAsync(1500);
    await done;
    expect(landed.size).toBe(0);
    expect(drops).toEqual([['shutdown', 3]]);
  });

  it('holds rows until a sink is set, then delivers them', async () => {
    const batcher = createAnalyticsBatcher({ maxExportBatchSize: 10, onDrop });
    batcher.enqueue(event());
    await vi.advanceTimersByTimeAsync(10_000);
    const sink = createMemorySink();
    batcher.setSink(sink);
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.rows).toHaveLength(1);
  });

  it('forgets what a page-hide write landed, and hands the rest to the next page hide', async () => {
    const handed: string[][] = [];
    // The page-hide path lands the first row of each write, and not the others.
    const sink: AnalyticsSink = {
      write: async () => ({ status: 'success' }),
      writeOnPageHide: (rows) => {
        handed.push(rows.map((r) => r.id));
        return Promise.resolve(rows.slice(0, 1));
      },
    };
    const batcher = createAnalyticsBatcher({ sink, maxExportBatchSize: 10, scheduledDelayMillis: 600_000, onDrop });
    const events = [event(), event(), event()];
    for (const e of events) batcher.enqueue(e);
    batcher.flushOnPageHide();
    await vi.advanceTimersByTimeAsync(0);
    expect(batcher.size).toBe(2);
    batcher.flushOnPageHide();
    await vi.advanceTimersByTimeAsync(0);
    // Without the release, the second hide hands nothing over.
    expect(handed).toEqual([events.map((e) => e.id), [events[1]!.id, events[2]!.id]]);
    expect(batcher.size).toBe(1);
  });

  it('rejects configuration errors at construction with a prefixed message', () => {
    expect(() => createAnalyticsBatcher({ maxExportBatchSize: 0 })).toThrow('uuid-lookup: maxExportBatchSize must be a positive number, got 0');
    expect(() => createAnalyticsBatcher({ maxQueueSize: Number.NaN })).toThrow(/uuid-lookup: maxQueueSize/);
  });
});
