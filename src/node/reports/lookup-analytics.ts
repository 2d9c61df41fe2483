import { costliestServicesSql, journeyComparisonSql, lastMinutes, patternsSql, regionsSql } from '../../contract/analytics-queries.ts';
import type { Queryable } from '../db/database.ts';

/** Options of the Phase 6 reports. */
export interface AnalyticsReportOptions {
  /** How far back, in minutes. Default 7 days. */
  sinceMinutes?: number;
  /** IANA time zone for hours and days (patterns). Default UTC. */
  timeZone?: string;
  /** Fold the pending lookup events first (foldLookupRollups). Default true; false when the caller just did. */
  fold?: boolean;
}

const since = (o: AnalyticsReportOptions): number => o.sinceMinutes ?? 7 * 24 * 60;

/** What a reader's fold did: how many events it folded, or why it could not. */
export type FoldOutcome = { folded: number } | { skipped: string };

/** SQLSTATEs after which a reader goes on with the rollups as they are. */
const FOLD_SKIPPED: Record<string, string> = {
  '42883': 'the schema predates migration 20261129000600: nothing is pending',
  '42501': 'this login may not run fold_lookup_analytics_rollups()',
  '25006': 'the connection is read-only',
  '55P03': 'another fold held the lock for 10 s',
  '25000': 'the transaction is not at READ COMMITTED',
};

/**
 * Folds the lookup events still pending into the rollups, so that what is read
 * next counts every committed event. Inserts fold in batches of statements
 * (migration 20261129000600): every reader of the rollups that must be exact
 * calls this first. When the fold cannot run (a read-only connection, a login
 * without the grant, a fold held elsewhere past the lock timeout) it says why
 * and the reader goes on: the figures then miss the events stored since the last
 * fold. Other errors are thrown.
 */
export async function foldLookupRollups(db: Queryable): Promise<FoldOutcome> {
  try {
    const { rows } = await db.query<{ folded: string | number }>('SELECT public.fold_lookup_analytics_rollups() AS folded');
    return { folded: Number(rows[0]?.folded ?? 0) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === 'string' ? FOLD_SKIPPED[code] : undefined;
    if (reason === undefined) throw error;
    return { skipped: `${reason} (${code})` };
  }
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
  if (options.fold !== false) await foldLookupRollups(db);
  const { rows } = await db.query<Record<string, unknown>>(patternsSql(lastMinutes('$1::int'), '$2'), [since(options), options.timeZone ?? 'UTC']);
  return rows.map((r) => ({ day_of_week: Number(r.day_of_week), hour: Number(r.hour), ...figures(r) }));
}

/** The same figures per region, slowest and most failing first. */
export async function lookupRegions(db: Queryable, options: AnalyticsReportOptions = {}): Promise<({ region: string } & LookupFigures)[]> {
  if (options.fold !== false) await foldLookupRollups(db);
  const { rows } = await db.query<Record<string, unknown>>(regionsSql(lastMinutes('$1::int')), [since(options)]);
  return rows.map((r) => ({ region: String(r.region), ...figures(r) }));
}

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
  if (options.fold !== false) await foldLookupRollups(db);
  const comparison = await db.query<Record<string, unknown>>(journeyComparisonSql(lastMinutes('$1::int')), [minutes]);
  const costliest = await db.query<Record<string, unknown>>(costliestServicesSql(lastMinutes('$1::int')), [minutes]);
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

