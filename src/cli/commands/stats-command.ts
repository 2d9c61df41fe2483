import type { Command } from 'commander';
import { thresholdFor, thresholdState } from '../../contract/thresholds.ts';
import type { Queryable } from '../../node/db/database.ts';
import { getUuidMigrationStats, migrationFailurePercent } from '../../node/migration/migration-stats.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { withDatabase } from '../cli-context.ts';
import { databaseOptions } from '../cli-options.ts';
import { printRecord } from '../output.ts';

/** Prints get_uuid_migration_stats() with the migration-failure threshold's state. */
async function printStats(db: Queryable, json: boolean | undefined): Promise<void> {
  const stats = await getUuidMigrationStats(db);
  const failure = migrationFailurePercent(stats);
  const state = thresholdState(thresholdFor('migration_failure_rate'), failure);
  printRecord(
    { ...stats, migration_failure_percentage: failure === null ? null : Number(failure.toFixed(2)), migration_failure_state: state },
    json,
  );
}

export function registerStatsCommand(program: Command): void {
  databaseOptions(program.command('stats').description("the spec's get_uuid_migration_stats(), with the failure threshold")).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, (database) => printStats(database, options.json));
    },
  );
}
