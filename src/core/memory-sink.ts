import type { AnalyticsSink, SinkResult } from './analytics-sink.ts';
import type { AnalyticsEventRow } from './lookup-event.ts';

/** An {@link AnalyticsSink} that keeps rows in memory, idempotent by id like the database. */
export interface MemorySink extends AnalyticsSink {
  readonly rows: AnalyticsEventRow[];
  /** How many `write` calls it has answered. */
  readonly writes: number;
}

/**
 * For tests and local development.
 *
 * @example
 * ```ts
 * const sink = createMemorySink();
 * const logger = createUuidLookupLogger({ sink });
 * ```
 */
export function createMemorySink(): MemorySink {
  const seen = new Set<string>();
  const rows: AnalyticsEventRow[] = [];
  const sink = {
    rows,
    writes: 0,
    async write(batch: readonly AnalyticsEventRow[]): Promise<SinkResult> {
      sink.writes += 1;
      for (const row of batch) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        rows.push(row);
      }
      return { status: 'success' };
    },
  };
  return sink;
}
