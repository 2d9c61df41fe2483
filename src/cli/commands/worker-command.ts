import type { Command } from 'commander';
import { MIGRATION_SHARDS } from '../../contract/migration.ts';
import { createMigrationWorker } from '../../node/worker/migration-worker.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { openCommandDatabase } from '../cli-context.ts';
import type { PacingFlags } from '../cli-options.ts';
import { databaseOptions, httpUrl, integerBetween, pacingOptions } from '../cli-options.ts';
import { DEFAULT_HOLD_QUERY } from '../../node/migration/migration-health.ts';
import { pacingFrom } from './migrate-command.ts';

export function registerWorkerCommand(program: Command): void {
  const command = databaseOptions(
    program
      .command('worker')
      .description('run the migration on a schedule, retry failures, report progress, serve metrics for Prometheus')
      .option('--interval <seconds>', 'between runs for new jobs', integerBetween(1, 86_400), 300)
      .option('--retry-interval <seconds>', 'between retries of failed jobs', integerBetween(1, 604_800), 3600)
      .option('--batch-size <n>', 'jobs per batch', integerBetween(1, 100_000), 5000)
      .option('--concurrency <n>', 'batches at once (a server)', integerBetween(1, MIGRATION_SHARDS), 1)
      .option('--metrics-port <port>', 'serve /metrics on this port (0: any free port)', integerBetween(0, 65_535), 9465)
      .option('--metrics-host <address>', 'the address /metrics listens on (0.0.0.0: every interface, as in a container)', '127.0.0.1')
      .option('--notify-url <url>', 'POST a JSON summary of each run here', httpUrl),
  );
  pacingOptions(command, DEFAULT_HOLD_QUERY).action(
    async (
      options: DatabaseCommandOptions &
        PacingFlags & {
        interval: number;
        retryInterval: number;
        batchSize: number;
        concurrency: number;
        metricsPort: number;
        metricsHost: string;
        notifyUrl?: string;
      },
      command: Command,
    ) => {
      const pacing = pacingFrom(options, command);
      const db = await openCommandDatabase(options);
      try {
        const worker = createMigrationWorker({
          db,
          intervalMillis: options.interval * 1000,
          retryIntervalMillis: options.retryInterval * 1000,
          batchSize: options.batchSize,
          concurrency: options.concurrency,
          pacing,
          metricsPort: options.metricsPort,
          metricsHost: options.metricsHost,
          ...(options.notifyUrl === undefined ? {} : { notifyUrl: options.notifyUrl }),
        });
        await worker.start();
        process.stderr.write(`uuid-lookup worker: metrics at ${worker.metricsUrl ?? '(off)'}; Ctrl-C stops after the current batch\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await worker.stop();
      } finally {
        await db.close();
      }
    },
  );
}
