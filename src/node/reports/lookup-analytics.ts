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

// Latency percentile from the summed histogram: the upper bound of the bucket that
// holds the p-quantile ("p95 <= 50 ms"); NULL when it is the open-ended bucket.
const percentileFromBuckets = (group: string, q: number): string => `
  (SELECT (ARRAY[${LOOKUP_BUCKET_BOUNDS_MS.join(', ')}]::numeric[])[min(i)]
   FROM (SELECT u.i, sum(u.n) OVER (ORDER BY u.i) AS cum
         FROM (SELECT b.i, sum(b.n) AS n
               FROM filtered f2, unnest(f2.duration_buckets) WITH ORDINALITY AS b (n, i)
               WHERE ${group}
               GROUP BY b.i) u) c
   WHERE c.cum >= ${q} * (SELECT sum(f3.lookups) FROM filtered f3 WHERE ${group.replaceAll('f2.', 'f3.')}))`;

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
  return `WITH filtered AS (
       SELECT extract(isodow FROM h.bucket AT TIME ZONE ${timeZone})::int AS day_of_week,
              extract(hour FROM h.bucket AT TIME ZONE ${timeZone})::int AS hour, h.*
       FROM public.analytics_lookup_hourly h
       WHERE h.bucket >= date_trunc('hour', now() - make_interval(mins => ${minutes})) AND h.lookups > 0)
     SELECT f.day_of_week, f.hour, sum(f.lookups) AS lookups,
            round(sum(f.total_ms) / sum(f.lookups), 2) AS avg_ms,
            ${percentileFromBuckets('f2.day_of_week = f.day_of_week AND f2.hour = f.hour', 0.95)} AS p95_ms_at_most,
            round(100.0 * sum(f.failures) / sum(f.lookups), 2) AS failure_rate,
            round(100.0 * sum(f.fallbacks) / sum(f.lookups), 2) AS fallback_rate
     FROM filtered f
     GROUP BY f.day_of_week, f.hour
     ORDER BY f.day_of_week, f.hour`;
}

/** The same figures per region, slowest and most failing first. */
export async function lookupRegions(db: Queryable, options: AnalyticsReportOptions = {}): Promise<({ region: string } & LookupFigures)[]> {
  const { rows } = await db.query<Record<string, unknown>>(regionsSql('$1::int'), [since(options)]);
  return rows.map((r) => ({ region: String(r.region), ...figures(r) }));
}

/** The SQL of the regions report (see {@link patternsSql}). */
export function regionsSql(minutes: string): string {
  return `WITH filtered AS (
       SELECT h.* FROM public.analytics_lookup_hourly h
       WHERE h.bucket >= date_trunc('hour', now() - make_interval(mins => ${minutes})) AND h.lookups > 0)
     SELECT CASE WHEN f.region = '' THEN '(none)' ELSE f.region END AS region, sum(f.lookups) AS lookups,
            round(sum(f.total_ms) / sum(f.lookups), 2) AS avg_ms,
            ${percentileFromBuckets('f2.region = f.region', 0.95)} AS p95_ms_at_most,
            round(100.0 * sum(f.failures) / sum(f.lookups), 2) AS failure_rate,
            round(100.0 * sum(f.fallbacks) / sum(f.lookups), 2) AS fallback_rate
     FROM filtered f
     GROUP BY f.region
     ORDER BY avg_ms DESC, failure_rate DESC`;
}

/** Wizard sessions that saw a failure or fallback against those that did not. */
export interface JourneyComparison {
  sessions_kind: 'clean' | 'saw a failure or fallback';
  sessions: number;
  submitted: number;
  submission_rate: number;
  median_seconds_to_submit: number | null;
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
      median_seconds_to_submit: r.median_seconds_to_submit === null ? null : Number(r.median_seconds_to_submit),
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

/** The SQL of the journeys comparison (see {@link patternsSql}). */
export function journeyComparisonSql(minutes: string): string {
  return `SELECT CASE WHEN s.failures > 0 OR s.fallbacks > 0 THEN 'saw a failure or fallback' ELSE 'clean' END AS sessions_kind,
            count(*) AS sessions, count(s.submitted_at) AS submitted,
            round(100.0 * count(s.submitted_at) / count(*), 2) AS submission_rate,
            round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.submitted_at - s.first_lookup_at))
                   FILTER (WHERE s.submitted_at IS NOT NULL))::numeric, 1) AS median_seconds_to_submit
     FROM public.analytics_lookup_sessions s
     WHERE s.first_lookup_at >= now() - make_interval(mins => ${minutes})
     GROUP BY 1 ORDER BY 1`;
}

/** The SQL of the costliest services (see {@link patternsSql}). */
export function costliestServicesSql(minutes: string): string {
  return `WITH recent AS (
       SELECT * FROM public.analytics_lookup_sessions s WHERE s.first_lookup_at >= now() - make_interval(mins => ${minutes})
     ), base AS (
       SELECT count(submitted_at)::numeric / NULLIF(count(*), 0) AS clean_rate FROM recent WHERE failures = 0 AND fallbacks = 0
     )
     SELECT t.slug AS micro_slug, count(*) AS troubled_sessions, count(t.submitted_at) AS submitted,
            round(100.0 * count(t.submitted_at) / count(*), 2) AS submission_rate,
            round(count(*) * COALESCE(base.clean_rate, 0) - count(t.submitted_at), 1) AS submissions_lost
     FROM (SELECT unnest(r.troubled_slugs) AS slug, r.submitted_at FROM recent r WHERE r.failures > 0 OR r.fallbacks > 0) t, base
     GROUP BY t.slug, base.clean_rate
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
