import type { Queryable } from '../db/database.ts';
import type { SpecQueryName } from './spec-queries.ts';
import { specQueries } from './spec-queries.ts';

/** The CLI's report names for the spec's queries. */
export const reportNames = {
  'lookup-performance': 'lookupPerformance',
  'slow-lookups': 'slowLookups',
  'migration-progress': 'migrationProgress',
  'failures-by-error': 'failuresByError',
  'failed-jobs': 'failedJobs',
  'review-failures': 'reviewFailures',
  'missing-services': 'missingServices',
  stats: 'migrationStats',
} as const satisfies Record<string, SpecQueryName>;

export type ReportName = keyof typeof reportNames;

/** Runs one of the spec's queries; the same SQL the dashboards show. */
export async function runReport(db: Queryable, name: ReportName): Promise<{ title: string; rows: Record<string, unknown>[] }> {
  const query = specQueries[reportNames[name]];
  const { rows } = await db.query<Record<string, unknown>>(query.sql);
  return { title: query.title, rows };
}
