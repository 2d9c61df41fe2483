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
 * Migration failures as a percentage of attempted jobs (failed / (success + failed
 * + skipped), current outcomes): the spec's "Migration Failures" threshold. `null`
 * when nothing was attempted, which is not a breach.
 */
export function migrationFailurePercent(stats: UuidMigrationStats): number | null {
  const attempted = stats.successful_migrations + stats.failed_migrations + stats.skipped_migrations;
  return attempted === 0 ? null : (100 * stats.failed_migrations) / attempted;
}
