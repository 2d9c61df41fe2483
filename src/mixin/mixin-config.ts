import { PROMETHEUS_NAMES, recordingRuleNames } from '../contract/metrics.ts';
import { migrationMetricName } from '../contract/migration.ts';
import type { Threshold } from '../contract/thresholds.ts';
import { MIN_LOOKUPS, thresholdFor } from '../contract/thresholds.ts';

/**
 * The one configuration the monitoring files are generated from (the
 * "monitoring mixin" pattern): selectors, windows, guards and durations. The
 * thresholds themselves come from src/core/thresholds.ts, the spec's table.
 */
export interface MixinConfig {
  /** Prometheus job that exposes the SDK's metrics (the collector, or an app's pull endpoint). */
  lookupJob: string;
  /** Prometheus job of the Postgres exporter with the uuid_migration_* metrics. */
  migrationJob: string;
  /** Prometheus job of the scheduled migration worker (`uuid-lookup worker`); '' when none runs (no worker alerts or row). */
  workerJob: string;
  /** The worker is stalled when never-attempted jobs remain and it processed none for this long. */
  stalledAfter: string;
  /** Rate window of every rule and panel. */
  window: string;
  /** Fewer lookups than this in the window is "no traffic", never a breach. */
  minLookups: number;
  /** Fewer attempted migrations than this is "nothing to judge". */
  minMigrationAttempts: number;
  /** How long a breach must last before the alert fires, by severity: no flapping on one bad scrape. */
  forDuration: { warning: string; critical: string; absent: string };
  /** The runbook's absolute URL (http or https); each alert links to its section. */
  runbookUrl: string;
  /** Rule evaluation interval of the generated groups. */
  evaluationInterval: string;
}

/**
 * The runbook in the project's repository (package.json `repository`), on the
 * default branch: a test holds the two together.
 */
export const DEFAULT_RUNBOOK_URL = 'https://github.com/uuid-lookup/uuid-lookup-observability/blob/main/docs/runbook.md';

export const defaultMixinConfig: MixinConfig = {
  lookupJob: 'uuid-lookup',
  migrationJob: 'uuid-migration',
  workerJob: 'uuid-migration-worker',
  stalledAfter: '30m',
  window: '5m',
  minLookups: MIN_LOOKUPS,
  minMigrationAttempts: 1,
  forDuration: { warning: '10m', critical: '5m', absent: '15m' },
  runbookUrl: DEFAULT_RUNBOOK_URL,
  evaluationInterval: '30s',
};

/** One alerting signal: a threshold row and the PromQL of its value and traffic guard. */
export interface Signal {
  threshold: Threshold;
  alert: string;
  /** Recording rule holding the value, in the unit compared below. */
  record: string;
  /** The threshold table's number converted to the value's unit (ms -> s, % -> ratio). */
  scale: number;
  /** Recording rule that must reach the minimum for the alert to be judged. */
  guardRecord: string;
  guardMin: number;
  summary: string;
  description: (severity: 'warning' | 'critical', limit: string) => string;
}

/** Recording rules (name -> PromQL), in dependency order. */
export function recordingRules(config: MixinConfig): { record: string; expr: string }[] {
  const sel = `job="${config.lookupJob}"`;
  const w = config.window;
  const names = recordingRuleNames(w);
  const { lookups, lookupDuration } = PROMETHEUS_NAMES;
  const [success, failed, skipped] = (['successful_migrations', 'failed_migrations', 'skipped_migrations'] as const).map(
    (field) => `${migrationMetricName(field)}{job="${config.migrationJob}"}`,
  );
  return [
    { record: names.lookupsIncrease, expr: `sum(increase(${lookups}{${sel}}[${w}]))` },
    { record: names.lookupsRate, expr: `sum(rate(${lookups}{${sel}}[${w}]))` },
    {
      record: names.durationAvg,
      expr: `sum(rate(${lookupDuration}_sum{${sel}}[${w}])) / sum(rate(${lookupDuration}_count{${sel}}[${w}]))`,
    },
    {
      record: names.failureRatio,
      expr: `sum(rate(${lookups}{${sel},outcome="failure"}[${w}])) / sum(rate(${lookups}{${sel}}[${w}]))`,
    },
    {
      record: names.fallbackRatio,
      expr: `sum(rate(${lookups}{${sel},fallback="true"}[${w}])) / sum(rate(${lookups}{${sel}}[${w}]))`,
    },
    { record: names.migrationAttempted, expr: `sum(${success} + ${failed} + ${skipped})` },
    { record: names.migrationFailureRatio, expr: `sum(${failed}) / sum(${success} + ${failed} + ${skipped})` },
  ];
}

/** The four signals of the spec's "Alert Thresholds" table. */
export function signals(config: MixinConfig): Signal[] {
  const w = config.window;
  const names = recordingRuleNames(w);
  const lookups = names.lookupsIncrease;
  return [
    {
      threshold: thresholdFor('lookup_latency'),
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
      threshold: thresholdFor('lookup_failure_rate'),
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
      threshold: thresholdFor('lookup_fallback_rate'),
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
      threshold: thresholdFor('migration_failure_rate'),
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
export function formatLimit(threshold: Threshold, severity: 'warning' | 'critical'): string {
  const value = threshold[severity];
  return threshold.unit === 'ms' ? `${value} ms` : `${value}%`;
}

/** The runbook section of an alert (GitHub-style anchors: lower case). A relative base is refused: the link would go nowhere in a page or a ticket. */
export function runbookUrl(config: MixinConfig, alert: string): string {
  let base: URL;
  try {
    base = new URL(config.runbookUrl);
  } catch {
    throw new Error(`uuid-lookup mixin: runbookUrl must be an absolute http(s) URL, got ${JSON.stringify(config.runbookUrl)}`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new Error(`uuid-lookup mixin: runbookUrl must be an absolute http(s) URL, got ${JSON.stringify(config.runbookUrl)}`);
  }
  base.hash = alert.toLowerCase();
  return base.toString();
}
