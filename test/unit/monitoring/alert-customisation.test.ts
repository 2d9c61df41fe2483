import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { grafanaAlertRules } from '../../../src/mixin/grafana-alerts.ts';
import { ALERT_NAMES, defaultMixinConfig, resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../../src/mixin/prometheus-rules.ts';
import { renderRuleTests } from '../../../src/mixin/rule-tests.ts';

type AlertRule = { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const alertRules = (config = defaultMixinConfig): AlertRule[] =>
  (prometheusRules(config) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

type Check = { alertname: string; exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[] };
const checks = (config = defaultMixinConfig): Check[] =>
  (parse(renderRuleTests(config)) as { tests: { alert_rule_test: Check[] }[] }).tests.flatMap((t) => t.alert_rule_test);

describe("per-alert changes in the mixin's configuration (alerts)", () => {
  it('name every alert the default configuration renders, with how many severities it fires at', () => {
    const rendered = new Map<string, Set<string>>();
    for (const r of alertRules()) rendered.set(r.alert ?? '', new Set([...(rendered.get(r.alert ?? '') ?? []), r.labels?.severity ?? '']));
    expect(Object.fromEntries([...rendered].map(([name, severities]) => [name, severities.size === 2 ? 'two' : 'one']))).toEqual(ALERT_NAMES);
  });

  const config = resolveMixinConfig({
    grafana: { managedAlerts: true },
    alerts: {
      UuidMigrationStalled: { enabled: false },
      UuidLookupFailureRateHigh: { enabled: false },
      UuidLookupMetricsTargetDown: { severity: 'warning', labels: { team: 'bookings' }, dashboardUrl: 'https://grafana.example.com/d/uuid-lookup-performance' },
      UuidLookupLatencyHigh: { labels: { team: 'bookings', page: 'yes' } },
    },
  });

  it('turn an alert off, in the rules, their tests and Grafana-managed alerting', () => {
    const names = new Set(alertRules(config).map((r) => r.alert));
    expect(names.has('UuidMigrationStalled')).toBe(false);
    expect(names.has('UuidLookupFailureRateHigh')).toBe(false);
    expect(names.size).toBe(Object.keys(ALERT_NAMES).length - 2);
    expect(checks(config).filter((c) => ['UuidMigrationStalled', 'UuidLookupFailureRateHigh'].includes(c.alertname))).toEqual([]);
    expect(checks(config).length).toBeLessThan(checks().length);
    const grafana = grafanaAlertRules(config) as { groups: { rules: { title: string; labels: Record<string, string> }[] }[] };
    expect(grafana.groups[0]?.rules.map((r) => r.title).filter((t) => t.startsWith('UuidLookupFailureRateHigh'))).toEqual([]);
    expect(grafana.groups[0]?.rules.find((r) => r.title === 'UuidLookupLatencyHigh (critical)')?.labels).toEqual({ severity: 'critical', team: 'bookings', page: 'yes' });
  });

  it("set a single alert's severity, add labels and a dashboard link, and expect them in the tests", () => {
    const down = alertRules(config).find((r) => r.alert === 'UuidLookupMetricsTargetDown');
    expect(down?.labels).toEqual({ severity: 'warning', team: 'bookings' });
    expect(down?.annotations?.dashboard_url).toBe('https://grafana.example.com/d/uuid-lookup-performance');
    expect(alertRules(config).filter((r) => r.alert === 'UuidLookupLatencyHigh').map((r) => r.labels)).toEqual([
      { severity: 'warning', team: 'bookings', page: 'yes' },
      { severity: 'critical', team: 'bookings', page: 'yes' },
    ]);
    const expected = checks(config).filter((c) => c.alertname === 'UuidLookupMetricsTargetDown').flatMap((c) => c.exp_alerts);
    expect(expected.length).toBeGreaterThan(0);
    for (const a of expected) {
      expect(a.exp_labels).toMatchObject({ severity: 'warning', team: 'bookings' });
      expect(a.exp_annotations.dashboard_url).toBe('https://grafana.example.com/d/uuid-lookup-performance');
    }
    // Nothing else changed.
    expect(alertRules(config).find((r) => r.alert === 'UuidMigrationExporterDown')).toEqual(alertRules().find((r) => r.alert === 'UuidMigrationExporterDown'));
  });

  it.each([
    [{ UuidLookupSlow: { enabled: false } }, 'unknown alert alerts.UuidLookupSlow'],
    [{ UuidLookupLatencyHigh: { severity: 'warning' } }, 'fires at both severities'],
    [{ UuidMigrationStalled: { severity: 'page' } }, 'must be warning or critical'],
    [{ UuidMigrationStalled: { labels: { severity: 'critical' } } }, 'use severity'],
    [{ UuidMigrationStalled: { labels: { 'team-name': 'x' } } }, 'not a Prometheus label name'],
    [{ UuidMigrationStalled: { dashboardUrl: '/d/x' } }, 'absolute http(s) URL'],
    [{ UuidMigrationStalled: { silence: true } }, 'unknown key alerts.UuidMigrationStalled.silence'],
  ])('refuses %j, naming the key', (alerts, message) => {
    expect(() => resolveMixinConfig({ alerts })).toThrow(message);
  });
});

describe("docs/monitoring.md's example configuration", () => {
  it('is one the mixin takes, alerts included', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/monitoring.md'), 'utf8');
    const block = /```yaml\n(# mixin\.yml[\s\S]*?)```/.exec(doc)?.[1] ?? '';
    expect(block).toContain('alerts:');
    const config = resolveMixinConfig(parse(block));
    expect(config.lookupJob).toBe('booking-web');
    expect(config.alerts.UuidLookupMetricsTargetDown?.severity).toBe('warning');
    expect(config.selectors.worker).toBe('namespace="bookings", env=~"live|canary"');
    expect(config.showMultiCluster).toBe(true);
  });
});
