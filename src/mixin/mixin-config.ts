import type { Threshold } from '../core/thresholds.ts';
import { thresholdFor } from '../core/thresholds.ts';

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
  /** Rate window of every rule and panel. */
  window: string;
  /** Fewer lookups than this in the window is "no traffic", never a breach. */
  minLookups: number;
  /** Fewer attempted migrations than this is "nothing to judge". */
  minMigrationAttempts: number;
  /** How long a breach must last before the alert fires, by severity: no flapping on one bad scrape. */
  forDuration: { warning: string; critical: string; absent: string };
  /** Where the runbook lives; each alert links to its section. */
  runbookUrl: string;
  /** Rule evaluation interval of the generated groups. */
  evaluationInterval: string;
}

export const defaultMixinConfig: MixinConfig = {
  lookupJob: 'uuid-lookup',
  migrationJob: 'uuid-migration',
  window: '5m',
  minLookups: 20,
  minMigrationAttempts: 1,
  forDuration: { warning: '10m', critical: '5m', absent: '15m' },
  runbookUrl: 'docs/runbook.md',
  evaluationInterval: '30s',
};

/** One alerting signal: a threshold row and the PromQL of its value and traffic guard. */
export interface Signal {
  threshold: Threshold;
  alert: string;
  /** Recording rule holding the value, in the unit compared below. */
  record: string;
  /** PromQL of the value. */
  expr: string;
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
  const mig = `job="${config.migrationJob}"`;
  const w = config.window;
  return [
    { record: `uuid_lookup:lookups:increase${w}`, expr: `sum(increase(uuid_lookups_total{${sel}}[${w}]))` },
    { record: `uuid_lookup:lookups:rate${w}`, expr: `sum(rate(uuid_lookups_total{${sel}}[${w}]))` },
    {
      record: `uuid_lookup:duration_seconds:avg${w}`,
      expr: `sum(rate(uuid_lookup_duration_seconds_sum{${sel}}[${w}])) / sum(rate(uuid_lookup_duration_seconds_count{${sel}}[${w}]))`,
    },
    {
      record: `uuid_lookup:failure_ratio:rate${w}`,
      expr: `sum(rate(uuid_lookups_total{${sel},outcome="failure"}[${w}])) / sum(rate(uuid_lookups_total{${sel}}[${w}]))`,
    },
    {
      record: `uuid_lookup:fallback_ratio:rate${w}`,
      expr: `sum(rate(uuid_lookups_total{${sel},fallback="true"}[${w}])) / sum(rate(uuid_lookups_total{${sel}}[${w}]))`,
    },
    {
      record: 'uuid_migration:attempted',
      expr: `sum(uuid_migration_successful_migrations{${mig}} + uuid_migration_failed_migrations{${mig}} + uuid_migration_skipped_migrations{${mig}})`,
    },
    {
      record: 'uuid_migration:failure_ratio',
      expr: `sum(uuid_migration_failed_migrations{${mig}}) / sum(uuid_migration_successful_migrations{${mig}} + uuid_migration_failed_migrations{${mig}} + uuid_migration_skipped_migrations{${mig}})`,
    },
  ];
}

/** The four signals of the spec's "Alert Thresholds" table. */
export function signals(config: MixinConfig): Signal[] {
  const w = config.window;
  const rules = new Map(recordingRules(config).map((r) => [r.record, r.expr]));
  const expr = (record: string): string => rules.get(record) ?? '';
  const lookups = `uuid_lookup:lookups:increase${w}`;
  return [
    {
      threshold: thresholdFor('lookup_latency'),
      alert: 'UuidLookupLatencyHigh',
      record: `uuid_lookup:duration_seconds:avg${w}`,
      expr: expr(`uuid_lookup:duration_seconds:avg${w}`),
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
      record: `uuid_lookup:failure_ratio:rate${w}`,
      expr: expr(`uuid_lookup:failure_ratio:rate${w}`),
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
      record: `uuid_lookup:fallback_ratio:rate${w}`,
      expr: expr(`uuid_lookup:fallback_ratio:rate${w}`),
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
      record: 'uuid_migration:failure_ratio',
      expr: expr('uuid_migration:failure_ratio'),
      scale: 1 / 100,
      guardRecord: 'uuid_migration:attempted',
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

/** The runbook section of an alert (GitHub-style anchors: lower case). */
export function runbookUrl(config: MixinConfig, alert: string): string {
  return `${config.runbookUrl}#${alert.toLowerCase()}`;
}
