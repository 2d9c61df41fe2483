import type { Command } from 'commander';
import {
  countMigrationCandidates,
  listMigrationRuns,
  previewJobUuidMigration,
  rollbackMigrationRun,
} from '../../node/migration/migration-operations.ts';
import { runJobUuidMigration } from '../../node/migration/run-job-uuid-migration.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions, integerBetween } from '../cli-options.ts';
import { printRecord, printTable } from '../output.ts';
import { createProgress } from '../progress.ts';

interface MigrateOptions extends DatabaseCommandOptions {
  batchSize: number;
  concurrency: number;
  retry?: boolean;
  dryRun?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function registerMigrateCommand(program: Command): void {
  const migrate = databaseOptions(
    program
      .command('migrate')
      .description('back-fill jobs.micro_uuid in batches, one transaction each (Ctrl-C stops between batches; run again to resume)')
      .option('--batch-size <n>', 'jobs per batch', integerBetween(1, 100_000), 5000)
      .option('--concurrency <n>', 'batches at once, one connection each (a server; 1 on the embedded database)', integerBetween(1, 16), 1)
      .option('--retry', 're-run failed jobs, and skipped jobs whose service exists now')
      .option('--dry-run', 'show what a run would do, by slug; write nothing')
      .passThroughOptions(),
  ).action(async (options: MigrateOptions) => {
    await withDatabase(options, async (database) => {
      if (options.dryRun === true) {
        const preview = await previewJobUuidMigration(database, { retry: options.retry === true });
        if (options.json === true) printRecord({ dry_run: true, slugs: preview }, true);
        else printTable(preview.length === 0 ? [] : preview);
        return;
      }
      const total = await countMigrationCandidates(database, { retry: options.retry === true });
      const progress = createProgress(total, { json: options.json, label: options.retry ? 'retrying' : 'migrating' });
      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        interrupts += 1;
        if (interrupts === 1) {
          process.stderr.write('\nstopping after the current batch (Ctrl-C again to abandon it; it rolls back whole)\n');
          controller.abort();
        } else {
          process.exit(130);
        }
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await runJobUuidMigration(database, {
          batchSize: options.batchSize,
          concurrency: options.concurrency,
          retry: options.retry === true,
          signal: controller.signal,
          onBatch: (batch) => progress.advance(batch.processed),
        });
        progress.stop();
        printRecord(
          {
            run_id: result.runId,
            processed: result.processed,
            succeeded: result.succeeded,
            skipped: result.skipped,
            failed: result.failed,
            batches: result.batches,
            duration_ms: Math.round(result.durationMs),
            slowest_batch_ms: Math.round(result.slowestBatchMs),
            stopped_early: result.aborted,
          },
          options.json,
        );
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    });
  });

  databaseOptions(migrate.command('runs').description('the runs recorded in uuid_migration_log, newest first')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        const runs = await listMigrationRuns(database);
        if (options.json === true) printRecord({ runs }, true);
        else printTable(runs);
      });
    },
  );

  databaseOptions(
    migrate
      .command('rollback <run-id>')
      .description('undo a run: its jobs lose the UUID it gave them (where unchanged since) and count as never attempted'),
  ).action(async (runId: string, options: DatabaseCommandOptions) => {
    if (!UUID.test(runId)) throw new CliError(`run id must be a UUID (see uuid-lookup migrate runs), got ${JSON.stringify(runId)}`);
    await withDatabase(options, async (database) => {
      const result = await rollbackMigrationRun(database, runId);
      printRecord({ run_id: runId, jobs_reverted: result.jobsReverted, jobs_changed_since: result.jobsChangedSince }, options.json);
    });
  });
}
