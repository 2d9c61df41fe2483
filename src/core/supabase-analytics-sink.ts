import type { AnalyticsSink, SinkResult } from './analytics-sink.ts';
import { classifySqlState } from './analytics-sink.ts';
import type { AnalyticsEventRow } from './lookup-event.ts';
import type { SupabaseClientLike } from './supabase-client.ts';

/** Options of {@link createSupabaseAnalyticsSink}. */
export interface SupabaseAnalyticsSinkOptions {
  /** A supabase-js client (anon or signed-in: inserts work under the RLS of the migrations, without SELECT). */
  client: SupabaseClientLike;
  /** Default `analytics_events`. */
  table?: string;
}

interface PostgrestFailure {
  message?: string;
  code?: string;
  details?: string;
  hint?: string;
}

/**
 * Classifies a PostgREST answer as the batcher needs it. An id already stored
 * (23505, HTTP 409) is a `conflict`. Everything but a refused row is retried:
 * network errors (status 0), 429 and 5xx, but also 401/403 (an expired token),
 * 404 and PGRST2xx (a migration not yet applied), which a token refresh or an
 * operator fixes; the data is kept meanwhile.
 */
export function classifyPostgrestResult(error: PostgrestFailure | null, status: number): SinkResult {
  if (error === null) return { status: 'success' };
  const failure = new Error(
    `analytics insert failed (HTTP ${status}): ${error.message ?? 'unknown error'}${error.code ? ` [${error.code}]` : ''}`,
  );
  return classifySqlState(error.code, failure);
}

/**
 * Writes events with supabase-js: `insert` without `select`, so PostgREST sends
 * `Prefer: return=minimal` and needs no SELECT right. A retried batch that had
 * landed is refused by the primary key (409, 23505) and reported as `conflict`:
 * the queue splits it and counts each duplicate row as delivered, once.
 *
 * For the page-hide path, create the client with `global: { fetch: withKeepalive(fetch) }`
 * so the request outlives the page.
 *
 * @example
 * ```ts
 * const supabase = createClient(url, anonKey, { global: { fetch: withKeepalive(fetch) } });
 * uuidLookupLogger.setSink(createSupabaseAnalyticsSink({ client: supabase }));
 * ```
 */
export function createSupabaseAnalyticsSink(options: SupabaseAnalyticsSinkOptions): AnalyticsSink {
  const table = options.table ?? 'analytics_events';
  const insert = (rows: readonly AnalyticsEventRow[]) => options.client.from(table).insert(rows as AnalyticsEventRow[]);
  return {
    async write(rows): Promise<SinkResult> {
      try {
        const { error, status } = await insert(rows);
        return classifyPostgrestResult(error, status);
      } catch (error) {
        return { status: 'retryable', error: error instanceof Error ? error : new Error(String(error)) };
      }
    },
    writeOnPageHide(rows): Promise<AnalyticsEventRow[]> {
      // postgrest-js starts the fetch when the builder is awaited (then); calling
      // then here starts it before the page goes. Each chunk is one statement:
      // it landed whole or not at all.
      const sent = chunkByBytes(rows, KEEPALIVE_BODY_BUDGET).map((chunk) =>
        insert(chunk).then(
          ({ error }) => (error === null ? chunk : []),
          () => [],
        ),
      );
      return Promise.all(sent).then((landed) => landed.flat());
    },
  };
}

/**
 * Browsers allow 64 KiB of keepalive request bodies in flight per page; what does
 * not fit is left to the queue (sent if the page lives on).
 */
export const KEEPALIVE_BODY_BUDGET = 60 * 1024;

function chunkByBytes(rows: readonly AnalyticsEventRow[], budget: number): AnalyticsEventRow[][] {
  const encoder = new TextEncoder();
  const chunks: AnalyticsEventRow[][] = [];
  let current: AnalyticsEventRow[] = [];
  let used = 2;
  let total = 0;
  for (const row of rows) {
    const size = encoder.encode(JSON.stringify(row)).length + 1;
    if (total + size > budget) break;
    if (used + size > budget && current.length > 0) {
      chunks.push(current);
      current = [];
      used = 2;
    }
    current.push(row);
    used += size;
    total += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Wraps `fetch` so that requests with a small text body use `keepalive` (they
 * survive page unload), as the page-hide flush needs. Pass it to supabase-js as
 * `global.fetch`.
 */
export function withKeepalive(fetchImpl: typeof fetch = globalThis.fetch): typeof fetch {
  return (input, init) => {
    const body = init?.body;
    if (typeof body === 'string' && body.length <= KEEPALIVE_BODY_BUDGET) {
      return fetchImpl(input, { ...init, keepalive: true });
    }
    return fetchImpl(input, init);
  };
}
