import { exporterMetricName } from '../contract/exporter-queries.ts';
import { COLLECTOR_DELTA_POINTS } from '../contract/metrics.ts';
import { migrationMetricName, WORKER_METRIC_NAMES } from '../contract/migration.ts';
import type { MixinConfig } from './mixin-config.ts';
import { durationSeconds, runbookUrl } from './mixin-config.ts';
import { formatLimit, recordingRules, signals } from './signals.ts';
import type { Target } from './selectors.ts';
import { configuredTargets, grouping, jobOf, selectorOf } from './selectors.ts';
import { sloInterval, sloRules } from './slo-rules.ts';

/** The alert's job, as Prometheus fills it in each annotation (the `absent()` branches carry it too). */
const JOB = '{{ $labels.job }}';

interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Prometheus rule groups: recording rules, then threshold and absence alerts, then the SLOs' records and burn-rate alerts. */
export function prometheusRules(config: MixinConfig): { groups: unknown[] } {
  const alerts: AlertRule[] = [];
  for (const signal of signals(config)) {
    for (const severity of ['warning', 'critical'] as const) {
      const limit = signal.threshold[severity] * signal.scale;
      alerts.push({
        alert: signal.alert,
        // Per job, strictly greater, "and" the job's traffic guard: no traffic
        // (0/0 = NaN, or too few lookups to judge) is never a breach.
        expr: `${signal.record} > ${limit} and on(${grouping(config)}) ${signal.guardRecord} >= ${signal.guardMin}`,
        for: config.forDuration[severity],
        labels: { severity },
        annotations: {
          summary: signal.summary,
          description: signal.description(severity, formatLimit(signal.threshold, severity)),
          runbook_url: runbookUrl(config, signal.alert),
        },
      });
    }
  }
  const text = alertDescriptions(config);
  const mig = selectorOf(config, 'migration');
  const worker = selectorOf(config, 'worker');
  const byJob = grouping(config);
  // The exporter's and the worker's series differ in job: the stall compares them per cluster.
  const perCluster = (expr: string) => `sum by (${config.clusterLabel}) (${expr})`;
  // Rules about a job the configuration may leave out ('': no worker, no collector).
  const whenJob = (job: string, rules: AlertRule[]): AlertRule[] => (job === '' ? [] : rules);
  // An absence or operations alert: its summary and runbook section are named after it.
  const rule = (alert: keyof typeof text.summaries, expr: string, forDuration: string, severity: 'warning' | 'critical', description: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary: text.summaries[alert], description, runbook_url: runbookUrl(config, alert) },
  });
  // A target down, or gone: absent() sees it gone from every cluster; with showMultiCluster, a
  // cluster whose other targets of ours report while this one has none is an alert too.
  const down = (target: Target): string => {
    const sel = selectorOf(config, target);
    const expr = `up{${sel}} == 0 or absent(up{${sel}})`;
    if (!config.showMultiCluster) return expr;
    const c = config.clusterLabel;
    // Only series that name their cluster: without the label, absent() says it all.
    const others = configuredTargets(config)
      .filter((t) => t !== target)
      .map((t) => `up{${selectorOf(config, t)},${c}!=""}`);
    return `${expr} or label_replace(group by (${c}) (${others.join(' or ')}) unless on(${c}) group by (${c}) (up{${sel}}), "job", "${jobOf(config, target)}", "", "")`;
  };
  const absence: AlertRule[] = [
    rule('UuidLookupMetricsTargetDown', down('lookup'), config.forDuration.absent, 'critical', text.lookupDown(JOB)),
    rule('UuidMigrationExporterDown', down('migration'), config.forDuration.absent, 'critical', text.exporterDown(JOB)),
    rule(
      'UuidMigrationStatsAbsent',
      `up{${mig}} == 1 unless on(${byJob}) ${migrationMetricName('total_jobs')}{${mig}}`,
      config.forDuration.absent,
      'warning',
      text.statsAbsent(JOB),
    ),
    // Every scrape for the whole period met a fold holding the lock (migration
    // 20261129000600): the rollups the SQL panels read are not being folded.
    rule('UuidLookupRollupsFoldHeld', `${exporterMetricName('uuid_lookup_rollups', 'fold_skipped')}{${mig}} == 1`, config.forDuration.absent, 'warning', text.foldHeld(JOB)),
    // A back-fill run (worker or one-off) held by the database's health for runHeldAfter
    // (migration 20261203000100; a pause asked by an operator is not this).
    rule(
      'UuidMigrationRunHeldLong',
      `max by (${byJob}) (${exporterMetricName('uuid_migration_runs', 'longest_hold_seconds')}{${mig}, state="held"}) > ${durationSeconds(config.runHeldAfter)}`,
      '0m',
      'warning',
      text.runHeld('{{ $value | humanizeDuration }}'),
    ),
    // A run not finished whose runner wrote nothing for runSilentAfter: its process died
    // (kill -9, a lost machine); the run's row says running forever.
    rule(
      'UuidMigrationRunSilent',
      `max by (${byJob}) (${exporterMetricName('uuid_migration_runs', 'longest_silence_seconds')}{${mig}}) > ${durationSeconds(config.runSilentAfter)}`,
      '0m',
      'warning',
      text.runSilent('{{ $value | humanizeDuration }}'),
    ),
    ...whenJob(config.collectorJob, [
      // The collector refused lookup points (docs/architecture.md, "The browsers' metrics
      // path"): its stream limit is full (a page posting made-up slugs, or more services
      // than max_streams holds), or deltas reach delta_to_cumulative unstamped. Prometheus's
      // lookup figures are then short of what the browsers did.
      rule(
        'UuidLookupMetricsRefused',
        `sum by (${byJob}) (increase(${COLLECTOR_DELTA_POINTS}{${selectorOf(config, 'collector')}, error!=""}[${config.window}])) > 0`,
        config.forDuration.warning,
        'warning',
        text.refused('{{ $value | humanize }}'),
      ),
    ]),
    ...whenJob(config.workerJob, [
      rule('UuidMigrationWorkerDown', down('worker'), config.forDuration.absent, 'warning', text.workerDown(JOB)),
      // Never-attempted jobs (without a UUID, and neither skipped nor failed) remain,
      // the worker is up, and it processed none for stalledAfter.
      rule(
        'UuidMigrationStalled',
        `(${perCluster(`${migrationMetricName('jobs_without_uuid')}{${mig}}`)} - ${perCluster(`${migrationMetricName('skipped_migrations')}{${mig}}`)}` +
          ` - ${perCluster(`${migrationMetricName('failed_migrations')}{${mig}}`)}) > 0` +
          ` and on(${config.clusterLabel}) ${perCluster(`increase(${WORKER_METRIC_NAMES.jobs}{${worker}}[${config.stalledAfter}])`)} == 0` +
          ` and on(${config.clusterLabel}) ${perCluster(`up{${worker}}`)} > 0`,
        config.forDuration.warning,
        'warning',
        text.stalled('{{ $value }}'),
      ),
    ]),
  ];
  const groups = [
    { name: 'uuid-lookup.records', interval: config.evaluationInterval, rules: recordingRules(config) },
    { name: 'uuid-lookup.alerts', interval: config.evaluationInterval, rules: [...alerts, ...absence] },
    // Every minute at most: its windows are 5 minutes and longer.
    ...(config.slo.enabled ? [{ name: 'uuid-lookup.slo', interval: sloInterval(config), rules: sloRules(config) as unknown[] }] : []),
  ];
  return { groups: groups.map((g) => ({ ...g, rules: g.rules.flatMap((r) => customisedRule(config, r)) })) };
}

/** A rule as the configuration's `alerts` changes it: gone when turned off; its severity, labels and dashboard link. */
function customisedRule(config: MixinConfig, rule: unknown): unknown[] {
  const alert = rule as Partial<AlertRule>;
  const change = alert.alert === undefined ? undefined : config.alerts[alert.alert];
  if (change === undefined) return [rule];
  if (change.enabled === false) return [];
  return [
    {
      ...alert,
      labels: { ...alert.labels, ...(change.severity === undefined ? {} : { severity: change.severity }), ...change.labels },
      annotations: { ...alert.annotations, ...(change.dashboardUrl === undefined ? {} : { dashboard_url: change.dashboardUrl }) },
    },
  ];
}

/** The absence and worker alerts' summaries and descriptions: each description a function of what Prometheus fills in (a template in the rules, the value in the rule tests). */
export function alertDescriptions(config: MixinConfig) {
  return {
    lookupDown: (job: string) =>
      `Prometheus has no working target for job ${job} (the collector or the app's pull endpoint): lookup alerts are blind.`,
    exporterDown: (job: string) => `Prometheus has no working target for job ${job}: migration progress and failures are not visible.`,
    statsAbsent: (job: string) =>
      `get_uuid_migration_stats() gives job ${job} nothing: the migrations are not applied, or the exporter's role lacks EXECUTE.`,
    foldHeld: (job: string) =>
      `Every scrape of job ${job} for ${config.forDuration.absent} found the fold of the lookup rollups held by another transaction: the SQL panels miss the events stored since.`,
    workerDown: (job: string) => `Prometheus has no working target for job ${job}: new jobs are not back-filled on schedule.`,
    refused: (points: number | string) =>
      `The collector (job ${config.collectorJob}) refused ${points} lookup points over ${config.window}: Prometheus's lookup figures are short of what the browsers did.`,
    runHeld: (held: string) =>
      `A back-fill run has been held by the database's health for ${held} (over ${config.runHeldAfter}): uuid-lookup migrate runs says why; the jobs wait.`,
    runSilent: (silent: string) =>
      `A back-fill run not finished has written no heartbeat for ${silent} (over ${config.runSilentAfter}): its process is gone, and its row says it runs.`,
    stalled: (jobs: number | string) =>
      `${jobs} jobs were never attempted, and the worker processed none in ${config.stalledAfter} while it is up: its runs fail or hang.`,
    summaries: {
      UuidLookupMetricsTargetDown: 'The lookup metrics cannot be scraped.',
      UuidMigrationExporterDown: 'The Postgres exporter cannot be scraped.',
      UuidMigrationStatsAbsent: 'The exporter is up but returns no migration statistics.',
      UuidLookupRollupsFoldHeld: 'The lookup rollups are not being folded.',
      UuidLookupMetricsRefused: 'The collector refuses lookup metrics.',
      UuidMigrationWorkerDown: 'The migration worker cannot be scraped.',
      UuidMigrationStalled: 'The migration worker makes no progress.',
      UuidMigrationRunHeldLong: 'A back-fill run has been held for long.',
      UuidMigrationRunSilent: 'A back-fill run lost its runner.',
    },
  };
}
