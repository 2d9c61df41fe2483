import type { Command } from 'commander';
import { openDatabase } from '../../node/db/open-database.ts';
import { runJobUuidMigration } from '../../node/migration/run-job-uuid-migration.ts';
import { applyMigrations } from '../../node/schema/apply-migrations.ts';
import { seedDatabase } from './db-command.ts';
import { printStats } from './stats-command.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('apply the migrations, seed, migrate and print the stats (embedded database unless DATABASE_URL is set)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const database = await openDatabase({ url: process.env.DATABASE_URL });
      try {
        await applyMigrations(database);
        await seedDatabase(database);
        await runJobUuidMigration(database);
        await printStats(database, options.json);
      } finally {
        await database.close();
      }
    });
}
