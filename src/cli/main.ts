#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { thresholds, thresholdState } from '../core/thresholds.ts';
import type { Database } from '../node/db/database.ts';
import { openDatabase } from '../node/db/open-database.ts';
import { getUuidMigrationStats, migrationFailurePercent } from '../node/migration/migration-stats.ts';
import { runJobUuidMigration } from '../node/migration/run-job-uuid-migration.ts';
import { applyMigrations } from '../node/schema/apply-migrations.ts';
import { supabaseDir } from '../node/schema/migration-files.ts';
import type { DatabaseCommandOptions } from './cli-context.ts';
import { CliError, describeError, withDatabase } from './cli-context.ts';
import { printRecord } from './output.ts';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1 || parsed > 100_000) {
    throw new InvalidArgumentError('expected a whole number from 1 to 100000');
  }
  return parsed;
}

async function seed(db: Database): Promise<void> {
  await db.exec(await readFile(path.join(supabaseDir, 'seed.sql'), 'utf8'));
}

async function printStats(db: Database, json: boolean | undefined): Promise<void> {
  const stats = await getUuidMigrationStats(db);
  const failure = migrationFailurePercent(stats);
  const threshold = thresholds.find((t) => t.key === 'migration_failure_rate');
  const state = threshold === undefined ? 'no-data' : thresholdState(threshold, failure);
  printRecord({ ...stats, migration_failure_percentage: failure === null ? null : Number(failure.toFixed(2)), migration_failure_state: state }, json);
}

function databaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL; without one, the embedded database)')
    .option('--data-dir <dir>', 'folder of the embedded database (default: ./.uuid-lookup/pglite)')
    .option('--json', 'machine-readable output');
}

export function buildProgram(): Command {
  const program = new Command('uuid-lookup')
    .description('Operate the slug-to-UUID lookup: schema, migration, statistics.')
    .showHelpAfterError();

  const db = program.command('db').description('the database schema');
  databaseOptions(db.command('apply').description('apply the migrations in supabase/migrations')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        const result = await applyMigrations(database);
        printRecord({ applied: result.applied.join(' ') || '(none)', already_applied: result.alreadyApplied.length }, options.json);
      });
    },
  );
  databaseOptions(db.command('seed').description('load supabase/seed.sql (sample services and jobs)')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        await seed(database);
        printRecord({ seeded: true }, options.json);
      });
    },
  );

  databaseOptions(
    program
      .command('migrate')
      .description('back-fill jobs.micro_uuid in batches, one transaction each')
      .option('--batch-size <n>', 'jobs per batch', positiveInteger, 5000)
      .option('--concurrency <n>', 'batches at once, one connection each (a server; 1 on the embedded database)', positiveInteger, 1)
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

  databaseOptions(program.command('stats').description("the spec's get_uuid_migration_stats(), with the failure threshold")).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, (database) => printStats(database, options.json));
    },
  );

  program
    .command('demo')
    .description('apply the migrations, seed, migrate and print the stats (embedded database unless DATABASE_URL is set)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const database = await openDatabase({ url: process.env.DATABASE_URL });
      try {
        await applyMigrations(database);
        await seed(database);
        await runJobUuidMigration(database);
        await printStats(database, options.json);
      } finally {
        await database.close();
      }
    });

  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : 1;
    process.stderr.write(`uuid-lookup: ${describeError(error)}\n`);
    return exitCode;
  }
}

process.exitCode = await main(process.argv);
