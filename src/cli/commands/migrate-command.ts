import type { Command } from 'commander';
import { Option } from 'commander';
import {
  countMigrationCandidates,
  listMigrationRuns,
  previewJobUuidMigration,
  rollbackMigrationRun,
} from '../../node/migration/migration-operations.ts';
import type { MigrationMode } from '../../contract/migration.ts';
import { MIGRATION_MODES } from '../../contract/migration.ts';
import type { MigrationHold, MigrationPacing } from '../../node/migration/run-job-uuid-migration.ts';
import { runJobUuidMigration } from '../../node/migration/run-job-uuid-migration.ts';
import { analyzeWhereNoAutovacuum } from '../../node/db/analyze.ts';
import { DEFAULT_HOLD_QUERY } from '../../node/migration/migration-health.ts';
import { describeStarter, isGoing, requestRun } from '../../node/migration/migration-runs.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { isUuid } from '../../core/random-uuid.ts';
import { MIGRATION_SHARDS } from '../../contract/migration.ts';
import { CliError, ExitStatus, withDatabase } from '../cli-context.ts';
import type { PacingFlags } from '../cli-options.ts';
import { DEFAULT_TARGET_BATCH_MS, databaseOptions, integerBetween, pacingOptions } from '../cli-options.ts';
import { printRecord, printTable } from '../output.ts';
import { createProgress } from '../progress.ts';

interface MigrateOptions extends DatabaseCommandOptions, PacingFlags {
  batchSize: number;
  concurrency: number;
  mode: MigrationMode;
  retry?: boolean;
  dryRun?: boolean;
}

/**
 * The runner's pacing from the flags of migrate and worker (`command`, to tell a
 * --batch-size given from its default). Batches aim at a time (the optimiser,
 * src/node/migration/batch-sizer.ts) unless the size was given on the command
 * line without a target, or the target is off.
 */
export function pacingFrom(flags: PacingFlags, command: Command): MigrationPacing {
  const batchSizeGiven = command.getOptionValueSource('batchSize') === 'cli';
  const target = flags.targetBatchMs === false ? undefined : (flags.targetBatchMs ?? (batchSizeGiven ? undefined : DEFAULT_TARGET_BATCH_MS));
  if (flags.holdOnPrometheus === undefined && flags.holdQuery !== DEFAULT_HOLD_QUERY) {
    throw new CliError('--hold-query needs --hold-on-prometheus <url>', 2);
  }
  return {
    batchDelayMillis: flags.batchDelay,
    niceRatio: flags.niceRatio,
    ...(target === undefined ? {} : { targetBatchMillis: target }),
    holdCheckMillis: flags.holdCheck * 1000,
    health: flags.healthHolds
      ? {
          maxLockWaits: flags.maxLockWaits,
          maxReplicationLagSeconds: flags.maxReplicationLag,
          maxWalBytesPerMinute: flags.maxWalPerMinute === false ? false : flags.maxWalPerMinute * 1024 * 1024,
          holdDuringVacuum: flags.vacuumHold,
          ...(flags.holdOnPrometheus === undefined ? {} : { prometheus: { url: flags.holdOnPrometheus, query: flags.holdQuery } }),
        }
      : false,
  };
}

/** A hold as a line for people: when it starts, and when the run goes on. */
export function describeHold(hold: MigrationHold): string {
  return hold.ended
    ? `held for ${(hold.heldMillis / 1000).toFixed(1)} s (${hold.reason})`
    : `holding (${hold.reason}): ${hold.detail}`;
}

/** The exit status of a run stopped before it was done: 128 + the signal's number, as shells report it. */
const STOPPED_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

export function registerMigrateCommand(program: Command): void {
  const migrate = databaseOptions(
    program
      .command('migrate')
      .description(
        'back-fill jobs.micro_uuid in batches, one transaction each. Ctrl-C (or SIGTERM) stops after the current ' +
          'batch and exits 130 (143); twice abandons the batch, which rolls back whole. Run again to resume.',
      )
      .option('--batch-size <n>', 'jobs per batch', integerBetween(1, 100_000), 5000)
      .option('--concurrency <n>', 'batches at once, one connection each (a server; 1 on the embedded database)', integerBetween(1, MIGRATION_SHARDS), 1)
      .addOption(
        new Option(
          '--mode <mode>',
          "which jobs without a UUID to visit, each once: 'all' (the spec's process: failed and skipped ones " +
            "included), 'new' (never attempted: what the worker runs), 'retry' (failed, or skipped with a service by now)",
        )
          .choices(MIGRATION_MODES)
          .default('all'),
      )
      .addOption(new Option('--retry', 'the same as --mode retry').conflicts('mode'))
      .option('--dry-run', 'show what a run would do, by slug; write nothing')
      .passThroughOptions(),
  );
  pacingOptions(migrate, DEFAULT_HOLD_QUERY).action(migrateAction);
  registerRunCommands(migrate);
}

/** `migrate`: a run, or with --dry-run what one would do. */
async function migrateAction(options: MigrateOptions, command: Command): Promise<void> {
  const pacing = pacingFrom(options, command);
  await withDatabase(options, async (database) => {
    const mode: MigrationMode = options.retry === true ? 'retry' : options.mode;
    if (options.dryRun === true) {
      const preview = await previewJobUuidMigration(database, { mode });
      if (options.json === true) printRecord({ dry_run: true, slugs: preview }, true);
      else printTable(preview.length === 0 ? [] : preview);
      return;
    }
    if (database.kind === 'pglite' && options.concurrency > 1) {
      process.stderr.write(`note: the embedded database runs one batch at a time: --concurrency ${options.concurrency} runs as 1\n`);
    }
    const total = await countMigrationCandidates(database, { mode });
    // Said before the progress bar is drawn: the id that pause, resume, cancel and rollback take
    // (with nothing to do, the run will likely leave no record: said at its end instead).
    const runId = crypto.randomUUID();
    let named = false;
    const nameRun = (): void => {
      if (options.json !== true && !named) process.stderr.write(`run ${runId} (uuid-lookup migrate pause|resume|cancel ${runId})\n`);
      named = true;
    };
    if (total > 0) nameRun();
    const progress = createProgress(total, { json: options.json, label: mode === 'retry' ? 'retrying' : 'migrating' });
    const controller = new AbortController();
    let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
    const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
      if (stoppedBy === undefined) {
        stoppedBy = signal;
        process.stderr.write('\nstopping after the current batch (Ctrl-C again to abandon it; it rolls back whole)\n');
        controller.abort();
      } else {
        process.exit(STOPPED_EXIT[signal]);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await runJobUuidMigration(database, {
        runId,
        batchSize: options.batchSize,
        concurrency: options.concurrency,
        mode,
        signal: controller.signal,
        pacing,
        startedBy: describeStarter('migrate'),
        onBatch: (batch) => progress.advance(batch.processed),
        onHold: (hold) => {
          // A held run is recorded even when it finds nothing after: its id is what resume and cancel take.
          nameRun();
          if (options.json === true) process.stderr.write(`${JSON.stringify({ event: hold.ended ? 'resumed' : 'held', run_id: runId, ...hold })}\n`);
          else progress.note(describeHold(hold));
        },
      });
      progress.stop();
      if (result.processed > 0) await analyzeWhereNoAutovacuum(database);
      if (!result.recorded && options.json !== true) {
        process.stderr.write(`nothing to migrate${mode === 'retry' ? ' (no failed job to retry)' : ''}: the run found no job and left no record (migrate runs does not list it)\n`);
      }
      printRecord(
        {
          run_id: result.runId,
          recorded: result.recorded,
          mode,
          processed: result.processed,
          succeeded: result.succeeded,
          skipped: result.skipped,
          failed: result.failed,
          batches: result.batches,
          target_batch_ms: pacing.targetBatchMillis ?? null,
          duration_ms: Math.round(result.durationMs),
          slowest_batch_ms: Math.round(result.slowestBatchMs),
          stopped_early: result.aborted,
          cancelled: result.cancelled,
          held_seconds:
            options.json === true
              ? Object.fromEntries(Object.entries(result.heldMillis).map(([reason, ms]) => [reason, Math.round(ms / 100) / 10]))
              : Object.entries(result.heldMillis).map(([reason, ms]) => `${reason} ${(ms / 1000).toFixed(1)} s`).join(', ') || 'none',
        },
        options.json,
      );
      // Stopped before it was done: a script's `migrate && next` must not go on.
      if (result.aborted && stoppedBy !== undefined) throw new ExitStatus(STOPPED_EXIT[stoppedBy]);
    } finally {
      progress.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

/** `migrate runs`, `pause`, `resume`, `cancel` and `rollback`: the runs, and what an operator asks of one. */
function registerRunCommands(migrate: Command): void {
  databaseOptions(migrate.command('runs').description('the runs, newest first: state, real start and finish, jobs, holds')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        const runs = await listMigrationRuns(database);
        if (options.json === true) printRecord({ runs }, true);
        else {
          printTable(
            runs.map((run) => ({
              run_id: run.run_id,
              state: run.requested !== 'run' && isGoing(run.state) ? `${run.state} (${run.requested} asked)` : run.state,
              mode: run.mode ?? '',
              started_at: run.started_at,
              finished_at: run.finished_at ?? '',
              jobs: run.jobs,
              succeeded: run.succeeded,
              skipped: run.skipped,
              failed: run.failed,
              rolled_back: run.rolled_back,
              held: Object.entries(run.held_seconds).map(([reason, seconds]) => `${reason} ${seconds} s`).join(', '),
              now: run.hold_detail ?? run.error ?? '',
            })),
          );
        }
      });
    },
  );

  const control = {
    pause: 'hold the run before its next batch, until migrate resume',
    resume: 'let a paused run go on',
    cancel: 'stop the run for good after its current batch (what it did stays; migrate rollback undoes it)',
  } as const;
  for (const [request, description] of Object.entries(control) as [keyof typeof control, string][]) {
    databaseOptions(migrate.command(`${request} <run-id>`).description(`${description}; from any machine, obeyed within one batch`)).action(
      async (runId: string, options: DatabaseCommandOptions) => {
        if (!isUuid(runId)) throw new CliError(`run id must be a UUID (see uuid-lookup migrate runs), got ${JSON.stringify(runId)}`, 2);
        await withDatabase(options, async (database) => {
          const asked = await requestRun(database, runId, request);
          printRecord({ run_id: runId, requested: request, state: asked.state }, options.json);
        });
      },
    );
  }

  databaseOptions(
    migrate
      .command('rollback <run-id>')
      .description('undo a run: its jobs lose the UUID it gave them (where unchanged since) and count as never attempted'),
  ).action(async (runId: string, options: DatabaseCommandOptions) => {
    // A malformed id is a usage error (2), as a bad flag is; an id no run has is an error (1).
    if (!isUuid(runId)) throw new CliError(`run id must be a UUID (see uuid-lookup migrate runs), got ${JSON.stringify(runId)}`, 2);
    await withDatabase(options, async (database) => {
      const result = await rollbackMigrationRun(database, runId);
      printRecord({ run_id: runId, jobs_reverted: result.jobsReverted, jobs_changed_since: result.jobsChangedSince }, options.json);
    });
  });
}
