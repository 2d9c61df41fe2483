import type { Queryable } from '../db/database.ts';
import type { SpecQueryName } from '../../contract/spec-queries.ts';
import { specQueries } from '../../contract/spec-queries.ts';
import { foldLookupRollups } from './lookup-analytics.ts';

/** The CLI's report names for the spec's queries. */
export const reportNames = {
  'lookup-performance': 'lookupPerformanceRollup',
  'slow-lookups': 'slowLookups',
  'migration-progress': 'migrationProgress',
  'failures-by-error': 'failuresByError',
  'failed-jobs': 'failedJobs',
  'review-failures': 'reviewFailures',
  'missing-services': 'missingServices',
  stats: 'migrationStats',
} as const satisfies Record<string, SpecQueryName>;

export type ReportName = keyof typeof reportNames;

/** What a report's window applies to: lookup events, or the migration log's current outcomes. */
type WindowedTable = 'analytics_events' | 'uuid_migration_log';

// Reports over lookup events always have a window (the spec's own query says
// seven days); reports of the migration's state show all of it unless asked.
const WINDOWED: Partial<Record<ReportName, WindowedTable>> = {
  'lookup-performance': 'analytics_events',
  'slow-lookups': 'analytics_events',
  'migration-progress': 'uuid_migration_log',
  'failures-by-error': 'uuid_migration_log',
  'failed-jobs': 'uuid_migration_log',
  'review-failures': 'uuid_migration_log',
};

/** Reports read from the lookup rollups: they fold the pending events first (unless `fold: false`). */
export const READS_ROLLUPS: ReadonlySet<ReportName> = new Set<ReportName>(['lookup-performance']);

/** The window of the event reports when none is given: the spec's seven days. */
export const DEFAULT_EVENT_WINDOW_MINUTES = 7 * 24 * 60;

/** `90m`, `24h`, `7d` back from minutes, as the CLI's --since spells them. */
export function formatWindow(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/** A report's result: the rows shown, and how many the query's LIMIT left out. */
export interface ReportResult {
  title: string;
  rows: Record<string, unknown>[];
  /** Rows beyond the spec query's LIMIT (slow lookups: 20, failed and skipped jobs: 100). */
  moreRows: number;
  /** The window in minutes, or null when the report shows everything. */
  windowMinutes: number | null;
  /**
   * Where the figures really start, when that is not the window asked for: a
   * report from the hourly rollups counts whole hours, from the hour the window
   * starts in (ISO time, UTC).
   */
  coversFrom?: string;
}

/**
 * The spec's query restricted to the window that starts at `start` (SQL over the
 * query's $1): its table is replaced by the same rows within the window, under
 * the same name, so the text the spec shows (and the dashboards run) is otherwise
 * untouched. The spec's own seven days of lookup performance become the window.
 */
function windowed(sql: string, table: WindowedTable, start: string): string {
  const within = sql.replaceAll("NOW() - INTERVAL '7 days'", start);
  if (within !== sql) return within;
  return sql.replace(new RegExp(`FROM ${table}\\b`), `FROM (SELECT * FROM ${table} WHERE created_at > ${start}) ${table}`);
}

/**
 * Runs one of the spec's queries (the SQL the dashboards show). `sinceMinutes`
 * bounds the event reports (default: the spec's 7 days) and, when given, the
 * migration reports (outcomes recorded within it); the title says which.
 */
export async function runReport(db: Queryable, name: ReportName, options: { sinceMinutes?: number; fold?: boolean } = {}): Promise<ReportResult> {
  const query = specQueries[reportNames[name]];
  const table = WINDOWED[name];
  const minutes =
    table === 'analytics_events' ? (options.sinceMinutes ?? DEFAULT_EVENT_WINDOW_MINUTES) : table === undefined ? null : (options.sinceMinutes ?? null);
  // The rollups hold whole hours: their figures start at the hour the window starts in,
  // by the database's clock, taken once for the query and the title alike.
  const coversFrom = minutes !== null && READS_ROLLUPS.has(name) ? await windowStartHour(db, minutes) : undefined;
  const sql =
    minutes === null || table === undefined
      ? query.sql
      : windowed(query.sql, table, coversFrom === undefined ? 'NOW() - make_interval(mins => $1::int)' : '$1::timestamptz');
  const params = minutes === null ? [] : [coversFrom ?? minutes];
  if (READS_ROLLUPS.has(name) && options.fold !== false) await foldLookupRollups(db);
  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  let moreRows = 0;
  const limit = /\nLIMIT (\d+)$/.exec(sql);
  if (limit !== null && rows.length === Number(limit[1])) {
    const all = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM (${sql.slice(0, limit.index)}) q`, params);
    moreRows = Number(all.rows[0]?.n ?? 0) - rows.length;
  }
  const base = query.title.replace(/ \(7 days\)$/, '');
  if (minutes === null) return { title: `${base}${table === undefined ? '' : ' (all time)'}`, rows, moreRows, windowMinutes: minutes };
  if (coversFrom === undefined) return { title: `${base} (last ${formatWindow(minutes)})`, rows, moreRows, windowMinutes: minutes };
  const title = `${base} (last ${formatWindow(minutes)}, counted in whole hours: since ${coversFrom.replace('T', ' ').replace('Z', ' UTC')})`;
  return { title, rows, moreRows, windowMinutes: minutes, coversFrom };
}

/** The hour the last `minutes` start in, by the database's clock (ISO, UTC: 2026-12-03T14:00Z). */
async function windowStartHour(db: Queryable, minutes: number): Promise<string> {
  const { rows } = await db.query<{ from_hour: string }>(
    `SELECT to_char(date_trunc('hour', now() - make_interval(mins => $1::int)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS from_hour`,
    [minutes],
  );
  const hour = rows[0]?.from_hour;
  if (hour === undefined) throw new Error('uuid-lookup: the database did not say what time it is');
  return hour;
}
