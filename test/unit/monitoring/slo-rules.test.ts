import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MixinConfigError, resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../../src/mixin/prometheus-rules.ts';
import { BURN_RATE_ALERTS, burnFactor } from '../../../src/mixin/slo-rules.ts';

// The SLO layer as shipped, written out literally: the workbook's factors for a
// 30-day period, the windows, the expressions of the 99 % objectives, the
// budget. A wrong factor, bucket or window fails here, not only in promtool.

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

const shipped = (): { name: string; interval: string; rules: Rule[] }[] =>
  (parse(readFileSync(new URL('../../../prometheus/rules/uuid-lookup.rules.yml', import.meta.url), 'utf8')) as { groups: { name: string; interval: string; rules: Rule[] }[] }).groups;

describe('the SLO layer', () => {
  it("uses the SRE workbook's burn-rate factors for a 30-day period: 14.4 and 6 page, 3 and 1 open a ticket", () => {
    const config = resolveMixinConfig();
    expect(BURN_RATE_ALERTS.map((a) => [a.severity, a.long, a.short, burnFactor(config, a)])).toEqual([
      ['critical', '1h', '5m', 14.4],
      ['critical', '6h', '30m', 6],
      ['warning', '1d', '2h', 3],
      ['warning', '3d', '6h', 1],
    ]);
    // Another period keeps the budget shares, so the factors scale with it.
    expect(burnFactor(resolveMixinConfig({ slo: { period: '7d' } }), BURN_RATE_ALERTS[0])).toBe(3.36);
  });

  it('ships a group of its own, evaluated each minute: the error ratios per window and over 30d, the budget left, the alerts', () => {
    const group = shipped().find((g) => g.name === 'uuid-lookup.slo');
    expect(group?.interval).toBe('1m');
    const records = new Map(group?.rules.filter((r) => r.record !== undefined).map((r) => [r.record, r.expr]));
    expect([...records.keys()]).toEqual([
      ...['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map((w) => `job:uuid_lookup_latency_slo_errors:ratio_rate${w}`),
      'job:uuid_lookup_latency_slo:error_budget_remaining',
      ...['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map((w) => `job:uuid_lookup_availability_slo_errors:ratio_rate${w}`),
      'job:uuid_lookup_availability_slo:error_budget_remaining',
    ]);
    expect(records.get('job:uuid_lookup_latency_slo_errors:ratio_rate1h')).toBe(
      '(sum by (cluster, job) (rate(uuid_lookup_duration_seconds_count{job="uuid-lookup"}[1h])) - sum by (cluster, job) (rate(uuid_lookup_duration_seconds_bucket{job="uuid-lookup",le="0.1"}[1h])))' +
        ' / sum by (cluster, job) (rate(uuid_lookup_duration_seconds_count{job="uuid-lookup"}[1h]))',
    );
    expect(records.get('job:uuid_lookup_availability_slo_errors:ratio_rate6h')).toBe(
      'sum by (cluster, job) (rate(uuid_lookups_total{job="uuid-lookup",outcome="failure"}[6h])) / sum by (cluster, job) (rate(uuid_lookups_total{job="uuid-lookup"}[6h]))',
    );
    expect(records.get('job:uuid_lookup_latency_slo:error_budget_remaining')).toBe('1 - job:uuid_lookup_latency_slo_errors:ratio_rate30d / 0.01');
    const alerts = group?.rules.filter((r) => r.alert !== undefined) ?? [];
    expect(alerts.map((a) => [a.alert, a.labels?.severity, a.labels?.burn_window, a.for])).toEqual([
      ['UuidLookupLatencyBudgetBurn', 'critical', '1h', '2m'],
      ['UuidLookupLatencyBudgetBurn', 'critical', '6h', '2m'],
      ['UuidLookupLatencyBudgetBurn', 'warning', '1d', '15m'],
      ['UuidLookupLatencyBudgetBurn', 'warning', '3d', '15m'],
      ['UuidLookupAvailabilityBudgetBurn', 'critical', '1h', '2m'],
      ['UuidLookupAvailabilityBudgetBurn', 'critical', '6h', '2m'],
      ['UuidLookupAvailabilityBudgetBurn', 'warning', '1d', '15m'],
      ['UuidLookupAvailabilityBudgetBurn', 'warning', '3d', '15m'],
    ]);
    expect(alerts[0]?.expr).toBe(
      'job:uuid_lookup_latency_slo_errors:ratio_rate1h > 0.144 and job:uuid_lookup_latency_slo_errors:ratio_rate5m > 0.144' +
        ' and on(cluster, job) sum by (cluster, job) (increase(uuid_lookups_total{job="uuid-lookup"}[1h])) >= 20',
    );
    expect(alerts[7]?.expr).toBe(
      'job:uuid_lookup_availability_slo_errors:ratio_rate3d > 0.01 and job:uuid_lookup_availability_slo_errors:ratio_rate6h > 0.01' +
        ' and on(cluster, job) sum by (cluster, job) (increase(uuid_lookups_total{job="uuid-lookup"}[3d])) >= 20',
    );
  });

  it('can be turned off, and leaves the threshold alerts as they are', () => {
    const on = prometheusRules(resolveMixinConfig()).groups as { name: string; rules: Rule[] }[];
    const off = prometheusRules(resolveMixinConfig({ slo: { enabled: false } })).groups as { name: string; rules: Rule[] }[];
    expect(off.map((g) => g.name)).toEqual(['uuid-lookup.records', 'uuid-lookup.alerts']);
    expect(off).toEqual(on.slice(0, 2));
  });

  it('refuses objectives out of range, a latency bound that is no bucket, a period shorter than its windows', () => {
    for (const [slo, message] of [
      [{ latencyObjective: 100 }, 'slo.latencyObjective must be a percentage above 0 and below 100, got 100'],
      [{ availabilityObjective: 0 }, 'slo.availabilityObjective must be a percentage above 0 and below 100, got 0'],
      [{ latencyMs: 120 }, "slo.latencyMs must be a bucket bound of the SDK's histogram (5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000 ms), got 120"],
      [{ period: '2d' }, 'slo.period must be at least 3d (the longest burn-rate window), got "2d"'],
      [{ period: 'a month' }, 'slo.period must be a Prometheus duration such as 5m or 1h30m, got "a month"'],
    ] as const) {
      expect(() => resolveMixinConfig({ slo }), message).toThrow(new MixinConfigError(message));
    }
  });
});
