import type { Queryable } from '../../src/node/db/database.ts';

/**
 * Loads `events` uuid_lookup events spanning 30 days into analytics_events: 200
 * services, 4 % failures, 10 % fallbacks, a log-normal-ish latency with a slow
 * tail, regions and `sessions` wizard sessions. Inserted in slices, as traffic
 * arrives (the rollup triggers run per statement).
 */
export async function loadLookupEvents(db: Queryable, options: { events: number; sessions: number }): Promise<void> {
  const slice = 250_000;
  for (let from = 1; from <= options.events; from += slice) {
    await db.query(
      `INSERT INTO analytics_events (event_name, event_category, event_properties, session_id, region, created_at)
       SELECT 'uuid_lookup', 'wizard_flow',
              jsonb_build_object(
                'micro_slug', 'service-' || (g % 200),
                'micro_uuid', CASE WHEN g % 25 = 0 THEN NULL ELSE md5('s' || (g % 200))::uuid::text END,
                'lookup_time_ms', round((5 + 20 * random() + CASE WHEN g % 500 = 0 THEN 300 * random() ELSE 0 END)::numeric, 2),
                'success', g % 25 <> 0,
                'fallback_used', g % 10 = 0),
              'session-' || (g % $3),
              (ARRAY['DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'GB', NULL])[1 + g % 8],
              now() - make_interval(secs => (g::bigint * 2592000 / $4)::int)
       FROM generate_series($1::int, $2::int) AS g`,
      [from, Math.min(options.events, from + slice - 1), options.sessions, options.events],
    );
  }
}

/** The median wall time of `runs` executions of `sql`, in ms. */
export async function medianMillis(db: Queryable, sql: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await db.query(sql);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return Number((times[Math.floor(runs / 2)] ?? 0).toFixed(1));
}
