import type { AnalyticsEventRow } from './lookup-event.ts';

/**
 * What a sink reports for a batch, as OTel exporters do (a value, never a throw):
 * - `success`: every row landed (or had landed before: ids make writes idempotent);
 * - `retryable`: nothing is known to have landed and trying again may work
 *   (network, 429, 5xx, a restarting database);
 * - `rejected`: the batch as a whole was refused and will be refused again
 *   (a constraint, a policy): the queue splits it to find the bad rows;
 * - `conflict`: the batch was refused, nothing of it written, because a row's id
 *   is already stored (a retry of a batch that landed, or rows the page-hide path
 *   sent before): the queue splits it, and a single row in conflict counts as
 *   delivered, since it landed earlier.
 */
export type SinkResult =
  | { status: 'success' }
  | { status: 'retryable'; error: Error; retryAfterMillis?: number }
  | { status: 'rejected'; error: Error }
  | { status: 'conflict'; error: Error };

/** Where analytics events are written: `analytics_events` through supabase-js or node-postgres, or memory. */
export interface AnalyticsSink {
  write(rows: readonly AnalyticsEventRow[]): Promise<SinkResult>;
  /**
   * Best effort while the page is going away (browsers): must start the request
   * synchronously (fetch with `keepalive`). Optional. May return the rows that
   * landed, once known: if the page lives on (a tab switch), the queue forgets
   * them instead of sending them again (which the database would refuse as
   * duplicates, one request per halving).
   */
  writeOnPageHide?(rows: readonly AnalyticsEventRow[]): void | Promise<readonly AnalyticsEventRow[]>;
}

// What retrying cannot fix: the row itself is refused (a constraint, a type, the
// RLS policy). Branch on codes, never on message text (postgrest-js errors keep
// Postgres's SQLSTATE in `code`).
// 23505 is not among them: the table's only unique index is its primary key, so
// it means an id already stored (a retried batch that had landed), and the batch
// is in `conflict` (20261128001500_duplicate_events_refused.sql).
/** SQLSTATE unique_violation: on analytics_events, an id already stored. */
export const DUPLICATE_ID_CODE = '23505';

/** True for SQLSTATEs that refuse the row itself: data exceptions (22), integrity (23, but 23505), privileges (42501). */
export const isRefusedRowCode = (code: string): boolean =>
  code.startsWith('22') || (code.startsWith('23') && code !== DUPLICATE_ID_CODE) || code === '42501';

/**
 * What a write that failed with SQLSTATE `code` means for the queue: an id
 * already stored is a `conflict`, a refused row is `rejected`, anything else
 * (or no code) is `retryable`. Both sinks classify with it.
 */
export function classifySqlState(code: string | undefined, failure: Error): SinkResult {
  if (code === DUPLICATE_ID_CODE) return { status: 'conflict', error: failure };
  if (code !== undefined && isRefusedRowCode(code)) return { status: 'rejected', error: failure };
  return { status: 'retryable', error: failure };
}
