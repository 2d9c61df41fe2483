import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { exporterMetricName } from '../../contract/exporter-queries.ts';
import type { MigrationStatsField } from '../../contract/migration.ts';
import { migrationMetricName, WORKER_METRIC_NAMES } from '../../contract/migration.ts';
import { dashboardForms, specQueries } from '../../contract/spec-queries.ts';
import type { SpecQueryName } from '../../contract/spec-queries.ts';
import type { MixinConfig } from '../mixin-config.ts';
import type { Place } from './panels.ts';
import { alertPanels, dashboard, panelMatchers, Panels } from './panels.ts';

/** The sum of a migration statistic over the selected jobs and instances. */
function migrationSum(config: MixinConfig, field: MigrationStatsField): string {
  return `sum(${migrationMetricName(field)}{${panelMatchers(config, 'migration')}})`;
}

/** The migration statistics' SQL panels: state, not bounded in time. */
const MIGRATION_TABLES: { query: SpecQueryName; place: Place; unit: string; units?: Record<string, string>; description: string; form?: string }[] = [
  { query: 'migrationStats', place: { x: 0, y: 13, w: 24, h: 4 }, unit: 'short', units: { completion_percentage: 'percent' }, description: 'get_uuid_migration_stats(): counts of jobs with and without a UUID and of migration outcomes, exact, from counters.' },
  {
    query: 'migrationProgress',
    place: { x: 0, y: 17, w: 8, h: 8 },
    unit: 'short',
    units: { percentage: 'percent' },
    description: "The spec's progress query: the current outcome of every job the migration attempted, by status; read from the counters (the same rows, at any number of jobs).",
    form: dashboardForms.migrationProgress,
  },
  { query: 'failuresByError', place: { x: 8, y: 17, w: 8, h: 8 }, unit: 'short', description: "The spec's failures by error message, with the slugs they affect." },
  {
    query: 'missingServices',
    place: { x: 16, y: 17, w: 8, h: 8 },
    unit: 'none',
    description: 'Job slugs without a UUID that no micro_service has: map them with `uuid-lookup services map`. The spec\'s query, as one index probe per distinct slug (the same rows).',
    form: dashboardForms.missingServices,
  },
  { query: 'failedJobs', place: { x: 0, y: 25, w: 12, h: 8 }, unit: 'short', description: "The spec's failed jobs by error message, with their ids (retry with `uuid-lookup migrate --mode retry`)." },
  { query: 'reviewFailures', place: { x: 12, y: 25, w: 12, h: 8 }, unit: 'none', description: 'The latest 100 failed and skipped jobs, as the spec reviews them.' },
];

/** The migration progress dashboard. */
export function migrationDashboard(config: MixinConfig): Dashboard {
  const VARS = panelMatchers(config, 'migration');
  const attempted = `(${migrationSum(config, 'successful_migrations')} + ${migrationSum(config, 'failed_migrations')} + ${migrationSum(config, 'skipped_migrations')})`;
  const p = new Panels(config);
  const exporter = '(get_uuid_migration_stats() through the Postgres exporter)';
  p.stat('Completion', `Share of jobs that have a UUID ${exporter}.`, { x: 0, y: 0, w: 6, h: 4 }, { expr: `max(${migrationMetricName('completion_percentage')}{${VARS}})`, unit: 'percent' });
  p.stat('Jobs without UUID', `Jobs still without a UUID: never attempted, skipped or failed ${exporter}.`, { x: 6, y: 0, w: 6, h: 4 }, { expr: migrationSum(config, 'jobs_without_uuid'), unit: 'short' });
  p.stat('Total jobs', `All jobs ${exporter}.`, { x: 12, y: 0, w: 6, h: 4 }, { expr: migrationSum(config, 'total_jobs'), unit: 'short' });
  p.stat(
    'Migration failure rate',
    'Failed jobs as a share of attempted ones (success, failed, skipped), against the migration failure-rate limits.',
    { x: 18, y: 0, w: 6, h: 4 },
    { expr: `${migrationSum(config, 'failed_migrations')} / ${attempted}`, unit: 'percentunit', key: 'migration_failure_rate', scale: 1 / 100 },
  );
  p.timeseries('Jobs with and without UUID', `The back-fill's progress over time ${exporter}.`, { x: 0, y: 4, w: 12, h: 9 }, {
    unit: 'short',
    exprs: [
      { expr: migrationSum(config, 'jobs_with_uuid'), legend: 'with UUID' },
      { expr: migrationSum(config, 'jobs_without_uuid'), legend: 'without UUID' },
    ],
  });
  p.timeseries('Throughput (jobs per second, by outcome)', 'How fast the outcome counts grow (deriv over $__rate_interval), whoever runs the migration.', { x: 12, y: 4, w: 12, h: 9 }, {
    unit: 'ops',
    exprs: (['successful_migrations', 'skipped_migrations', 'failed_migrations'] as const).map((field, i) => ({
      expr: `sum(deriv(${migrationMetricName(field)}{${VARS}}[$__rate_interval]))`,
      legend: ['success', 'skipped', 'failed'][i] ?? field,
    })),
  });
  for (const t of MIGRATION_TABLES) {
    const q = specQueries[t.query];
    // The spec's query in the description; the panel runs it, or its form that reads the same rows at scale.
    p.sqlTable(q.title, `${t.description}\n\n${q.sql}`, t.place, { sql: t.form ?? q.sql, unit: t.unit, units: t.units });
  }
  alertPanels(p, 33);
  workerRow(config, p, 40);
  runsRow(config, p, 56);
  return dashboard(config, {
    uid: 'uuid-migration-progress',
    title: 'UUID migration',
    description: 'Back-fill of jobs.micro_uuid: progress, outcomes, failures, the scheduled worker (spec: Migration System, Operational Procedures).',
    jobMetric: `{__name__=~"${[migrationMetricName('total_jobs'), ...(config.workerJob === '' ? [] : [WORKER_METRIC_NAMES.jobs])].join('|')}"}`,
    jobs: [config.migrationJob, ...(config.workerJob === '' ? [] : [config.workerJob])],
    targets: ['migration', ...(config.workerJob === '' ? [] : ['worker' as const])],
    panels: p,
  });
}

/**
 * The scheduled worker, as batched background migration frameworks show theirs:
 * jobs processed per minute, the time left at that pace, runs by result, and
 * how long since a run last succeeded.
 */
function workerRow(config: MixinConfig, p: Panels, y: number): void {
  if (config.workerJob === '') return;
  const VARS = panelMatchers(config, 'worker');
  const perMinute = `sum(rate(${WORKER_METRIC_NAMES.jobs}{${VARS}}[$__rate_interval])) * 60`;
  const pending = `(${migrationSum(config, 'jobs_without_uuid')} - ${migrationSum(config, 'skipped_migrations')} - ${migrationSum(config, 'failed_migrations')})`;
  p.row('Migration worker', y);
  p.timeseries('Worker: jobs processed per minute, by outcome', 'Jobs the scheduled worker (`uuid-lookup worker`) migrated, skipped or failed, per minute.', { x: 0, y: y + 1, w: 12, h: 8 }, {
    unit: 'cpm',
    exprs: [{ expr: `sum by (status) (rate(${WORKER_METRIC_NAMES.jobs}{${VARS}}[$__rate_interval])) * 60`, legend: '{{status}}' }],
  });
  p.stat('Worker: time left at this pace', 'Never-attempted jobs divided by the rate the worker processes jobs now; empty while it processes none.', { x: 12, y: y + 1, w: 6, h: 4 }, {
    expr: `${pending} / (${perMinute} / 60)`,
    unit: 's',
  });
  p.stat('Worker: since the last successful run', 'Time since a worker run last completed without error; the UuidMigrationStalled alert watches for no progress.', { x: 18, y: y + 1, w: 6, h: 4 }, {
    expr: `time() - max(${WORKER_METRIC_NAMES.lastSuccess}{${VARS}})`,
    unit: 's',
  });
  p.timeseries('Worker: batch time', 'How long one batch (one transaction) takes, median and 95th percentile: the time the app may wait on a row the back-fill holds (uuid-lookup migrate --target-batch-ms aims at one).', { x: 0, y: y + 9, w: 24, h: 6 }, {
    unit: 's',
    exprs: [0.5, 0.95].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le) (rate(${WORKER_METRIC_NAMES.batchDuration}_bucket{${VARS}}[$__rate_interval])))`,
      legend: `p${q * 100}`,
    })),
  });
  p.timeseries('Worker: runs by kind and result', 'Worker runs (new jobs, retries) by result, per $__rate_interval.', { x: 12, y: y + 5, w: 12, h: 4 }, {
    unit: 'short',
    exprs: [{ expr: `sum by (kind, result) (increase(${WORKER_METRIC_NAMES.runs}{${VARS}}[$__rate_interval]))`, legend: '{{kind}} {{result}}' }],
  });
}

/**
 * Back-fill runs from every runner (the worker, a one-off migrate), through the
 * Postgres exporter's view of uuid_migration_runs: how many run, are held by the
 * database's health, or paused; the longest hold; batch time, jobs per second and
 * time efficiency.
 */
function runsRow(config: MixinConfig, p: Panels, y: number): void {
  const VARS = panelMatchers(config, 'migration');
  p.row('Back-fill runs', y);
  p.timeseries('Runs by state', 'Back-fill runs not finished: running, held by the database\'s health (lock waits, VACUUM, WAL rate, replica lag, a Prometheus alert), or paused by an operator (uuid-lookup migrate pause). uuid-lookup migrate runs says why.', { x: 0, y: y + 1, w: 12, h: 8 }, {
    unit: 'short',
    exprs: [{ expr: `sum by (state) (${exporterMetricName('uuid_migration_runs', 'active')}{${VARS}})`, legend: '{{state}}' }],
  });
  p.timeseries('Longest hold', `How long the longest-held run has been held, by state; UuidMigrationRunHeldLong fires past ${config.runHeldAfter} held for health.`, { x: 12, y: y + 1, w: 12, h: 8 }, {
    unit: 's',
    exprs: [{ expr: `max by (state) (${exporterMetricName('uuid_migration_runs', 'longest_hold_seconds')}{${VARS}, state=~"held|paused"})`, legend: '{{state}}' }],
  });
  p.timeseries('Batch time, every runner', 'The slowest last batch of the runs going, and their mean batch time over the range (the runs table, migration 20261203000300: a one-off migrate too). Short batches keep the app\'s waits on the back-fill\'s row locks short.', { x: 0, y: y + 9, w: 12, h: 8 }, {
    unit: 's',
    exprs: [
      { expr: `max(${exporterMetricName('uuid_migration_run_batches', 'last_batch_seconds')}{${VARS}})`, legend: 'last batch' },
      {
        expr: `sum(clamp_min(deriv(${exporterMetricName('uuid_migration_run_batches', 'batch_seconds')}{${VARS}}[$__rate_interval]), 0)) / sum(clamp_min(deriv(${exporterMetricName('uuid_migration_run_batches', 'batches')}{${VARS}}[$__rate_interval]), 0))`,
        legend: 'mean batch',
      },
    ],
  });
  p.timeseries('Jobs per second and time efficiency, every runner', 'Jobs the going runs do per second, and their time efficiency: time in batches over time since their start (1 never waits; lower when held, paused or paced with --nice-ratio or --batch-delay).', { x: 12, y: y + 9, w: 12, h: 8 }, {
    unit: 'short',
    exprs: [
      { expr: `sum(clamp_min(deriv(${exporterMetricName('uuid_migration_run_batches', 'jobs')}{${VARS}}[$__rate_interval]), 0))`, legend: 'jobs/s' },
      { expr: `max(${exporterMetricName('uuid_migration_run_batches', 'time_efficiency_ratio')}{${VARS}})`, legend: 'time efficiency' },
    ],
  });
}
