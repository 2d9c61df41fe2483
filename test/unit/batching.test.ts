import { describe, expect, it } from 'vitest';
import type { AnalyticsSink } from '../../src/core/analytics-sink.ts';
import { createAnalyticsBatcher } from '../../src/core/analytics-batcher.ts';
import { deliver } from '../../src/core/batching/delivery.ts';
import { createEventQueue } from '../../src/core/batching/event-queue.ts';
import { createRetryPolicy } from '../../src/core/batching/retry-policy.ts';
import type { UuidLookupEvent } from '../../src/core/lookup-event.ts';

// The batcher's parts, each on its own: the queue, the retry policy, the delivery.

const event = (n: number): UuidLookupEvent => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  microSlug: `slug-${n}`,
  microUuid: null,
  lookupTimeMs: n,
  success: false,
  fallbackUsed: false,
  errorMessage: 'Service not found',
  createdAtMillis: 0,
});

describe('the event queue', () => {
  it('refuses the newest when full, so an accepted event is never pushed out', () => {
    const queue = createEventQueue(2);
    const [a, b, c] = [event(1), event(2), event(3)];
    expect([queue.push(a), queue.push(b), queue.push(c)]).toEqual([true, true, false]);
    expect(queue.peek(5)).toEqual([a, b]);
  });

  it('removes events wherever they stand, and hands each to the page-hide path once', () => {
    const queue = createEventQueue(10);
    const events = [1, 2, 3, 4].map(event);
    for (const e of events) queue.push(e);
    queue.remove([events[2]!]);
    expect(queue.peek(10)).toEqual([events[0], events[1], events[3]]);
    expect(queue.takeNotHandedOff()).toHaveLength(3);
    queue.push(event(5));
    expect(queue.takeNotHandedOff().map((e) => e.microSlug)).toEqual(['slug-5']);
    expect(queue.clear()).toBe(4);
    expect(queue.size).toBe(0);
  });
});

describe('the retry policy', () => {
  it('draws below a ceiling that doubles per attempt up to the cap, never under Retry-After, and starts over', () => {
    const policy = createRetryPolicy({ initialDelayMillis: 100, maxDelayMillis: 500, random: () => 0.5 });
    expect([policy.nextDelay(), policy.nextDelay(), policy.nextDelay(), policy.nextDelay()]).toEqual([50, 100, 200, 250]);
    expect(policy.nextDelay(2000)).toBe(2000);
    policy.reset();
    expect(policy.nextDelay()).toBe(50);
  });
});

describe('the delivery', () => {
  it('isolates the rows the sink refuses and lands the rest, in as few writes as halving needs', async () => {
    const writes: number[] = [];
    const sink: AnalyticsSink = {
      async write(rows) {
        writes.push(rows.length);
        return rows.some((r) => r.event_properties.micro_slug === 'slug-6')
          ? { status: 'rejected', error: new Error('violates check constraint') }
          : { status: 'success' };
      },
    };
    const delivery = await deliver(sink, [1, 2, 3, 4, 5, 6, 7, 8].map(event));
    expect(delivery.landed.map((e) => e.microSlug)).toEqual(['slug-1', 'slug-2', 'slug-3', 'slug-4', 'slug-5', 'slug-7', 'slug-8']);
    expect(delivery.rejected.map((r) => r.event.microSlug)).toEqual(['slug-6']);
    expect(writes).toEqual([8, 4, 4, 2, 1, 1, 2]);
  });

  it('lands a batch in conflict (ids already stored) once: each stored row counts as landed, the others are written', async () => {
    // As the primary key does: a statement holding a stored id writes nothing.
    const stored = new Set([event(2).id, event(5).id]);
    const writes: number[] = [];
    const sink: AnalyticsSink = {
      async write(rows) {
        writes.push(rows.length);
        if (rows.some((r) => stored.has(r.id))) return { status: 'conflict', error: new Error('duplicate key value') };
        for (const r of rows) stored.add(r.id);
        return { status: 'success' };
      },
    };
    const delivery = await deliver(sink, [1, 2, 3, 4, 5, 6, 7, 8].map(event));
    expect(delivery.landed.map((e) => e.microSlug).sort()).toEqual(['slug-1', 'slug-2', 'slug-3', 'slug-4', 'slug-5', 'slug-6', 'slug-7', 'slug-8']);
    expect(delivery.rejected).toEqual([]);
    expect([...stored].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => event(n).id));
    // 8 -> 4 (2 stored) -> 2 -> 1, 1 | 2 ; 4 (5 stored) -> 2 -> 1, 1 | 2
    expect(writes).toEqual([8, 4, 2, 1, 1, 2, 4, 2, 1, 1, 2]);
  });

  it('stops at a retryable failure and says so, a throwing sink included', async () => {
    const sink: AnalyticsSink = {
      async write() {
        throw new Error('socket hang up');
      },
    };
    const delivery = await deliver(sink, [event(1)]);
    expect(delivery).toMatchObject({ landed: [], rejected: [], retry: { error: { message: 'socket hang up' } } });
  });
});

describe('the batcher options', () => {
  it('refuses a batch larger than the queue', () => {
    expect(() => createAnalyticsBatcher({ maxExportBatchSize: 50, maxQueueSize: 10 })).toThrow(
      'uuid-lookup: maxExportBatchSize (50) must not exceed maxQueueSize (10)',
    );
  });
});
