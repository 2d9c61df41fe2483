import { describe, expect, it } from 'vitest';
import { analyticsDashboard, lookupDashboard, migrationDashboard, sloPanelTitles } from '../../../src/mixin/grafana-dashboards.ts';
import { defaultMixinConfig, resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { dashboardForms, specQueries } from '../../../src/contract/spec-queries.ts';
import type { LintedDashboard, LintExclusion } from '../../support/dashboard-lint.ts';
import { lintDashboard } from '../../support/dashboard-lint.ts';

const otherConfig = resolveMixinConfig({
  lookupJob: 'booking-web',
  migrationJob: 'pg-exporter',
  workerJob: '',
  window: '10m',
  thresholds: { lookup_latency: { warning: 80, critical: 250 } },
  grafana: { prometheusUid: 'prom-main', postgresUid: 'supabase' },
});

// Selected by namespace beside job, and per cluster: a $cluster variable and matcher everywhere.
const multiCluster = resolveMixinConfig({ selectors: { lookup: 'namespace="prod"', migration: 'namespace="prod"', worker: 'env=~"live|canary"' }, showMultiCluster: true });

const render = (config = defaultMixinConfig): LintedDashboard[] =>
  [lookupDashboard(config), migrationDashboard(config), analyticsDashboard(config)].map((d) => JSON.parse(JSON.stringify(d)) as LintedDashboard);

// Accepted on purpose (dashboard-linter's .lint exclusions): the SLO panels read the SLO
// recording rules, which are per job, as an SLO is the job's: no instance to select.
const exclusions = (config = defaultMixinConfig): LintExclusion[] =>
  sloPanelTitles(config).map((panel) => ({ rule: 'target-instance-rule', dashboard: 'uuid-lookup-performance', panel, reason: 'SLO recording rules are per job' }));

const rulesOf = (d: LintedDashboard): string[] => [...new Set(lintDashboard(d, exclusions()).map((f) => f.rule))].sort();

describe("grafana/dashboard-linter's rules on the generated dashboards", () => {
  it('find nothing in any dashboard, with the default configuration and with others (one of them multi-cluster)', () => {
    for (const dashboard of render()) expect(lintDashboard(dashboard, exclusions()), dashboard.uid).toEqual([]);
    for (const dashboard of render(otherConfig)) expect(lintDashboard(dashboard, exclusions(otherConfig)), dashboard.uid).toEqual([]);
    for (const dashboard of render(multiCluster)) expect(lintDashboard(dashboard, exclusions(multiCluster)), dashboard.uid).toEqual([]);
  });

  it('accept only the per-job SLO panels without $instance, and nothing else of theirs', () => {
    const findings = lintDashboard(render()[0] as LintedDashboard);
    expect([...new Set(findings.map((f) => f.rule))]).toEqual(['target-instance-rule']);
    expect([...new Set(findings.map((f) => f.where))].sort()).toEqual(sloPanelTitles(defaultMixinConfig).map((t) => `uuid-lookup-performance / ${t}`).sort());
    expect(sloPanelTitles(resolveMixinConfig({ slo: { enabled: false } }))).toEqual([]);
  });

  describe('each rule fails on a dashboard that breaks it', () => {
    const lookup = (): LintedDashboard => render()[0] as LintedDashboard;
    const panel = (d: LintedDashboard, title: string) => {
      const found = d.panels?.find((p) => p.title === title);
      if (!found) throw new Error(`no panel ${title}`);
      return found;
    };

    it('a panel on a fixed datasource uid', () => {
      const d = lookup();
      panel(d, 'Lookups per second').datasource = { type: 'prometheus', uid: 'prometheus' };
      expect(rulesOf(d)).toEqual(['panel-datasource-rule']);
    });

    it('no datasource variables, no job and instance variables', () => {
      const d = lookup();
      d.templating = { list: [] };
      expect(rulesOf(d)).toEqual(['panel-datasource-rule', 'template-datasource-rule']);
      const e = lookup();
      e.templating = { list: (e.templating?.list ?? []).filter((t) => t.name !== 'instance' && t.name !== 'job') };
      expect(rulesOf(e)).toEqual(['template-instance-rule', 'template-job-rule']);
    });

    it('a rate over a fixed range, a selector without $job or $instance, a counter read raw', () => {
      const d = lookup();
      const target = panel(d, 'Events dropped by the SDK, by reason').targets?.[0];
      if (!target?.expr) throw new Error('no target');
      target.expr = target.expr.replace('[$__rate_interval]', '[5m]');
      expect(rulesOf(d)).toEqual(['target-rate-interval-rule']);
      target.expr = target.expr.replace(',instance=~"$instance"', '');
      expect(rulesOf(d)).toEqual(['target-instance-rule', 'target-rate-interval-rule']);
      target.expr = 'sum(uuid_lookup_events_dropped_total{job=~"$job",instance=~"$instance"})';
      expect(rulesOf(d)).toEqual(['target-counter-agg-rule']);
      target.expr = 'sum(rate(';
      expect(rulesOf(d)).toEqual(['target-promql-rule']);
    });

    it('a panel without description, a table without unit, an editable dashboard, a variable that never refreshes', () => {
      const d = lookup();
      delete panel(d, 'Failure rate').description;
      const table = panel(d, 'Slow lookups (> 100 ms)');
      table.fieldConfig = { defaults: {}, overrides: [] };
      d.editable = true;
      const job = d.templating?.list?.find((t) => t.name === 'job');
      if (job) job.refresh = 1;
      expect(rulesOf(d)).toEqual(['panel-title-description-rule', 'panel-units-rule', 'template-on-time-change-reload-rule', 'uneditable-dashboard']);
    });
  });
});

describe('SQL panels', () => {
  const sqlTargets = render().flatMap((d) =>
    (d.panels ?? []).flatMap((p) => (p.targets ?? []).filter((t) => t.rawSql !== undefined).map((t) => ({ where: `${d.uid} / ${p.title}`, sql: t.rawSql ?? '' }))),
  );

  it('follow the time picker wherever they read events or their rollups (bounded in time)', () => {
    const timed = sqlTargets.filter((t) => /\banalytics_/.test(t.sql));
    expect(timed.length).toBeGreaterThanOrEqual(8);
    for (const t of timed) expect(t.sql, t.where).toMatch(/\$__timeFilter\(|\$__timeFrom\(\)/);
    // Migration state is not bounded in time: no macro, no fixed window.
    for (const t of sqlTargets.filter((x) => !/\banalytics_/.test(x.sql))) expect(t.sql, t.where).not.toMatch(/INTERVAL '\d+ days'|\$__time/);
  });

  it("run the spec's log queries on the migration dashboard, verbatim or in the form test/db/migration-log.suite.ts holds to them, with the spec's text in the description", () => {
    const migration = sqlTargets.filter((t) => t.where.startsWith('uuid-migration-progress')).map((t) => t.sql);
    for (const name of ['migrationStats', 'failuresByError', 'failedJobs', 'reviewFailures'] as const) expect(migration, name).toContain(specQueries[name].sql);
    for (const name of ['migrationProgress', 'missingServices'] as const) {
      expect(migration, name).toContain(dashboardForms[name]);
      const panel = (render()[1]?.panels ?? []).find((p) => p.title === specQueries[name].title);
      expect(panel?.description, name).toContain(specQueries[name].sql);
    }
  });
});
