import type { Command } from 'commander';
import { describeServer, openDatabase } from '../../node/db/open-database.ts';
import { loadDemoData } from '../../node/demo/demo-data.ts';
import { runWizardTraffic, seededRandom } from '../../node/demo/wizard-traffic.ts';
import { countMigrationCandidates } from '../../node/migration/migration-operations.ts';
import { getUuidMigrationStats } from '../../node/migration/migration-stats.ts';
import { runJobUuidMigration } from '../../node/migration/run-job-uuid-migration.ts';
import { checkThresholds } from '../../node/reports/check-thresholds.ts';
import { foldLookupRollups, lookupJourneys, lookupRegions } from '../../node/reports/lookup-analytics.ts';
import type { ReportName } from '../../node/reports/run-report.ts';
import { runReport } from '../../node/reports/run-report.ts';
import { applyMigrations } from '../../node/schema/apply-migrations.ts';
import { CliError, refuseSimulatedDataOnServer } from '../cli-context.ts';
import { integerBetween, nonEmpty } from '../cli-options.ts';
import { printRecord, printTable, printThresholdChecks } from '../output.ts';
import { createProgress } from '../progress.ts';
import { seedDatabase } from '../../node/schema/seed-database.ts';

const REPORTS: ReportName[] = ['lookup-performance', 'slow-lookups', 'migration-progress', 'failures-by-error', 'missing-services'];

/**
 * The main job: everything the product does, end to end, on an embedded
 * database of its own (in memory, or --data-dir), or on the server that
 * --database-url names: migrations, demo data, wizard traffic through the SDK,
 * the migration with a progress bar, the stats, the spec's queries, and each
 * threshold's state. It writes 100,000 jobs: a DATABASE_URL left in the shell
 * never sends them to that database.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run everything on an embedded database of its own: migrations, data, traffic, migration, reports ' +
        '(DATABASE_URL is ignored: name a server with --database-url)',
    )
    .option('--database-url <url>', 'run on this PostgreSQL server instead (it writes demo jobs and services there: with --allow-simulated-data only)')
    .option('--allow-simulated-data', 'let --database-url receive the simulated services, jobs and lookup events')
    .option('--data-dir <dir>', 'keep the embedded database in this folder (default: in memory)', nonEmpty('a folder'))
    .option('--jobs <n>', 'jobs to create', integerBetween(1000, 5_000_000), 100_000)
    .option('--lookups <n>', 'simulated wizard lookups', integerBetween(0, 1_000_000), 3000)
    .option('--json', 'machine-readable output')
    .action(async (options: { jobs: number; lookups: number; json?: boolean; databaseUrl?: string; dataDir?: string; allowSimulatedData?: boolean }) => {
      const json = options.json === true;
      const say = (text: string): void => {
        if (!json) process.stdout.write(`${text}\n`);
      };
      const started = performance.now();
      if (options.databaseUrl !== undefined && options.dataDir !== undefined) {
        throw new CliError('--database-url and --data-dir name two databases: give one');
      }
      refuseSimulatedDataOnServer('demo', options.databaseUrl, options.allowSimulatedData, `simulated services, ${options.jobs} jobs and lookup events`);
      const db = await openDatabase(
        options.databaseUrl !== undefined ? { url: options.databaseUrl } : options.dataDir !== undefined ? { dataDir: options.dataDir } : { inMemory: true },
      );
      try {
        say(
          `== database: ${db.kind === 'pglite' ? `embedded PGlite (${options.dataDir ?? 'in memory'})` : describeServer(options.databaseUrl ?? '')}`,
        );
        const applied = await applyMigrations(db);
        say(`migrations applied: ${applied.applied.length} (already there: ${applied.alreadyApplied.length})`);
        await seedDatabase(db);
        const data = await loadDemoData(db, { jobs: options.jobs });
        say(`data: ${data.services} micro_services, ${data.jobs} jobs without micro_uuid`);

        // Wizard sessions through the SDK, from a handful of regions; most end in a submitted job.
        const sdk = await runWizardTraffic(db, { lookups: options.lookups, submitJobs: true, random: seededRandom(42) });
        say(`traffic: ${sdk.totalLookups} lookups, ${sdk.failedLookups} failed, ${sdk.fallbackRate.toFixed(1)} % fallbacks, ${sdk.averageLookupTime.toFixed(2)} ms average, ${sdk.jobsSubmitted} jobs submitted`);

        const total = await countMigrationCandidates(db);
        const progress = createProgress(total, { json });
        const run = await runJobUuidMigration(db, {
          batchSize: 10_000,
          onBatch: (batch) => progress.advance(batch.processed),
        });
        progress.stop();
        say(`migration: ${run.processed} jobs in ${(run.durationMs / 1000).toFixed(1)} s (${run.succeeded} success, ${run.skipped} skipped, ${run.failed} failed)`);

        const stats = await getUuidMigrationStats(db);
        // One fold of the pending lookup events for every report that reads the rollups.
        await foldLookupRollups(db);
        const reports = [];
        for (const name of REPORTS) reports.push({ name, ...(await runReport(db, name, { fold: false })) });
        const checks = await checkThresholds(db);
        const regionFigures = await lookupRegions(db, { fold: false });
        const journeys = await lookupJourneys(db, { fold: false });
        const seconds = (performance.now() - started) / 1000;
        if (json) {
          printRecord({ database: db.kind, data, traffic: sdk, migration: run, stats, reports, regions: regionFigures, journeys, thresholds: checks, seconds: Number(seconds.toFixed(1)) }, true);
          return;
        }
        say('\n== get_uuid_migration_stats()');
        printRecord(stats, false);
        for (const report of reports) {
          say(`\n== ${report.title}`);
          printTable(report.rows.slice(0, 10));
          if (report.rows.length > 10) say(`(${report.rows.length - 10} more rows: uuid-lookup report ${report.name})`);
        }
        say('\n== Lookups by region (Phase 6; uuid-lookup report regions)');
        printTable(regionFigures);
        say('\n== Wizard sessions: submission after trouble (uuid-lookup report journeys)');
        printTable(journeys.comparison);
        say('\n== thresholds');
        printThresholdChecks(checks);
        say(`\ndone in ${seconds.toFixed(1)} s`);
      } finally {
        await db.close();
      }
    });
}
