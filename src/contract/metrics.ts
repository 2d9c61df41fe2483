/**
 * The metrics contract (docs/architecture.md, "Contracts"): OpenTelemetry
 * instrument names and units, the Prometheus names they become, the histogram
 * buckets, and the names of the recording rules built on them.
 */

/** Lookup latency, in seconds (OTel semantic conventions); Prometheus: `uuid_lookup_duration_seconds`. */
export const LOOKUP_DURATION = { name: 'uuid.lookup.duration', unit: 's' } as const;
/** Lookups by outcome; Prometheus: `uuid_lookups_total`. */
export const LOOKUPS = { name: 'uuid.lookups', unit: '{lookup}' } as const;
/** Analytics events dropped, by reason; Prometheus: `uuid_lookup_events_dropped_total`. */
export const EVENTS_DROPPED = { name: 'uuid.lookup.events.dropped', unit: '{event}' } as const;

/**
 * Histogram bucket boundaries in seconds. 0.05 and 0.1 are the spec's warning and
 * critical lookup times (50 ms, 100 ms): exact boundaries make "share of lookups
 * over the threshold" an exact bucket ratio, not an interpolation.
 */
export const LOOKUP_DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * The same boundaries in milliseconds: the SDK's API, the analytics rows and the
 * hourly rollup's `duration_buckets` (a test holds the rollup SQL to this list).
 */
export const LOOKUP_DURATION_BUCKETS_MS: readonly number[] = Object.freeze(
  LOOKUP_DURATION_BUCKETS_SECONDS.map((seconds) => Math.round(seconds * 1_000_000) / 1000),
);

/** The `micro_slug` label of a slug that is not a known service: keeps cardinality bounded. */
export const UNKNOWN_SLUG_LABEL = '__unknown__';

/** Reasons the dropped-events counter is labelled with. */
export type DropReason =
  | 'invalid_slug'
  | 'invalid_duration'
  /** No longer produced: a success whose UUID is not one is counted and kept (`micro_uuid_raw`). Kept for compatibility. */
  | 'invalid_uuid'
  | 'queue_full'
  | 'rejected'
  | 'shutdown';

// From the collector's Prometheus translation (prometheus/otlptranslator,
// unit_namer.go): units map to words; annotations in braces add nothing.
const UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  By: 'bytes',
  '1': '',
  '%': 'percent',
};

/** What kind of Prometheus series an instrument becomes. */
export type PrometheusKind = 'counter' | 'histogram' | 'gauge';

/**
 * The name the OpenTelemetry Collector's `prometheus` exporter gives a metric
 * (with `add_metric_suffixes`, its default): dots become underscores, the unit
 * word is appended, and counters end in `_total`.
 *
 * @example
 * ```ts
 * prometheusName('uuid.lookup.duration', 's', 'histogram'); // 'uuid_lookup_duration_seconds'
 * prometheusName('uuid.lookups', '{lookup}', 'counter');     // 'uuid_lookups_total'
 * ```
 */
export function prometheusName(name: string, unit: string, kind: PrometheusKind): string {
  let result = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/_+/g, '_');
  const word = unit.includes('{') ? '' : (UNIT_WORDS[unit] ?? unit.replace(/[^a-zA-Z0-9]/g, '_'));
  if (word !== '' && !result.endsWith(`_${word}`)) result = `${result}_${word}`;
  if (kind === 'counter' && !result.endsWith('_total')) result = `${result}_total`;
  return result;
}

/** The Prometheus names of the SDK's instruments, as both paths (collector, pull exporter) expose them. */
export const PROMETHEUS_NAMES = Object.freeze({
  lookupDuration: prometheusName(LOOKUP_DURATION.name, LOOKUP_DURATION.unit, 'histogram'),
  lookups: prometheusName(LOOKUPS.name, LOOKUPS.unit, 'counter'),
  eventsDropped: prometheusName(EVENTS_DROPPED.name, EVENTS_DROPPED.unit, 'counter'),
});

/**
 * The collector's own counter of the points its `delta_to_cumulative` processor took,
 * with an `error` label on those it refused (stream limit, out of order): the browsers'
 * lookups that did not reach Prometheus (docs/architecture.md, "The browsers' metrics path").
 */
export const COLLECTOR_DELTA_POINTS = 'otelcol_deltatocumulative_datapoints_total';

/**
 * The recording rules' names for a rate window (`5m`): what rules, alerts and
 * dashboards share. Two levels, named `level:metric:operation` as Prometheus's
 * naming practice has it:
 * - per scrape target (`job_instance:`, labels `job` and `instance` kept): the
 *   dashboards sum them over the `$job` and `$instance` a viewer picks, so a
 *   ratio is always a ratio of sums, never an average of ratios;
 * - per job (label `job` kept): the values the alerts judge.
 */
export function recordingRuleNames(window: string) {
  return {
    // Per scrape target.
    instanceLookupsRate: `job_instance:uuid_lookups:rate${window}`,
    instanceFailuresRate: `job_instance:uuid_lookup_failures:rate${window}`,
    instanceFallbacksRate: `job_instance:uuid_lookup_fallbacks:rate${window}`,
    instanceDurationSumRate: `job_instance:uuid_lookup_duration_seconds_sum:rate${window}`,
    instanceDurationCountRate: `job_instance:uuid_lookup_duration_seconds_count:rate${window}`,
    // Per job: the alerts' values and traffic guard (level:metric:operations, as
    // Prometheus's naming practice for recording rules has it).
    lookupsIncrease: `job:uuid_lookups:increase${window}`,
    durationAvg: `job:uuid_lookup_duration_seconds:mean${window}`,
    failureRatio: `job:uuid_lookup_failures:ratio_rate${window}`,
    fallbackRatio: `job:uuid_lookup_fallbacks:ratio_rate${window}`,
    migrationAttempted: 'job:uuid_migration_attempted_jobs:sum',
    migrationFailureRatio: 'job:uuid_migration_failed_jobs:ratio',
  } as const;
}
