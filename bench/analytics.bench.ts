// npm run bench:analytics: the Phase 6 reports over EVENTS analytics_events
// (default 5,000,000) spanning 30 days, read from the rollups, against the same
// figures computed from the raw events, on the real server. Prints JSON: each
// query's median time (target <= 200 ms for the reports).
import { costliestServicesSql, journeyComparisonSql, lastMinutes, patternsSql, regionsSql } from '../src/contract/analytics-queries.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase } from '../test/support/test-databases.ts';
import { loadLookupEvents, medianMillis } from './support/lookup-events.ts';

dropServerDatabasesOnInterrupt();

const events = Number(process.env.EVENTS ?? 5_000_000);
const sessions = Math.max(1, Math.floor(events / 8));
const runs = 5;

const raw = {
  patterns: `SELECT extract(isodow FROM created_at AT TIME ZONE 'Europe/Berlin') AS dow, extract(hour FROM created_at AT TIME ZONE 'Europe/Berlin') AS hour,
               count(*), avg((event_properties->>'lookup_time_ms')::numeric),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY (event_properties->>'lookup_time_ms')::numeric),
               count(*) FILTER (WHERE NOT (event_properties->>'success')::boolean), count(*) FILTER (WHERE (event_properties->>'fallback_used')::boolean)
             FROM analytics_events WHERE event_name = 'uuid_lookup' AND created_at >= now() - interval '30 days' GROUP BY 1, 2`,
  regions: `SELECT region, count(*), avg((event_properties->>'lookup_time_ms')::numeric),
              percentile_cont(0.95) WITHIN GROUP (ORDER BY (event_properties->>'lookup_time_ms')::numeric),
              count(*) FILTER (WHERE NOT (event_properties->>'success')::boolean)
            FROM analytics_events WHERE event_name = 'uuid_lookup' AND created_at >= now() - interval '30 days' GROUP BY 1`,
  journeys: `WITH s AS (SELECT session_id, min(created_at) AS first_at,
                         bool_or(NOT (event_properties->>'success')::boolean OR (event_properties->>'fallback_used')::boolean) AS troubled
                       FROM analytics_events WHERE event_name = 'uuid_lookup' AND created_at >= now() - interval '30 days' GROUP BY 1)
             SELECT s.troubled, count(*), count(j.session_id) FROM s LEFT JOIN (SELECT DISTINCT session_id FROM jobs) j USING (session_id) GROUP BY 1`,
};
const rollup = {
  patterns: patternsSql(lastMinutes('43200'), "'Europe/Berlin'"),
  regions: regionsSql(lastMinutes('43200')),
  journeys: journeyComparisonSql(lastMinutes('43200')),
  costliest_services: costliestServicesSql(lastMinutes('43200')),
};

const t = await serverTestDatabase();
const { db } = t;
try {
  const started = performance.now();
  await loadLookupEvents(db, { events, sessions });
  await db.query(`INSERT INTO jobs (micro_id, session_id) SELECT 'service-1', 'session-' || s FROM generate_series(0, $1::int - 1, 3) s`, [sessions]);
  for (const table of ['analytics_events', 'analytics_lookup_hourly', 'analytics_lookup_sessions', 'jobs']) await db.query(`VACUUM ANALYZE ${table}`);
  const loadSeconds = (performance.now() - started) / 1000;

  const median = (sql: string): Promise<number> => medianMillis(db, sql, runs);
  const result: Record<string, { rollup_ms: number; raw_ms?: number }> = {};
  for (const [name, sql] of Object.entries(rollup)) {
    result[name] = { rollup_ms: await median(sql) };
    const rawSql = raw[name as keyof typeof raw];
    if (rawSql !== undefined) result[name].raw_ms = await median(rawSql);
  }
  const sizes = await db.query<{ hourly: string; sessions: string }>(
    'SELECT (SELECT count(*) FROM analytics_lookup_hourly) AS hourly, (SELECT count(*) FROM analytics_lookup_sessions) AS sessions',
  );
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'analytics',
        events,
        sessions,
        span_days: 30,
        load_seconds_with_rollup_triggers: Number(loadSeconds.toFixed(1)),
        rollup_rows: { hourly: Number(sizes.rows[0]?.hourly), sessions: Number(sizes.rows[0]?.sessions) },
        median_of: runs,
        queries: result,
        target_ms_max: 200,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await t.dispose();
}
