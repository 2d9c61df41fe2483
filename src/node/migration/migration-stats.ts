import type { MigrationStatsField } from '../../contract/migration.ts';
import { MIGRATION_STATS_FIELDS } from '../../contract/migration.ts';
import type { Queryable } from '../db/database.ts';

/** The spec's `get_uuid_migration_stats()` row (its seven fields), with numbers as numbers. */
export type UuidMigrationStats = Record<MigrationStatsField, number>;


/**
 * Calls `get_uuid_migration_stats()`. bigint and numeric arrive as strings from
 * node-postgres; they are converted here (counts stay far below 2^53).
 *
 * @example
 * ```ts
 * const stats = await getUuidMigrationStats(db);
 * console.log(stats.completion_percentage);
 * ```
 */
export async function getUuidMigrationStats(db: Queryable): Promise<UuidMigrationStats> {
  const { rows } = await db.query<Record<MigrationStatsField, string | number>>(
    'SELECT * FROM public.get_uuid_migration_stats()',
  );
  const row = rows[0];
  if (row === undefined) throw new Error('uuid-lookup: get_uuid_migration_stats() returned no row');
  const stats = {} as UuidMigrationStats;
  for (const field of MIGRATION_STATS_FIELDS) stats[field] = Number(row[field]);
  return stats;
}

/**
 * Folds the counters' pending deltas (migration 20261203000200) with
 * `compact_uuid_migration_counters()`: how many it folded, or `null` when it did
 * not run (another compaction at work, a read-only transaction, or an isolation
 * level above READ COMMITTED). The stats are exact either way; compaction keeps
 * them quick to read. postgres_exporter runs it on each scrape, the worker after
 * each run, `migrate` at the end of a run.
 */
export async function compactMigrationCounters(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ folded: string | number | null }>('SELECT public.compact_uuid_migration_counters() AS folded');
  const folded = rows[0]?.folded;
  return folded === null || folded === undefined ? null : Number(folded);
}

/**
 * Migration failures as a percentage of attempted jobs (failed / (success + failed
 * + skipped), current outcomes): the spec's "Migration Failures" threshold. `null`
 * when nothing was attempted, which is not a breach.
 */
export function migrationFailurePercent(stats: UuidMigrationStats): number | null {
  const attempted = stats.successful_migrations + stats.failed_migrations + stats.skipped_migrations;
  return attempted === 0 ? null : (100 * stats.failed_migrations) / attempted;
}
