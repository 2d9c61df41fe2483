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
