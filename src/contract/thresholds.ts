/**
 * Fewer lookups than this in a window is no traffic, never a breach: the alert
 * rules, the dashboards and `uuid-lookup check` judge alike.
 */
export const MIN_LOOKUPS = 20;

/** Severity of a threshold breach, as the alert rules label it. */
export type Severity = 'warning' | 'critical';

/** The state of one measurement against its thresholds. `no-data`: no traffic, which is not a breach. */
export type ThresholdState = 'ok' | Severity | 'no-data';

/** One row of the spec's "Alert Thresholds" table. */
export interface Threshold {
  /** Stable key, used in generated rule and panel names. */
  readonly key: 'lookup_latency' | 'lookup_failure_rate' | 'lookup_fallback_rate' | 'migration_failure_rate';
  readonly title: string;
  readonly unit: 'ms' | 'percent';
  /** Breached when the value is strictly greater. */
  readonly warning: number;
  /** Breached when the value is strictly greater. */
  readonly critical: number;
}

/**
 * The single source of the spec's alert thresholds (spec: "Alert Thresholds";
 * docs/architecture.md: "Contracts"). Alert rules, dashboards and the CLI's checks derive
 * from this table.
 *
 * @example
 * ```ts
 * const latency = thresholdFor('lookup_latency');
 * ```
 */
export const thresholds: readonly Threshold[] = Object.freeze([
  { key: 'lookup_latency', title: 'Lookup time (avg)', unit: 'ms', warning: 50, critical: 100 },
  { key: 'lookup_failure_rate', title: 'Failure rate', unit: 'percent', warning: 5, critical: 10 },
  { key: 'lookup_fallback_rate', title: 'Fallback rate', unit: 'percent', warning: 20, critical: 40 },
  { key: 'migration_failure_rate', title: 'Migration failures', unit: 'percent', warning: 5, critical: 10 },
] as const);

/**
 * The row of the table for `key`.
 *
 * @example
 * ```ts
 * thresholdFor('lookup_latency').critical; // 100
 * ```
 */
export function thresholdFor(key: Threshold['key']): Threshold {
  const found = thresholds.find((t) => t.key === key);
  if (found === undefined) throw new Error(`uuid-lookup: no threshold ${key}`);
  return found;
}

/**
 * Classifies a value against a threshold: strictly greater than critical is
 * `critical`, strictly greater than warning is `warning`; `null` or NaN (no
 * traffic, nothing attempted) is `no-data`, never a breach.
 *
 * @example
 * ```ts
 * thresholdState(thresholds[0], 50);  // 'ok' (not strictly greater than 50)
 * thresholdState(thresholds[0], 101); // 'critical'
 * ```
 */
export function thresholdState(threshold: Threshold, value: number | null): ThresholdState {
  if (value === null || Number.isNaN(value)) return 'no-data';
  if (value > threshold.critical) return 'critical';
  if (value > threshold.warning) return 'warning';
  return 'ok';
}
