import type { Queryable } from '../db/database.ts';

/** Upper bounds (ms) of the rollup's latency buckets; the 13th is open-ended. */
export const LOOKUP_BUCKET_BOUNDS_MS: readonly number[] = [5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Options of the Phase 6 reports. */
export interface AnalyticsReportOptions {
  /** How far back, in minutes. Default 7 days. */
  sinceMinutes?: number;
  /** IANA time zone for hours and days (patterns). Default UTC. */
  timeZone?: string;
}

const since = (o: AnalyticsReportOptions): number => o.sinceMinutes ?? 7 * 24 * 60;

/**
 * Figures per group from the hourly rollup: counts, averages, rates, and the
 * latency p95 from the summed histogram, as the upper bound of the bucket that
 * holds it ("p95 <= 50 ms"; NULL for the open-ended bucket). One pass over the
 * rollup rows in the window, window functions for the cumulative counts.
 */
function rollupFiguresSql(keys: { expr: string; as: string }[], minutes: string, orderBy: string): string {
  const names = keys.map((k) => k.as).join(', ');
  return `WITH filtered AS (
       SELECT ${keys.map((k) => `${k.expr} AS ${k.as}`).join(', ')}, h.lookups, h.failures, h.fallbacks, h.total_ms, h.duration_buckets
       FROM public.analytics_lookup_hourly h
       WHERE h.bucket >= date_trunc('hour', now() - make_interval(mins => ${minutes})) AND h.lookups > 0
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
     SELECT t.*, (ARRAY[${LOOKUP_BUCKET_BOUNDS_MS.join(', ')}]::numeric[])[p95.i] AS p95_ms_at_most
     FROM totals t JOIN p95 USING (${names})
     ORDER BY ${orderBy}`;
}

/** One row of a pattern or region report. */
export interface LookupFigures {
  lookups: number;
  avg_ms: number;
  p95_ms_at_most: number | null;
  failure_rate: number;
  fallback_rate: number;
}

const figures = (r: Record<string, unknown>): LookupFigures => ({
  lookups: Number(r.lookups),
  avg_ms: Number(r.avg_ms),
  p95_ms_at_most: r.p95_ms_at_most === null ? null : Number(r.p95_ms_at_most),
  failure_rate: Number(r.failure_rate),
  fallback_rate: Number(r.fallback_rate),
});

/**
 * Lookup patterns by hour of day and day of week (ISO: 1 = Monday) in the
 * operator's time zone, from the hourly rollup.
 */
export async function lookupPatterns(
  db: Queryable,
  options: AnalyticsReportOptions = {},
): Promise<({ day_of_week: number; hour: number } & LookupFigures)[]> {
  const { rows } = await db.query<Record<string, unknown>>(patternsSql('$1::int', '$2'), [since(options), options.timeZone ?? 'UTC']);
  return rows.map((r) => ({ day_of_week: Number(r.day_of_week), hour: Number(r.hour), ...figures(r) }));
}

/**
 * The SQL of the patterns report; `minutes` and `timeZone` are SQL expressions
 * (parameters for the CLI, literals for a dashboard panel).
 */
export function patternsSql(minutes: string, timeZone: string): string {
  return rollupFiguresSql(
    [
      { expr: `extract(isodow FROM h.bucket AT TIME ZONE ${timeZone})::int`, as: 'day_of_week' },
      { expr: `extract(hour FROM h.bucket AT TIME ZONE ${timeZone})::int`, as: 'hour' },
    ],
    minutes,
    'day_of_week, hour',
  );
}

/** The same figures per region, slowest and most failing first. */
export async function lookupRegions(db: Queryable, options: AnalyticsReportOptions = {}): Promise<({ region: string } & LookupFigures)[]> {
  const { rows } = await db.query<Record<string, unknown>>(regionsSql('$1::int'), [since(options)]);
  return rows.map((r) => ({ region: String(r.region), ...figures(r) }));
}

/** The SQL of the regions report (see {@link patternsSql}). */
export function regionsSql(minutes: string): string {
  return rollupFiguresSql([{ expr: "CASE WHEN h.region = '' THEN '(none)' ELSE h.region END", as: 'region' }], minutes, 'avg_ms DESC, failure_rate DESC');
}

/** Upper bounds (seconds) of the time-to-submit buckets; the 9th is open-ended. */
export const SUBMIT_BUCKET_BOUNDS_S: readonly number[] = [10, 30, 60, 120, 300, 600, 1800, 3600];

/** Wizard sessions that saw a failure or fallback against those that did not. */
export interface JourneyComparison {
  sessions_kind: 'clean' | 'saw a failure or fallback';
  sessions: number;
  submitted: number;
  submission_rate: number;
  /** The median time from first lookup to submission, as the upper bound of its bucket (null: over an hour, or no submission). */
  median_seconds_to_submit_at_most: number | null;
}

/** Services whose failures or fallbacks cost the most submissions. */
export interface CostlyService {
  micro_slug: string;
  troubled_sessions: number;
  submitted: number;
  submission_rate: number;
  /** Submissions these sessions would have made at the clean sessions' rate, minus those made. */
  submissions_lost: number;
}

/** User journeys: submission after trouble, time to submit, where trouble costs most. */
export async function lookupJourneys(
  db: Queryable,
  options: AnalyticsReportOptions = {},
): Promise<{ comparison: JourneyComparison[]; costliest: CostlyService[] }> {
  const minutes = since(options);
  const comparison = await db.query<Record<string, unknown>>(journeyComparisonSql('$1::int'), [minutes]);
  const costliest = await db.query<Record<string, unknown>>(costliestServicesSql('$1::int'), [minutes]);
  return {
    comparison: comparison.rows.map((r) => ({
      sessions_kind: r.sessions_kind as JourneyComparison['sessions_kind'],
      sessions: Number(r.sessions),
      submitted: Number(r.submitted),
      submission_rate: Number(r.submission_rate),
      median_seconds_to_submit_at_most: r.median_seconds_to_submit_at_most === null ? null : Number(r.median_seconds_to_submit_at_most),
    })),
    costliest: costliest.rows.map((r) => ({
      micro_slug: String(r.micro_slug),
      troubled_sessions: Number(r.troubled_sessions),
      submitted: Number(r.submitted),
      submission_rate: Number(r.submission_rate),
      submissions_lost: Number(r.submissions_lost),
    })),
  };
}

/** The SQL of the journeys comparison, from the daily journey rollup (see {@link patternsSql}). */
export function journeyComparisonSql(minutes: string): string {
  return `WITH recent AS (
       SELECT * FROM public.analytics_journey_daily d
       WHERE d.day >= ((now() - make_interval(mins => ${minutes})) AT TIME ZONE 'UTC')::date
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

/** The SQL of the costliest services, from the daily journey rollups (see {@link patternsSql}). */
export function costliestServicesSql(minutes: string): string {
  return `WITH since AS (SELECT ((now() - make_interval(mins => ${minutes})) AT TIME ZONE 'UTC')::date AS day),
     base AS (
       SELECT sum(submitted)::numeric / NULLIF(sum(sessions), 0) AS clean_rate
       FROM public.analytics_journey_daily d, since WHERE d.day >= since.day AND NOT d.troubled
     )
     SELECT s.micro_slug, sum(s.sessions) AS troubled_sessions, sum(s.submitted) AS submitted,
            round(100.0 * sum(s.submitted) / NULLIF(sum(s.sessions), 0), 2) AS submission_rate,
            round(sum(s.sessions) * COALESCE(base.clean_rate, 0) - sum(s.submitted), 1) AS submissions_lost
     FROM public.analytics_journey_slug_daily s, since, base
     WHERE s.day >= since.day
     GROUP BY s.micro_slug, base.clean_rate
     HAVING sum(s.sessions) > 0
     ORDER BY submissions_lost DESC, troubled_sessions DESC
     LIMIT 20`;
}

/** The analytics panels' SQL: the reports' own, over the last 7 days (hours in UTC). */
export const analyticsPanelQueries = {
  patterns: { title: 'Lookups by hour of day and day of week (UTC, 7 days)', sql: patternsSql('10080', "'UTC'") },
  regions: { title: 'By region (7 days): slowest and most failing first', sql: regionsSql('10080') },
  journeys: { title: 'Wizard sessions: submission after trouble (7 days)', sql: journeyComparisonSql('10080') },
  costliest: { title: 'Services whose trouble costs the most submissions (7 days)', sql: costliestServicesSql('10080') },
} as const;
