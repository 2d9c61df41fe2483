// npm run bench:dashboard: the spec's dashboard and report queries over
// EVENTS analytics_events rows (default 5,000,000) spanning 30 days, with the
// migrations' indexes and without them, on the real server. Prints JSON: each
// query's median time and whether its plan uses an index.
import { specQueries } from '../src/node/reports/spec-queries.ts';
import { serverTestDatabase } from '../test/support/test-databases.ts';

const events = Number(process.env.EVENTS ?? 5_000_000);
const runs = 7;
const queries = { lookupPerformance: specQueries.lookupPerformance.sql, slowLookups: specQueries.slowLookups.sql };
const indexes = ['idx_analytics_events_uuid_lookup_created_at', 'idx_analytics_events_uuid_lookup_time'];

const t = await serverTestDatabase();
const { db } = t;
try {
  const loadStart = performance.now();
  // 200 services, 4 % failures, 10 % fallbacks, log-normal-ish latency with a slow tail.
  await db.query(
    `INSERT INTO analytics_events (event_name, event_category, event_properties, created_at)
     SELECT 'uuid_lookup', 'wizard_flow',
            jsonb_build_object(
              'micro_slug', 'service-' || (g % 200),
              'micro_uuid', CASE WHEN g % 25 = 0 THEN NULL ELSE md5('s' || (g % 200))::uuid::text END,
              'lookup_time_ms', round((5 + 20 * random() + CASE WHEN g % 500 = 0 THEN 300 * random() ELSE 0 END)::numeric, 2),
              'success', g % 25 <> 0,
              'fallback_used', g % 10 = 0),
            now() - make_interval(secs => (g::bigint * 2592000 / $1)::int)
     FROM generate_series(1, $1::int) AS g`,
    [events],
  );
  await db.query('VACUUM ANALYZE analytics_events');
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const measure = async (sql: string): Promise<{ median_ms: number; uses_index: boolean }> => {
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const start = performance.now();
      await db.query(sql);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return { median_ms: Number((times[Math.floor(runs / 2)] ?? 0).toFixed(1)), uses_index: /Index|Bitmap/.test(plan) };
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
