import { PROMETHEUS_NAMES } from '../contract/metrics.ts';
import type { MixinConfig } from './mixin-config.ts';
import { durationSeconds, runbookUrl } from './mixin-config.ts';
import { grouping, selectorOf } from './selectors.ts';

/**
 * Service level objectives beside the spec's thresholds (which stay as they are):
 * a latency SLO (the share of lookups faster than a histogram bucket bound) and an
 * availability SLO (the share of lookups that do not fail), over a period (30 days
 * by default). Recording rules hold each SLO's error ratio over the windows of the
 * SRE workbook's multiwindow, multi-burn-rate alerts ("Alerting on SLOs", table 5-8)
 * and over the period, and the error budget left. The alerts page when the budget
 * burns fast (2 % of it in an hour, 5 % in six hours) and open a ticket when it
 * burns steadily (10 % in a day, 10 % in three days), each on a long and a short
 * window, with the threshold alerts' traffic guard.
 */

export type SloKey = 'latency' | 'availability';

/** The windows the error ratios are recorded over, shortest first. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/**
 * The burn-rate alerts: the share of the period's budget that, spent within the long
 * window, fires the alert, and the short window that must agree (a twelfth of the
 * long one, as the workbook's). For a 30-day period the factors are the workbook's:
 * 14.4, 6, 3 and 1.
 */
export const BURN_RATE_ALERTS = [
  { severity: 'critical', long: '1h', short: '5m', budgetShare: 0.02, for: '2m' },
  { severity: 'critical', long: '6h', short: '30m', budgetShare: 0.05, for: '2m' },
  { severity: 'warning', long: '1d', short: '2h', budgetShare: 0.1, for: '15m' },
  { severity: 'warning', long: '3d', short: '6h', budgetShare: 0.1, for: '15m' },
] as const;

export interface Slo {
  key: SloKey;
  alert: string;
  /** The objective as a ratio (0.99). */
  objective: number;
  /** What a good lookup is, for people. */
  good: string;
  summary: string;
}

export function slos(config: MixinConfig): Slo[] {
  if (!config.slo.enabled) return [];
  return [
    {
      key: 'latency',
      alert: 'UuidLookupLatencyBudgetBurn',
      objective: config.slo.latencyObjective / 100,
      good: `lookups faster than ${config.slo.latencyMs} ms`,
      summary: 'The lookup latency SLO burns its error budget.',
    },
    {
      key: 'availability',
      alert: 'UuidLookupAvailabilityBudgetBurn',
      objective: config.slo.availabilityObjective / 100,
      good: 'lookups that do not fail',
      summary: 'The lookup availability SLO burns its error budget.',
    },
  ];
}

/** `job:uuid_lookup_latency_slo_errors:ratio_rate1h`: the SLO's error ratio per job over a window (level:metric:operations). */
export function sloErrorRatioRecord(slo: SloKey, window: string): string {
  return `job:uuid_lookup_${slo}_slo_errors:ratio_rate${window}`;
}

/** `job:uuid_lookup_latency_slo:error_budget_remaining`: the share of the period's budget left (1 untouched, 0 spent, below 0 overspent). */
export function sloBudgetRecord(slo: SloKey): string {
  return `job:uuid_lookup_${slo}_slo:error_budget_remaining`;
}

/** The burn rate at which spending `budgetShare` of the period's budget takes the long window. */
export function burnFactor(config: MixinConfig, alert: { long: string; budgetShare: number }): number {
  return Number(((alert.budgetShare * durationSeconds(config.slo.period)) / durationSeconds(alert.long)).toPrecision(6));
}

/** The le label of the latency bucket bound, as the SDK's histogram (and Prometheus 3's normalised labels) write it. */
export function latencyBucketLabel(config: MixinConfig): string {
  return String(config.slo.latencyMs / 1000);
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The SLO group: the error ratios per window and over the period, the budget left, then the burn-rate alerts. */
export function sloRules(config: MixinConfig): Rule[] {
  const sel = selectorOf(config, 'lookup');
  const by = grouping(config);
  const { lookups, lookupDuration } = PROMETHEUS_NAMES;
  const errors = (slo: SloKey, w: string): string =>
    slo === 'latency'
      ? `(sum by (${by}) (rate(${lookupDuration}_count{${sel}}[${w}])) - sum by (${by}) (rate(${lookupDuration}_bucket{${sel},le="${latencyBucketLabel(config)}"}[${w}])))` +
        ` / sum by (${by}) (rate(${lookupDuration}_count{${sel}}[${w}]))`
      : `sum by (${by}) (rate(${lookups}{${sel},outcome="failure"}[${w}])) / sum by (${by}) (rate(${lookups}{${sel}}[${w}]))`;
  const rules: Rule[] = [];
  for (const slo of slos(config)) {
    for (const w of [...SLO_WINDOWS, config.slo.period]) rules.push({ record: sloErrorRatioRecord(slo.key, w), expr: errors(slo.key, w) });
    rules.push({ record: sloBudgetRecord(slo.key), expr: `1 - ${sloErrorRatioRecord(slo.key, config.slo.period)} / ${roundRatio(1 - slo.objective)}` });
  }
  for (const slo of slos(config)) {
    const budget = roundRatio(1 - slo.objective);
    for (const a of BURN_RATE_ALERTS) {
      const factor = burnFactor(config, a);
      const limit = roundRatio(factor * budget);
      rules.push({
        alert: slo.alert,
        expr:
          `${sloErrorRatioRecord(slo.key, a.long)} > ${limit} and ${sloErrorRatioRecord(slo.key, a.short)} > ${limit}` +
          ` and on(${by}) sum by (${by}) (increase(${lookups}{${sel}}[${a.long}])) >= ${config.minLookups}`,
        for: a.for,
        labels: { severity: a.severity, slo: slo.key, burn_window: a.long },
        annotations: {
          summary: slo.summary,
          description: sloDescription(config, slo, a, factor, '{{ $value | humanizePercentage }}', '{{ $labels.job }}'),
          runbook_url: runbookUrl(config, slo.alert),
        },
      });
    }
  }
  return rules;
}

/** An SLO alert's description; `shown` (the long window's error ratio) and `job`: templates in the rule, values in a rule test. */
export function sloDescription(config: MixinConfig, slo: Slo, a: (typeof BURN_RATE_ALERTS)[number], factor: number, shown: string, job: string): string {
  const budget = `${formatPercent(1 - slo.objective)} of lookups in ${config.slo.period}`;
  return (
    `Over the last ${a.long} (and ${a.short}), ${shown} of lookups of job ${job} were not ${slo.good}: ` +
    `the error budget (${budget}) burns at ${factor}× or more, ${formatPercent(a.budgetShare)} of it in ${a.long}.`
  );
}

function roundRatio(value: number): number {
  return Number(value.toPrecision(6));
}

function formatPercent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(4))}%`;
}

/** The SLO group's evaluation interval: the configuration's, but no more often than once a minute (its shortest window is 5m). */
export function sloInterval(config: MixinConfig): string {
  return durationSeconds(config.evaluationInterval) >= 60 ? config.evaluationInterval : '1m';
}
