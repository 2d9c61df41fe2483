import type { SyntaxNode } from '@lezer/common';
import { describe, expect, it } from 'vitest';
import { analyticsDashboard, lookupDashboard, migrationDashboard } from '../../../src/mixin/grafana-dashboards.ts';
import { grafanaAlertRules } from '../../../src/mixin/grafana-alerts.ts';
import { defaultMixinConfig, MixinConfigError, resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../../src/mixin/prometheus-rules.ts';
import { renderRuleTests } from '../../../src/mixin/rule-tests.ts';
import { parseMatchers, seriesLabels } from '../../../src/mixin/selectors.ts';
import { parse } from 'yaml';
import { parsePromQL } from '../../support/dashboard-lint.ts';

/** Every vector selector of a PromQL expression: its metric and its matchers as `name op value`. */
function selectors(expr: string): { metric: string; matchers: string[] }[] {
  const { tree, text, error } = parsePromQL(expr);
  if (error) throw new Error(`${expr}: ${error}`);
  const found: { metric: string; matchers: string[] }[] = [];
  const walk = (node: SyntaxNode): void => {
    if (node.name === 'VectorSelector') {
      const id = node.getChild('Identifier');
      const matchers = (node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map((m) => text.slice(m.from, m.to).replace(/\s/g, ''));
      found.push({ metric: id ? text.slice(id.from, id.to) : '', matchers });
    }
    for (let child = node.firstChild; child !== null; child = child.nextSibling) walk(child);
  };
  walk(tree);
  return found;
}

/** The `by (…)` and `on(…)` label lists of an expression. */
function groupings(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)].map((m) => (m[1] ?? '').replace(/\s/g, ''));
}

const ruleExprs = (config: ReturnType<typeof resolveMixinConfig>): string[] =>
  (prometheusRules(config) as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.expr));

const dashboardExprs = (config: ReturnType<typeof resolveMixinConfig>): string[] =>
  [lookupDashboard(config), migrationDashboard(config), analyticsDashboard(config)].flatMap((d) =>
    (d.panels ?? []).flatMap((p) => ((p as { targets?: { expr?: string }[] }).targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [t.expr]))),
  );

const selected = resolveMixinConfig({
  lookupJob: 'booking-web',
  selectors: { lookup: 'namespace="prod"', migration: 'namespace="prod", tier!~"test|dev"', worker: 'env=~"live|canary"', collector: 'namespace="otel"' },
  showMultiCluster: true,
  clusterLabel: 'k8s_cluster',
});

describe('selectors beside job names, and a cluster label (kubernetes-mixin: *Selector, clusterLabel, showMultiCluster)', () => {
  it('reads label matchers as PromQL writes them and refuses the rest with the key named', () => {
    expect(parseMatchers(' namespace="prod" , env=~"live|canary",tier!="x", zone!~"a\\\\d" ')).toEqual([
      { name: 'namespace', op: '=', value: 'prod' },
      { name: 'env', op: '=~', value: 'live|canary' },
      { name: 'tier', op: '!=', value: 'x' },
      { name: 'zone', op: '!~', value: 'a\\d' },
    ]);
    expect(parseMatchers('')).toEqual([]);
    const refused = (selector: string) => {
      try {
        resolveMixinConfig({ selectors: { lookup: selector } });
      } catch (error) {
        expect(error).toBeInstanceOf(MixinConfigError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${selector}`);
    };
    expect(refused("namespace='prod'")).toMatch(/^selectors\.lookup: cannot read .*double quotes/);
    expect(refused('namespace')).toMatch(/^selectors\.lookup: cannot read/);
    expect(refused('namespace="prod",')).toMatch(/ends with a comma/);
    expect(refused('job="other"')).toMatch(/job is set by the job keys/);
    expect(refused('__name__="x"')).toMatch(/Prometheus's own/);
    expect(refused('env=~"(live"')).toMatch(/not a regular expression/);
    expect(refused('outcome="success"')).toMatch(/outcome is a label the rules select on themselves/);
    expect(refused('env="a" env="b"')).toMatch(/cannot read/);
    // No series can pass both: the generated rule tests could not be written.
    expect(refused('env="a",env="b"')).toMatch(/no value found that env="a" and env="b"/);
    expect(() => resolveMixinConfig({ clusterLabel: 'job' })).toThrow(/clusterLabel cannot be job/);
    // A label the metrics carry themselves would split every ratio (found in review: outcome made 2.5 % failures read 100 %).
    for (const label of ['outcome', 'region', 'micro_slug', 'status']) expect(() => resolveMixinConfig({ clusterLabel: label })).toThrow(/the rules or the metrics use it/);
    expect(() => resolveMixinConfig({ clusterLabel: 'k8s-cluster' })).toThrow(/clusterLabel must be a Prometheus label name/);
    expect(() => resolveMixinConfig({ selectors: { pods: 'a="b"' } })).toThrow(/unknown key selectors\.pods/);
    // The cluster label must not select: alerts would carry it, and the stall's join would need it on both jobs.
    expect(() => resolveMixinConfig({ clusterLabel: 'namespace', selectors: { lookup: 'namespace="prod"' } })).toThrow(/clusterLabel namespace is also a label of selectors\.lookup/);
    expect(() => resolveMixinConfig({ clusterLabel: 'env', selectors: { worker: 'env=~"live|canary"' } })).toThrow(/selectors\.worker/);
  });

  it("reads regexes as Prometheus does (RE2), and finds a value each takes for the rule tests' series", () => {
    // Found in review: these were refused (no literal alternative matched), and a lookahead was taken.
    const cases: [string, RegExp][] = [
      ['env=~"(prod|staging)"', /^(prod|staging)$/],
      ['env=~"eu-[0-9]+"', /^eu-[0-9]+$/],
      ['env=~"prod-\\\\d+"', /^prod-\d+$/],
      ['env=~"[[:alpha:]]+"', /^[a-zA-Z]+$/],
      ['env=~"(?i)prod"', /^prod$/i],
    ];
    for (const [selector, expected] of cases) {
      const labels = seriesLabels(resolveMixinConfig({ selectors: { lookup: selector } }), 'lookup');
      expect(labels.env, selector).toMatch(expected);
      // The same value on every render: the generated tests are files people commit.
      expect(seriesLabels(resolveMixinConfig({ selectors: { lookup: selector } }), 'lookup')).toEqual(labels);
    }
    expect(() => resolveMixinConfig({ selectors: { lookup: 'env=~"stg|prod(?!-old)"' } })).toThrow(/not a regular expression Prometheus reads \(RE2: .*\(\?!/);
  });

  it('gives the rule tests a series each selector takes', () => {
    expect(seriesLabels(selected, 'migration')).toEqual({ job: 'uuid-migration', namespace: 'prod' });
    expect(seriesLabels(selected, 'worker')).toEqual({ job: 'uuid-migration-worker', env: 'live' });
    expect(seriesLabels(resolveMixinConfig({ selectors: { lookup: 'zone=~"eu-.*"' } }), 'lookup')).toEqual({ job: 'uuid-lookup', zone: 'eu-.*' });
  });

  it("puts each target's matchers on every selector of its job in the rules, and nowhere else", () => {
    const extras: Record<string, string[]> = {
      'booking-web': ['namespace="prod"'],
      'uuid-migration': ['namespace="prod"', 'tier!~"test|dev"'],
      'uuid-migration-worker': ['env=~"live|canary"'],
      'otel-collector': ['namespace="otel"'],
    };
    let checked = 0;
    for (const expr of ruleExprs(selected)) {
      for (const s of selectors(expr)) {
        const job = s.matchers.find((m) => m.startsWith('job='))?.slice(5, -1);
        if (job === undefined) {
          // A recording rule's series: the rule selected them already.
          expect(s.matchers.filter((m) => /^(namespace|tier|env)/.test(m)), `${s.metric} in ${expr}`).toEqual([]);
          continue;
        }
        expect(s.matchers, `${s.metric} in ${expr}`).toEqual(expect.arrayContaining(extras[job] ?? ['unknown job']));
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(25);
    // The default configuration selects by job alone, as before.
    for (const expr of ruleExprs(defaultMixinConfig)) for (const s of selectors(expr)) for (const m of s.matchers) expect(m).not.toMatch(/^namespace/);
  });

  it('aggregates every rule by the cluster label beside job, so each cluster alerts alone', () => {
    const lists = ruleExprs(selected).flatMap(groupings);
    expect(lists.length).toBeGreaterThan(40);
    for (const list of lists) expect(list.split(',')[0], list).toBe('k8s_cluster');
    const grafana = grafanaAlertRules(resolveMixinConfig({ clusterLabel: 'k8s_cluster', grafana: { managedAlerts: true } })) as { groups: { rules: { data: { model: { expr?: string } }[] }[] }[] };
    const grafanaExprs = grafana.groups.flatMap((g) => g.rules.flatMap((r) => r.data.flatMap((d) => (d.model.expr === undefined ? [] : [d.model.expr]))));
    expect(grafanaExprs.length).toBeGreaterThan(0);
    for (const expr of grafanaExprs) expect(expr).toContain('on(k8s_cluster, job)');
  });

  it('gives the dashboards a $cluster variable, and every PromQL selector the cluster and, on raw series, the target matchers', () => {
    for (const dashboard of [lookupDashboard(selected), migrationDashboard(selected), analyticsDashboard(selected)]) {
      const names = (dashboard.templating?.list ?? []).map((v) => v.name);
      expect(names, dashboard.uid).toEqual(expect.arrayContaining(['cluster', 'job', 'instance']));
      expect(names.indexOf('cluster')).toBeLessThan(names.indexOf('job'));
      const variable = (name: string) => (dashboard.templating?.list ?? []).find((v) => v.name === name) as { query?: string } | undefined;
      expect(variable('cluster')?.query).toMatch(/, k8s_cluster\)$/);
      expect(variable('job')?.query).toContain('k8s_cluster=~"$cluster"');
      expect(variable('instance')?.query).toContain('k8s_cluster=~"$cluster"');
    }
    // The migration dashboard reads the exporter (namespace, tier) and the worker (env): its choices carry what they share.
    const shared = resolveMixinConfig({ selectors: { migration: 'namespace="prod", tier!~"test"', worker: 'env="live",namespace="prod"' }, showMultiCluster: true });
    const queries = (migrationDashboard(shared).templating?.list ?? []).flatMap((v) => ((v as { query?: unknown }).query === undefined ? [] : [String((v as { query?: unknown }).query)]));
    for (const query of queries.filter((q) => q.startsWith('label_values'))) {
      expect(query).toContain('namespace="prod"');
      expect(query).not.toMatch(/tier|env/);
    }
    expect(queries.filter((q) => q.startsWith('label_values'))).toHaveLength(3);
    const exprs = dashboardExprs(selected);
    let raw = 0;
    for (const expr of exprs) {
      for (const s of selectors(expr)) {
        // parsePromQL reads a variable as its name: $cluster is "cluster".
        expect(s.matchers, `${s.metric} in ${expr}`).toContain('k8s_cluster=~"cluster"');
        const recorded = s.metric.includes(':') || s.metric === 'ALERTS';
        if (recorded) {
          expect(s.matchers.filter((m) => /^(namespace|tier|env)/.test(m)), expr).toEqual([]);
        } else if (s.metric.startsWith('uuid_migration_worker')) {
          expect(s.matchers, expr).toContain('env=~"live|canary"');
          raw += 1;
        } else {
          expect(s.matchers, expr).toContain('namespace="prod"');
          raw += 1;
        }
      }
    }
    expect(raw).toBeGreaterThan(20);
    // Without showMultiCluster: no variable, no matcher; the dashboards as before.
    const single = resolveMixinConfig({ selectors: selected.selectors });
    expect((lookupDashboard(single).templating?.list ?? []).map((v) => v.name)).not.toContain('cluster');
    for (const expr of dashboardExprs(single)) expect(expr).not.toContain('$cluster');
    expect(JSON.stringify(lookupDashboard(resolveMixinConfig({})))).toBe(JSON.stringify(lookupDashboard(defaultMixinConfig)));
  });

  it('writes rule tests whose series carry the selected labels', () => {
    const tests = parse(renderRuleTests(selected)) as { tests: { input_series: { series: string }[] }[] };
    const series = tests.tests.flatMap((t) => t.input_series.map((s) => s.series));
    expect(series.filter((s) => s.includes('job="booking-web"')).every((s) => s.includes('namespace="prod"'))).toBe(true);
    expect(series.filter((s) => s.includes('job="uuid-migration-worker"')).every((s) => s.includes('env="live"'))).toBe(true);
    expect(series.some((s) => s.includes('job="uuid-migration-worker"'))).toBe(true);
  });
});
