import { LOOKUP_DURATION_BUCKETS_MS } from './metrics.ts';

/**
 * The Phase 6 analytics as SQL over the rollups (docs/architecture.md,
 * "Contracts"): the CLI's reports run it over "the last N minutes" (a
 * parameter), the dashboards' panels over the time picker's range (Grafana's
 * macros). A window and a time zone are SQL expressions.
 */

/** A time range as two SQL expressions of type timestamptz: `from` inclusive, `to` exclusive. */
export interface SqlWindow {
  from: string;
  to: string;
}

/** The last `minutes` minutes up to now; `minutes` is an SQL expression (a parameter such as `$1::int`). */
export function lastMinutes(minutes: string): SqlWindow {
  return { from: `(now() - make_interval(mins => ${minutes}))`, to: 'now()' };
}

/**
 * Figures per group from the hourly rollup: counts, averages, rates, and the
 * latency p95 from the summed histogram, as the upper bound of the bucket that
 * holds it ("p95 <= 50 ms"; NULL for the open-ended bucket). One pass over the
 * rollup rows in the window, window functions for the cumulative counts.
 */
function rollupFiguresSql(keys: { expr: string; as: string }[], window: SqlWindow, orderBy: string): string {
  const names = keys.map((k) => k.as).join(', ');
  return `WITH filtered AS (
       SELECT ${keys.map((k) => `${k.expr} AS ${k.as}`).join(', ')}, h.lookups, h.failures, h.fallbacks, h.total_ms, h.duration_buckets
       FROM public.analytics_lookup_hourly h
       WHERE h.bucket >= date_trunc('hour', ${window.from}) AND h.bucket < ${window.to} AND h.lookups > 0
     ), totals AS (
       SELECT ${names}, sum(lookups) AS lookups,
              round(sum(total_ms) / sum(lookups), 2) AS avg_ms,
              round(100.0 * sum(failures) / sum(lookups), 2) AS failure_rate,
              round(100.0 * sum(fallbacks) / sum(lookups), 2) AS fallback_rate
       FROM filtered GROUP BY ${names}
     ), buckets AS (
       SELECT ${names}, u.i, sum(u.n) AS n
       FROM filtered, unnest(filtered.duration_buckets) WITH ORDINALITY AS u (n, i)
       GROUP BY ${names}, u.i
     ), cumulative AS (
       SELECT ${names}, i, sum(n) OVER (PARTITION BY ${names} ORDER BY i) AS cum, sum(n) OVER (PARTITION BY ${names}) AS total
       FROM buckets
     ), p95 AS (
       SELECT ${names}, min(i) FILTER (WHERE cum >= 0.95 * total) AS i FROM cumulative GROUP BY ${names}
     )
     SELECT t.*, (ARRAY[${LOOKUP_DURATION_BUCKETS_MS.join(', ')}]::numeric[])[p95.i] AS p95_ms_at_most
     FROM totals t JOIN p95 USING (${names})
     ORDER BY ${orderBy}`;
}

/**
 * The SQL of the patterns report; `window` and `timeZone` are SQL expressions
 * (parameters for the CLI, Grafana's macros and a literal for a dashboard panel).
 */
export function patternsSql(window: SqlWindow, timeZone: string): string {
  return rollupFiguresSql(
    [
      { expr: `extract(isodow FROM h.bucket AT TIME ZONE ${timeZone})::int`, as: 'day_of_week' },
      { expr: `extract(hour FROM h.bucket AT TIME ZONE ${timeZone})::int`, as: 'hour' },
    ],
    window,
    'day_of_week, hour',
  );
}

/** The SQL of the regions report (see patternsSql). */
export function regionsSql(window: SqlWindow): string {
  return rollupFiguresSql([{ expr: "CASE WHEN h.region = '' THEN '(none)' ELSE h.region END", as: 'region' }], window, 'avg_ms DESC, failure_rate DESC');
}

/** The UTC days of the daily rollups a window touches (whole days). */
function dayRange(column: string, window: SqlWindow): string {
  return `${column} >= (${window.from} AT TIME ZONE 'UTC')::date AND ${column} <= (${window.to} AT TIME ZONE 'UTC')::date`;
}

/** Upper bounds (seconds) of the time-to-submit buckets; the 9th is open-ended. */
export const SUBMIT_BUCKET_BOUNDS_S: readonly number[] = [10, 30, 60, 120, 300, 600, 1800, 3600];

/** The SQL of the journeys comparison, from the daily journey rollup (see patternsSql). */
export function journeyComparisonSql(window: SqlWindow): string {
  return `WITH recent AS (
       SELECT * FROM public.analytics_journey_daily d
       WHERE ${dayRange('d.day', window)}
     ), totals AS (
       SELECT troubled, sum(sessions) AS sessions, sum(submitted) AS submitted FROM recent GROUP BY troubled
     ), cumulative AS (
       SELECT troubled, i, sum(n) OVER (PARTITION BY troubled ORDER BY i) AS cum, sum(n) OVER (PARTITION BY troubled) AS total
       FROM (SELECT troubled, u.i, sum(u.n) AS n FROM recent, unnest(recent.submit_buckets) WITH ORDINALITY AS u (n, i) GROUP BY troubled, u.i) b
     ), median AS (
       SELECT troubled, min(i) FILTER (WHERE total > 0 AND cum >= 0.5 * total) AS i FROM cumulative GROUP BY troubled
     )
     SELECT CASE WHEN t.troubled THEN 'saw a failure or fallback' ELSE 'clean' END AS sessions_kind,
            t.sessions, t.submitted, round(100.0 * t.submitted / NULLIF(t.sessions, 0), 2) AS submission_rate,
            (ARRAY[${SUBMIT_BUCKET_BOUNDS_S.join(', ')}]::numeric[])[m.i] AS median_seconds_to_submit_at_most
     FROM totals t JOIN median m USING (troubled)
     WHERE t.sessions > 0
     ORDER BY 1`;
}

/** The SQL of the costliest services, from the daily journey rollups (see patternsSql). */
export function costliestServicesSql(window: SqlWindow): string {
  return `WITH base AS (
       SELECT sum(submitted)::numeric / NULLIF(sum(sessions), 0) AS clean_rate
       FROM public.analytics_journey_daily d WHERE ${dayRange('d.day', window)} AND NOT d.troubled
     )
     SELECT s.micro_slug, sum(s.sessions) AS troubled_sessions, sum(s.submitted) AS submitted,
            round(100.0 * sum(s.submitted) / NULLIF(sum(s.sessions), 0), 2) AS submission_rate,
            round(sum(s.sessions) * COALESCE(base.clean_rate, 0) - sum(s.submitted), 1) AS submissions_lost
     FROM public.analytics_journey_slug_daily s, base
     WHERE ${dayRange('s.day', window)}
     GROUP BY s.micro_slug, base.clean_rate
     HAVING sum(s.sessions) > 0
     ORDER BY submissions_lost DESC, troubled_sessions DESC
     LIMIT 20`;
}

/** Titles of the analytics panels (the dashboards run the reports' SQL over the time picker's range). */
export const analyticsTitles = {
  patterns: 'Lookups by hour of day and day of week (UTC)',
  regions: 'By region: slowest and most failing first',
  journeys: 'Wizard sessions: submission after trouble',
  costliest: 'Services whose trouble costs the most submissions',
} as const;
