import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../../src/mixin/prometheus-rules.ts';
import type { LintedRule } from '../../support/mixtool-lint.ts';
import { lintAlerts } from '../../support/mixtool-lint.ts';

// `mixtool lint`'s alert guidelines on the rules we ship and on those the mixin
// renders for another configuration; and each guideline fails on a rule that breaks it.

type Groups = { name: string; rules: LintedRule[] }[];

const shipped = (): Groups =>
  (parse(readFileSync(new URL('../../../prometheus/rules/uuid-lookup.rules.yml', import.meta.url), 'utf8')) as { groups: Groups }).groups;

const rendered = (): Groups =>
  (prometheusRules(
    resolveMixinConfig({ lookupJob: 'booking-web', migrationJob: 'pg-exporter', workerJob: 'backfill', collectorJob: 'otel', window: '10m' }),
  ) as { groups: Groups }).groups;

describe("mixtool lint's alert guidelines", () => {
  it('find nothing in the shipped rules, nor in the rules rendered for another configuration', () => {
    for (const groups of [shipped(), rendered()]) {
      expect(groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined).length).toBeGreaterThan(10);
      expect(lintAlerts(groups)).toEqual([]);
    }
  });

  it('every absence alert names its job through a template, as the threshold alerts do', () => {
    const alerts = shipped().flatMap((g) => g.rules).filter((r) => r.alert?.endsWith('Down') === true || r.alert === 'UuidMigrationStatsAbsent' || r.alert === 'UuidLookupRollupsFoldHeld');
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'UuidLookupMetricsTargetDown',
      'UuidLookupRollupsFoldHeld',
      'UuidMigrationExporterDown',
      'UuidMigrationStatsAbsent',
      'UuidMigrationWorkerDown',
    ]);
    for (const alert of alerts) expect(alert.annotations?.description, alert.alert).toContain('job {{ $labels.job }}');
  });

  describe('each guideline fails on a rule that breaks it', () => {
    const one = (change: (r: LintedRule) => void): string[] => {
      const groups = shipped();
      const rule = groups[1]?.rules.find((r) => r.alert === 'UuidMigrationExporterDown');
      if (rule === undefined) throw new Error('no UuidMigrationExporterDown in the shipped rules');
      change(rule);
      return lintAlerts(groups).map((f) => f.rule);
    };
    const breaks: [string, (r: LintedRule) => void][] = [
      ['alert-name-camelcase', (r) => void (r.alert = 'uuid_migration_exporter_down')],
      ['alert-severity-rule', (r) => void (r.labels = { severity: 'page' })],
      ['alert-description-missing-rule', (r) => void delete r.annotations?.description],
      ['alert-description-templating', (r) => void ((r.annotations ?? {}).description = 'Prometheus has no working target for job uuid-migration.')],
      ['alert-summary-missing-rule', (r) => void delete r.annotations?.summary],
      ['alert-summary-style', (r) => void ((r.annotations ?? {}).summary = 'the Postgres exporter cannot be scraped')],
    ];
    it.each(breaks)('%s', (rule, change) => {
      expect(one(change)).toEqual([rule]);
    });
    it('alert-summary-templating', () => {
      expect(one((r) => void ((r.annotations ?? {}).summary = 'Job {{ $labels.job }} cannot be scraped.'))).toEqual(['alert-summary-templating']);
    });
  });
});
