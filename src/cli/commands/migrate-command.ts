import type { Command } from 'commander';
import { runJobUuidMigration } from '../../node/migration/run-job-uuid-migration.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { withDatabase } from '../cli-context.ts';
import { databaseOptions, integerBetween } from '../cli-options.ts';
import { printRecord } from '../output.ts';

export function registerMigrateCommand(program: Command): void {
  databaseOptions(
    program
      .command('migrate')
      .description('back-fill jobs.micro_uuid in batches, one transaction each')
      .option('--batch-size <n>', 'jobs per batch', integerBetween(1, 100_000), 5000)
      .option('--concurrency <n>', 'batches at once, one connection each (a server; 1 on the embedded database)', integerBetween(1, 16), 1)
      .option('--retry', 're-run jobs whose last outcome was failed or skipped'),
  ).action(async (options: DatabaseCommandOptions & { batchSize: number; concurrency: number; retry?: boolean }) => {
    await withDatabase(options, async (database) => {
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      try {
        const result = await runJobUuidMigration(database, {
          batchSize: options.batchSize,
          concurrency: options.concurrency,
          retry: options.retry === true,
          signal: controller.signal,
        });
        printRecord({ ...result, durationMs: Math.round(result.durationMs), slowestBatchMs: Math.round(result.slowestBatchMs) }, options.json);
      } finally {
        process.off('SIGINT', stop);
      }
    });
  });
}
