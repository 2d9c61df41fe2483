import type { AnalyticsSink, SinkResult } from '../analytics-sink.ts';
import type { UuidLookupEvent } from '../lookup-event.ts';
import { toAnalyticsRow } from '../lookup-event.ts';

/** What one delivery did: rows that landed, rows the sink refused for good, and a failure worth retrying. */
export interface Delivery {
  landed: UuidLookupEvent[];
  rejected: { event: UuidLookupEvent; error: Error }[];
  retry?: { error: Error; retryAfterMillis?: number };
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

async function write(sink: AnalyticsSink, events: readonly UuidLookupEvent[]): Promise<SinkResult> {
  try {
    // Rows are built here, when written, not on the logger's hot path.
    return await sink.write(events.map(toAnalyticsRow));
  } catch (error) {
    // A sink that throws breaks its contract; treat it as transient, not as data loss.
    return { status: 'retryable', error: asError(error) };
  }
}

/**
 * Writes a batch; a batch the sink refuses is split in halves until the refused
 * rows are isolated, so one bad row never costs the others. A batch in conflict
 * (an id already stored) is split the same way: a single row in conflict landed
 * before, so it counts as landed, once. Stops at the first retryable failure:
 * what follows stays for the next attempt.
 */
export async function deliver(sink: AnalyticsSink, events: readonly UuidLookupEvent[]): Promise<Delivery> {
  const result = await write(sink, events);
  if (result.status === 'success') return { landed: [...events], rejected: [] };
  if (result.status === 'retryable') {
    return {
      landed: [],
      rejected: [],
      retry: { error: result.error, ...(result.retryAfterMillis === undefined ? {} : { retryAfterMillis: result.retryAfterMillis }) },
    };
  }
  if (events.length === 1) {
    return result.status === 'conflict' ? { landed: [...events], rejected: [] } : { landed: [], rejected: [{ event: events[0]!, error: result.error }] };
  }
  const half = Math.ceil(events.length / 2);
  const first = await deliver(sink, events.slice(0, half));
  if (first.retry) return first;
  const second = await deliver(sink, events.slice(half));
  return {
    landed: [...first.landed, ...second.landed],
    rejected: [...first.rejected, ...second.rejected],
    ...(second.retry ? { retry: second.retry } : {}),
  };
}
