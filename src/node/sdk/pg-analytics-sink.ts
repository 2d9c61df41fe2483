import type { AnalyticsSink, SinkResult } from '../../core/analytics-sink.ts';
import { classifySqlState } from '../../core/analytics-sink.ts';
import type { Queryable } from '../db/database.ts';
import { toDatabaseError } from '../db/database.ts';

// One statement per batch, the rows as one JSON parameter. ON CONFLICT (id) DO
// NOTHING makes a retried batch land once (this path runs as a server role that
// may read the table; on the public path the primary key refuses the batch and the
// queue splits it: src/core/batching/delivery.ts).
const INSERT = `
  INSERT INTO public.analytics_events
    (id, event_name, event_category, event_properties, session_id, region, client_created_at)
  SELECT r.id, r.event_name, r.event_category, r.event_properties, r.session_id, r.region, r.client_created_at
  FROM jsonb_to_recordset($1::jsonb) AS r (
    id uuid, event_name text, event_category text, event_properties jsonb,
    session_id text, region text, client_created_at timestamptz)
  ON CONFLICT (id) DO NOTHING`;

/**
 * Classifies a database error: an id already stored (23505) is a `conflict`;
 * refused rows (data exceptions 22, other integrity 23, privileges 42501) are
 * `rejected`; everything else (connection loss 08, a server shutting down 57P,
 * resources 53, timeouts) is `retryable`.
 */
export function classifyDatabaseError(error: unknown): SinkResult {
  const failure = toDatabaseError(error);
  return classifySqlState(failure.code, failure);
}

/**
 * Writes events with node-postgres (or PGlite), for Node services.
 *
 * @example
 * ```ts
 * const logger = createUuidLookupLogger({ sink: createPgAnalyticsSink({ db: await openDatabase({ url }) }) });
 * ```
 */
export function createPgAnalyticsSink(options: { db: Queryable }): AnalyticsSink {
  return {
    async write(rows): Promise<SinkResult> {
      try {
        await options.db.query(INSERT, [JSON.stringify(rows)]);
        return { status: 'success' };
      } catch (error) {
        return classifyDatabaseError(error);
      }
    },
  };
}
