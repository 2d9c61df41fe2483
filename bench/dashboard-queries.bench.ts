// npm run bench:dashboard: the spec's dashboard and report queries over
// EVENTS analytics_events rows (default 5,000,000) spanning 30 days, with the
// migrations' indexes and without them, on the real server. Prints JSON: each
// query's median time and whether its plan uses an index.
import { specQueries } from '../src/contract/spec-queries.ts';
import { serverTestDatabase } from '../test/support/test-databases.ts';
import { loadLookupEvents, medianMillis } from './support/lookup-events.ts';

const events = Number(process.env.EVENTS ?? 5_000_000);
const runs = 7;
const queries = { lookupPerformance: specQueries.lookupPerformance.sql, slowLookups: specQueries.slowLookups.sql };
const indexes = ['idx_analytics_events_uuid_lookup_created_at', 'idx_analytics_events_uuid_lookup_time'];

const t = await serverTestDatabase();
const { db } = t;
try {
  const loadStart = performance.now();
  await loadLookupEvents(db, { events, sessions: Math.max(1, Math.floor(events / 8)) });
  await db.query('VACUUM ANALYZE analytics_events');
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const measure = async (sql: string): Promise<{ median_ms: number; uses_index: boolean }> => {
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    const medianMs = await medianMillis(db, sql, runs);
    return { median_ms: medianMs, uses_index: /Index|Bitmap/.test(plan) };
  };

  const result: Record<string, unknown> = {};
  for (const [name, sql] of Object.entries(queries)) result[name] = { with_indexes: await measure(sql) };
  await db.exec(indexes.map((index) => `DROP INDEX ${index};`).join('\n'));
  for (const [name, sql] of Object.entries(queries)) {
    const entry = result[name] as Record<string, unknown>;
    entry.without_indexes = await measure(sql);
  }
  process.stdout.write(`${JSON.stringify({ benchmark: 'dashboard-queries', events, span_days: 30, load_seconds: Number(loadSeconds.toFixed(1)), runs_per_query: runs, queries: result }, null, 2)}\n`);
} finally {
  await t.dispose();
}
