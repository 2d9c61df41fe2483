import { stringify } from 'yaml';
import { migrationMetricName, WORKER_METRIC_NAMES } from '../contract/migration.ts';
import { COLLECTOR_DELTA_POINTS, PROMETHEUS_NAMES } from '../contract/metrics.ts';
import type { Severity } from '../contract/thresholds.ts';
import type { MixinConfig } from './mixin-config.ts';
import { durationSeconds, runbookUrl, signals, thresholdOf } from './mixin-config.ts';
import { alertDescriptions } from './prometheus-rules.ts';
import { BURN_RATE_ALERTS, burnFactor, latencyBucketLabel, sloDescription, slos } from './slo-rules.ts';

/**
 * promtool unit tests of the rendered rules, for any configuration: each
 * threshold alert fires at both severities above its critical limit, at
 * warning only between the limits, stays quiet below warning, without traffic
 * and on too little traffic to judge; each absence and worker alert fires and
 * stays quiet. The inputs are placed relative to the configured limits, and
 * the expected descriptions are Prometheus's own formatting of those inputs,
 * so a rule that compared with the wrong limit, selected the wrong job or
 * lost a label fails here (`promtool test rules`).
 */

const INTERVAL_S = 30;

/** Go's `%.4g` for the magnitudes the tests use (1e-4 to 1e4). */
function g4(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** Prometheus's `humanizeDuration` for 1 ms to 60 s. */
function humanizeDuration(seconds: number): string {
  if (seconds >= 60 || seconds < 0.001) throw new Error(`rule tests: a lookup time of ${seconds} s is out of the range they cover (1 ms to 60 s)`);
  return seconds >= 1 ? `${g4(seconds)}s` : `${g4(seconds * 1000)}ms`;
}

/** Prometheus's `humanizeDuration` for whole seconds from a minute on. */
function humanizeLongDuration(seconds: number): string {
  const [d, h, m, sec] = [Math.floor(seconds / 86_400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, Math.floor(seconds) % 60];
  if (d > 0) return `${d}d ${h}h ${m}m ${sec}s`;
  if (h > 0) return `${h}h ${m}m ${sec}s`;
  return `${m}m ${sec}s`;
}

/** Prometheus's `humanizePercentage`. */
const humanizePercentage = (ratio: number): string => `${g4(ratio * 100)}%`;

interface Expected {
  severity: Severity;
  description: string;
  labels: Record<string, string>;
}

interface Case {
  name: string;
  series: Record<string, string>;
  alertname: string;
  expect: Expected[];
}

/** The promtool test file for `config`'s rules, as YAML; `rulesFile` is the rules' path relative to it. */
export function renderRuleTests(config: MixinConfig, rulesFile = '../rules/uuid-lookup.rules.yml'): string {
  const windowSteps = durationSeconds(config.window) / INTERVAL_S;
  const longest = Math.max(...Object.values(config.forDuration).map(durationSeconds), durationSeconds(config.stalledAfter) + durationSeconds(config.forDuration.warning));
  // Evaluate past every `for` and the stall window, with the rate window filled.
  const evalSeconds = longest + durationSeconds(config.window) + 300;
  const steps = Math.ceil(evalSeconds / INTERVAL_S) + 10;
  const counter = (perStep: number) => `0+${perStep}x${steps}`;
  const gauge = (value: number) => `${value}x${steps}`;
  const up = (job: string, value: 0 | 1) => ({ [`up{job="${job}"}`]: gauge(value) });
  const lookupJob = `job="${config.lookupJob}"`;
  const migJob = `job="${config.migrationJob}"`;
  // Enough lookups a step that the window holds twice the minimum, at least 50.
  const busy = Math.max(50, Math.ceil((2 * config.minLookups) / windowSteps));
  const few = Math.floor((config.minLookups - 1) / (windowSteps + 1));

  function traffic(perStep: number, o: { failing?: number; fallback?: number; seconds?: number } = {}): Record<string, string> {
    const failing = o.failing ?? 0;
    const fallback = o.fallback ?? 0;
    const lookups = (labels: string) => `${PROMETHEUS_NAMES.lookups}{${lookupJob},${labels},micro_slug="wall-painting"}`;
    return {
      [lookups('outcome="success",fallback="false"')]: counter(perStep - failing - fallback),
      [lookups('outcome="success",fallback="true"')]: counter(fallback),
      [lookups('outcome="failure",fallback="false"')]: counter(failing),
      [`${PROMETHEUS_NAMES.lookupDuration}_count{${lookupJob}}`]: counter(perStep),
      [`${PROMETHEUS_NAMES.lookupDuration}_sum{${lookupJob}}`]: counter(perStep * (o.seconds ?? 0.01)),
      ...up(config.lookupJob, 1),
    };
  }

  const attempts = 1000 * Math.max(1, Math.ceil((2 * config.minMigrationAttempts) / 1000));
  function migration(failedShare: number, skipped = 0): Record<string, string> {
    const failed = failedShare * attempts;
    return {
      [`${migrationMetricName('successful_migrations')}{${migJob}}`]: gauge(attempts - failed - skipped),
      [`${migrationMetricName('failed_migrations')}{${migJob}}`]: gauge(failed),
      [`${migrationMetricName('skipped_migrations')}{${migJob}}`]: gauge(skipped),
      [`${migrationMetricName('total_jobs')}{${migJob}}`]: gauge(attempts),
      ...up(config.migrationJob, 1),
    };
  }

  const cases: Case[] = [];
  for (const signal of signals(config)) {
    const t = thresholdOf(config, signal.threshold.key);
    // Values in the table's unit: above critical, between the limits, under warning.
    const above = t.unit === 'percent' ? Math.min(t.critical * 1.5, (t.critical + 100) / 2) : t.critical * 1.5;
    const between = (t.warning + t.critical) / 2;
    const under = t.warning * 0.8;
    const lookupAlert = signal.threshold.key !== 'migration_failure_rate';
    const job = lookupAlert ? config.lookupJob : config.migrationJob;
    const described = (value: number, severity: Severity): Expected => {
      const scaled = value * signal.scale;
      const shown = t.unit === 'ms' ? humanizeDuration(scaled) : humanizePercentage(scaled);
      const limit = t.unit === 'ms' ? `${t[severity]} ms` : `${t[severity]}%`;
      return { severity, labels: { job }, description: signal.description(severity, limit).replace(/\{\{ \$value \| humanize\w+ \}\}/, shown) };
    };
    const input = (value: number, perStep = busy): Record<string, string> => {
      const scaled = value * signal.scale;
      switch (signal.threshold.key) {
        case 'lookup_latency':
          return traffic(perStep, { seconds: scaled });
        case 'lookup_failure_rate':
          return traffic(perStep, { failing: perStep * scaled });
        case 'lookup_fallback_rate':
          return traffic(perStep, { fallback: perStep * scaled });
        case 'migration_failure_rate':
          return migration(scaled);
      }
    };
    const what = `${signal.alert} (${t.title}, warning > ${t.warning}, critical > ${t.critical} ${t.unit})`;
    cases.push(
      { name: `${what}: warning and critical at ${g4(above)}`, series: input(above), alertname: signal.alert, expect: [described(above, 'critical'), described(above, 'warning')] },
      { name: `${what}: warning only at ${g4(between)}`, series: input(between), alertname: signal.alert, expect: [described(between, 'warning')] },
      { name: `${what}: quiet under the warning limit, at ${g4(under)}`, series: input(under), alertname: signal.alert, expect: [] },
    );
    if (lookupAlert) {
      cases.push({ name: `${what}: quiet without traffic`, series: traffic(0), alertname: signal.alert, expect: [] });
      if (few > 0) cases.push({ name: `${what}: quiet on too little traffic to judge (${few} a step)`, series: input(above, few), alertname: signal.alert, expect: [] });
    } else {
      cases.push(
        { name: `${what}: quiet at exactly the warning limit (strictly greater)`, series: migration(t.warning * signal.scale), alertname: signal.alert, expect: [] },
        { name: `${what}: quiet before any job was attempted`, series: { ...migration(0), [`${migrationMetricName('successful_migrations')}{${migJob}}`]: gauge(0) }, alertname: signal.alert, expect: [] },
      );
    }
  }

  const absence = (severity: Severity, job: string, description: string): Expected[] => [{ severity, labels: { job }, description }];
  const rules = alertDescriptions(config);
  cases.push(
    { name: `UuidLookupMetricsTargetDown: fires when Prometheus has no target for job ${config.lookupJob}`, series: migration(0.01), alertname: 'UuidLookupMetricsTargetDown', expect: absence('critical', config.lookupJob, rules.lookupDown(config.lookupJob)) },
    { name: 'UuidLookupMetricsTargetDown: fires when the target is down', series: { ...traffic(10), ...up(config.lookupJob, 0) }, alertname: 'UuidLookupMetricsTargetDown', expect: absence('critical', config.lookupJob, rules.lookupDown(config.lookupJob)) },
    { name: 'UuidLookupMetricsTargetDown: quiet while the target is up, even with no traffic', series: traffic(0), alertname: 'UuidLookupMetricsTargetDown', expect: [] },
    { name: `UuidMigrationExporterDown: fires when job ${config.migrationJob} is down`, series: { ...migration(0.01), ...up(config.migrationJob, 0) }, alertname: 'UuidMigrationExporterDown', expect: absence('critical', config.migrationJob, rules.exporterDown(config.migrationJob)) },
    { name: 'UuidMigrationStatsAbsent: fires when the exporter is up but returns no statistics', series: up(config.migrationJob, 1), alertname: 'UuidMigrationStatsAbsent', expect: absence('warning', config.migrationJob, rules.statsAbsent(config.migrationJob)) },
    { name: 'UuidMigrationStatsAbsent: quiet when statistics arrive', series: migration(0.01), alertname: 'UuidMigrationStatsAbsent', expect: [] },
    { name: 'UuidLookupRollupsFoldHeld: fires when every scrape skips the fold', series: { ...migration(0.01), [`uuid_lookup_rollups_fold_skipped{${migJob}}`]: gauge(1) }, alertname: 'UuidLookupRollupsFoldHeld', expect: absence('warning', config.migrationJob, rules.foldHeld(config.migrationJob)) },
    { name: 'UuidLookupRollupsFoldHeld: quiet while scrapes fold', series: { ...migration(0.01), [`uuid_lookup_rollups_fold_skipped{${migJob}}`]: gauge(0) }, alertname: 'UuidLookupRollupsFoldHeld', expect: [] },
  );
  const runs = (metric: string, state: string, seconds: number): Record<string, string> => ({
    ...migration(0.01),
    [`uuid_migration_runs_${metric}{${migJob},state="${state}"}`]: gauge(seconds),
  });
  const held = durationSeconds(config.runHeldAfter);
  const silent = durationSeconds(config.runSilentAfter);
  cases.push(
    { name: `UuidMigrationRunHeldLong: fires when a run is held for over ${config.runHeldAfter}`, series: runs('longest_hold_seconds', 'held', held + 600), alertname: 'UuidMigrationRunHeldLong', expect: absence('warning', config.migrationJob, rules.runHeld(humanizeLongDuration(held + 600))) },
    { name: 'UuidMigrationRunHeldLong: quiet while holds are short', series: runs('longest_hold_seconds', 'held', Math.max(1, held - 60)), alertname: 'UuidMigrationRunHeldLong', expect: [] },
    { name: 'UuidMigrationRunHeldLong: quiet for a run an operator paused, however long', series: runs('longest_hold_seconds', 'paused', held * 10), alertname: 'UuidMigrationRunHeldLong', expect: [] },
    { name: `UuidMigrationRunSilent: fires when a run's runner is silent for over ${config.runSilentAfter}`, series: runs('longest_silence_seconds', 'running', silent + 600), alertname: 'UuidMigrationRunSilent', expect: absence('warning', config.migrationJob, rules.runSilent(humanizeLongDuration(silent + 600))) },
    { name: 'UuidMigrationRunSilent: quiet while runners write heartbeats', series: runs('longest_silence_seconds', 'running', 20), alertname: 'UuidMigrationRunSilent', expect: [] },
  );
  if (config.collectorJob !== '') {
    const points = (labels: string) => `${COLLECTOR_DELTA_POINTS}{job="${config.collectorJob}"${labels}}`;
    cases.push(
      {
        name: `UuidLookupMetricsRefused: fires while the collector (job ${config.collectorJob}) refuses lookup points`,
        series: { [points('')]: counter(100), [points(',error="delta.ErrLimit"')]: counter(3) },
        alertname: 'UuidLookupMetricsRefused',
        // A steady 3 a step: the increase over the window is 3 × its steps.
        expect: [{ severity: 'warning', labels: { job: config.collectorJob }, description: rules.refused(g4(3 * windowSteps)) }],
      },
      { name: 'UuidLookupMetricsRefused: quiet while every point is taken', series: { [points('')]: counter(100), [points(',error="delta.ErrLimit"')]: counter(0) }, alertname: 'UuidLookupMetricsRefused', expect: [] },
    );
  }
  if (config.workerJob !== '') {
    const worker = (pending: number, perStep: number): Record<string, string> => ({
      ...migration(0.02, 30),
      [`${migrationMetricName('jobs_without_uuid')}{${migJob}}`]: gauge(pending + 30 + 0.02 * attempts),
      [`${WORKER_METRIC_NAMES.jobs}{job="${config.workerJob}",status="success"}`]: counter(perStep),
      ...up(config.workerJob, 1),
    });
    cases.push(
      { name: `UuidMigrationWorkerDown: fires when job ${config.workerJob} is down`, series: { ...migration(0.01), ...up(config.workerJob, 0) }, alertname: 'UuidMigrationWorkerDown', expect: absence('warning', config.workerJob, rules.workerDown(config.workerJob)) },
      { name: 'UuidMigrationWorkerDown: quiet while it is up', series: { ...migration(0.01), ...up(config.workerJob, 1) }, alertname: 'UuidMigrationWorkerDown', expect: [] },
      { name: `UuidMigrationStalled: 40 jobs never attempted and none processed for ${config.stalledAfter}`, series: worker(40, 0), alertname: 'UuidMigrationStalled', expect: [{ severity: 'warning', labels: {}, description: rules.stalled(40) }] },
      { name: 'UuidMigrationStalled: quiet while the worker processes jobs', series: worker(40, 50), alertname: 'UuidMigrationStalled', expect: [] },
      { name: 'UuidMigrationStalled: quiet when only skipped and failed jobs remain', series: worker(0, 0), alertname: 'UuidMigrationStalled', expect: [] },
    );
  }

  const summaries = new Map<string, string>(signals(config).map((s) => [s.alert, s.summary]));
  for (const [alert, summary] of Object.entries(rules.summaries)) summaries.set(alert, summary);
  const tests: object[] = cases.map((c) => ({
    name: c.name,
    interval: `${INTERVAL_S}s`,
    input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
    alert_rule_test: [
      {
        eval_time: `${Math.ceil(evalSeconds / 60)}m`,
        alertname: c.alertname,
        exp_alerts: c.expect.map((a) => ({
          exp_labels: { severity: a.severity, ...a.labels },
          exp_annotations: { summary: summaries.get(c.alertname), description: a.description, runbook_url: runbookUrl(config, c.alertname) },
        })),
      },
    ],
  }));
  tests.push(...sloRuleTests(config));
  return (
    '# Generated by `uuid-lookup mixin render` (npm run generate:monitoring for this repository). Do not edit.\n' +
    '# Run: promtool test rules <this file>\n' +
    stringify({ rule_files: [rulesFile], evaluation_interval: config.evaluationInterval, tests }, { lineWidth: 0 })
  );
}

/**
 * The SLOs' burn-rate alerts: an error ratio held steady, just under and just over
 * each alert's factor times the budget. A steady ratio is the same in every window
 * (each holds the 20 minutes of samples there are), so exactly the alerts whose
 * limit it passes fire, once their `for` has passed. Quiet without traffic and on
 * too little to judge.
 */
function sloRuleTests(config: MixinConfig): object[] {
  const stepSeconds = 60;
  const evalMinutes = 20;
  const steps = evalMinutes + 10;
  const job = config.lookupJob;
  const sel = `job="${job}"`;
  const counter = (perStep: number) => `0+${Number(perStep.toPrecision(10))}x${steps}`;
  const tests: object[] = [];
  for (const slo of slos(config)) {
    const budget = 1 - slo.objective;
    const alerts = BURN_RATE_ALERTS.map((a) => ({ a, factor: burnFactor(config, a) }));
    const series = (ratio: number, perStep = 1000): Record<string, string> =>
      slo.key === 'latency'
        ? {
            [`${PROMETHEUS_NAMES.lookupDuration}_count{${sel}}`]: counter(perStep),
            [`${PROMETHEUS_NAMES.lookupDuration}_bucket{${sel},le="${latencyBucketLabel(config)}"}`]: counter(perStep * (1 - ratio)),
            [`${PROMETHEUS_NAMES.lookups}{${sel},outcome="success",fallback="false",micro_slug="wall-painting"}`]: counter(perStep),
          }
        : {
            [`${PROMETHEUS_NAMES.lookups}{${sel},outcome="success",fallback="false",micro_slug="wall-painting"}`]: counter(perStep * (1 - ratio)),
            [`${PROMETHEUS_NAMES.lookups}{${sel},outcome="failure",fallback="false",micro_slug="wall-painting"}`]: counter(perStep * ratio),
          };
    const test = (name: string, input: Record<string, string>, expected: typeof alerts, ratio: number) => ({
      name,
      interval: `${stepSeconds}s`,
      input_series: Object.entries(input).map(([s, values]) => ({ series: s, values })),
      alert_rule_test: [
        {
          eval_time: `${evalMinutes}m`,
          alertname: slo.alert,
          exp_alerts: expected.map(({ a, factor }) => ({
            exp_labels: { severity: a.severity, slo: slo.key, burn_window: a.long, job },
            exp_annotations: {
              summary: slo.summary,
              description: sloDescription(config, slo, a, factor, humanizePercentage(ratio), job),
              runbook_url: runbookUrl(config, slo.alert),
            },
          })),
        },
      ],
    });
    for (const factor of [...new Set(alerts.map((x) => x.factor))]) {
      for (const [where, level] of [['under', 0.9], ['over', 1.1]] as const) {
        const ratio = factor * level * budget;
        if (ratio >= 1) continue;
        const firing = alerts.filter((x) => ratio > x.factor * budget);
        tests.push(test(`${slo.alert}: an error ratio of ${g4(ratio)}, just ${where} ${factor}× the budget, fires ${firing.map((x) => x.a.long).join(', ') || 'nothing'}`, series(ratio), firing, ratio));
      }
    }
    tests.push(test(`${slo.alert}: quiet without traffic`, series(0, 0), [], 0));
    const few = (config.minLookups - 1) / (steps + 1);
    if (few > 0) tests.push(test(`${slo.alert}: quiet on too little traffic to judge, whatever the ratio`, series(0.5, few), [], 0.5));
  }
  return tests;
}
