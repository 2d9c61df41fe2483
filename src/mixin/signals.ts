import { PROMETHEUS_NAMES, recordingRuleNames } from '../contract/metrics.ts';
import { migrationMetricName } from '../contract/migration.ts';
import type { Severity, Threshold } from '../contract/thresholds.ts';
import { thresholdFor } from '../contract/thresholds.ts';
import type { MixinConfig, ThresholdKey } from './mixin-config.ts';
import { grouping, selectorOf } from './selectors.ts';

/**
 * What the alerts judge: the recording rules (per scrape target, then per job
 * and cluster) and the four signals of the spec's "Alert Thresholds" table at
 * the configuration's limits, which the Prometheus rules, their tests, the
 * Grafana-managed rules and the dashboards' thresholds all read.
 */

/** A row of the spec's table with the configuration's limits. */
export function thresholdOf(config: MixinConfig, key: ThresholdKey): Threshold {
  return { ...thresholdFor(key), ...config.thresholds[key] };
}

/** One alerting signal: a threshold row and the PromQL of its value and traffic guard. */
export interface Signal {
  threshold: Threshold;
  alert: string;
  /** Recording rule holding the value per job, in the unit compared below. */
  record: string;
  /** The threshold table's number converted to the value's unit (ms -> s, % -> ratio). */
  scale: number;
  /** Recording rule (per job) that must reach the minimum for the alert to be judged. */
  guardRecord: string;
  guardMin: number;
  summary: string;
  description: (severity: Severity, limit: string) => string;
}

/** Recording rules (name -> PromQL), in dependency order: per scrape target, then per job. */
export function recordingRules(config: MixinConfig): { record: string; expr: string }[] {
  const sel = selectorOf(config, 'lookup');
  const w = config.window;
  const names = recordingRuleNames(w);
  const { lookups, lookupDuration } = PROMETHEUS_NAMES;
  const byJob = grouping(config);
  const perTarget = (expr: string) => `sum by (${grouping(config, 'job', 'instance')}) (rate(${expr}[${w}]))`;
  const perJob = (record: string) => `sum by (${byJob}) (${record})`;
  const [success, failed, skipped] = (['successful_migrations', 'failed_migrations', 'skipped_migrations'] as const).map(
    (field) => `${migrationMetricName(field)}{${selectorOf(config, 'migration')}}`,
  );
  return [
    { record: names.instanceLookupsRate, expr: perTarget(`${lookups}{${sel}}`) },
    { record: names.instanceFailuresRate, expr: perTarget(`${lookups}{${sel},outcome="failure"}`) },
    { record: names.instanceFallbacksRate, expr: perTarget(`${lookups}{${sel},fallback="true"}`) },
    { record: names.instanceDurationSumRate, expr: perTarget(`${lookupDuration}_sum{${sel}}`) },
    { record: names.instanceDurationCountRate, expr: perTarget(`${lookupDuration}_count{${sel}}`) },
    { record: names.lookupsIncrease, expr: `sum by (${byJob}) (increase(${lookups}{${sel}}[${w}]))` },
    { record: names.durationAvg, expr: `${perJob(names.instanceDurationSumRate)} / ${perJob(names.instanceDurationCountRate)}` },
    { record: names.failureRatio, expr: `${perJob(names.instanceFailuresRate)} / ${perJob(names.instanceLookupsRate)}` },
    { record: names.fallbackRatio, expr: `${perJob(names.instanceFallbacksRate)} / ${perJob(names.instanceLookupsRate)}` },
    { record: names.migrationAttempted, expr: `sum by (${byJob}) (${success} + ${failed} + ${skipped})` },
    { record: names.migrationFailureRatio, expr: `sum by (${byJob}) (${failed}) / sum by (${byJob}) (${success} + ${failed} + ${skipped})` },
  ];
}

/** The four signals of the spec's "Alert Thresholds" table, at the configuration's limits. */
export function signals(config: MixinConfig): Signal[] {
  const w = config.window;
  const names = recordingRuleNames(w);
  const lookups = names.lookupsIncrease;
  return [
    {
      threshold: thresholdOf(config, 'lookup_latency'),
      alert: 'UuidLookupLatencyHigh',
      record: names.durationAvg,
      scale: 1 / 1000,
      guardRecord: lookups,
      guardMin: config.minLookups,
      summary: 'Slug-to-UUID lookups are slow.',
      description: (severity, limit) =>
        `The average lookup time over ${w} is {{ $value | humanizeDuration }}, above the ${severity} limit of ${limit}.`,
    },
    {
      threshold: thresholdOf(config, 'lookup_failure_rate'),
      alert: 'UuidLookupFailureRateHigh',
      record: names.failureRatio,
      scale: 1 / 100,
      guardRecord: lookups,
      guardMin: config.minLookups,
      summary: 'Many slug lookups fail.',
      description: (severity, limit) =>
        `{{ $value | humanizePercentage }} of lookups failed over ${w}, above the ${severity} limit of ${limit}.`,
    },
    {
      threshold: thresholdOf(config, 'lookup_fallback_rate'),
      alert: 'UuidLookupFallbackRateHigh',
      record: names.fallbackRatio,
      scale: 1 / 100,
      guardRecord: lookups,
      guardMin: config.minLookups,
      summary: 'Many slug lookups fall back.',
      description: (severity, limit) =>
        `{{ $value | humanizePercentage }} of lookups used a fallback over ${w}, above the ${severity} limit of ${limit}.`,
    },
    {
      threshold: thresholdOf(config, 'migration_failure_rate'),
      alert: 'UuidMigrationFailureRateHigh',
      record: names.migrationFailureRatio,
      scale: 1 / 100,
      guardRecord: names.migrationAttempted,
      guardMin: config.minMigrationAttempts,
      summary: 'Many jobs failed to migrate.',
      description: (severity, limit) =>
        `{{ $value | humanizePercentage }} of attempted jobs failed to migrate, above the ${severity} limit of ${limit}.`,
    },
  ];
}

/** `50 ms` or `5%`: a threshold as people read it. */
export function formatLimit(threshold: Threshold, severity: Severity): string {
  const value = threshold[severity];
  return threshold.unit === 'ms' ? `${value} ms` : `${value}%`;
}
