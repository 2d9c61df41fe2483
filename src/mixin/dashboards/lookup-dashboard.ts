import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PROMETHEUS_NAMES, recordingRuleNames } from '../../contract/metrics.ts';
import { lookupPerformanceRollupSql, slowLookupsSql, specQueries } from '../../contract/spec-queries.ts';
import type { MixinConfig } from '../mixin-config.ts';
import { grouping } from '../selectors.ts';
import { BURN_RATE_ALERTS, SLO_WINDOWS, sloBudgetRecord, sloErrorRatioRecord, slos } from '../slo-rules.ts';
import { alertPanels, dashboard, GRAFANA_TIME_WINDOW, panelMatchers, Panels, ROLLUP_FRESHNESS } from './panels.ts';

/** The lookup performance dashboard. */
export function lookupDashboard(config: MixinConfig): Dashboard {
  const VARS = panelMatchers(config, 'lookup');
  const names = recordingRuleNames(config.window);
  const r = (record: string) => `sum(${record}{${panelMatchers(config, null)}})`;
  const ratio = (num: string, den: string) => `${r(num)} / ${r(den)}`;
  const { lookups, lookupDuration, eventsDropped } = PROMETHEUS_NAMES;
  const q = (p: number) => `histogram_quantile(${p}, sum by (le) (rate(${lookupDuration}_bucket{${VARS}}[$__rate_interval])))`;
  const bySlug = (expr: string) => `sum by (micro_slug) (increase(${expr}[$__range]))`;
  const p = new Panels(config);
  const recorded = `(recording rules over ${config.window}, summed over the selected jobs and instances)`;
  p.stat('Lookups per second', `Slug-to-UUID lookups per second ${recorded}.`, { x: 0, y: 0, w: 6, h: 4 }, { expr: r(names.instanceLookupsRate), unit: 'reqps' });
  p.stat(
    'Average lookup time',
    `Mean time of a lookup ${recorded}. Orange above the warning limit, red above the critical one (spec: Alert Thresholds).`,
    { x: 6, y: 0, w: 6, h: 4 },
    { expr: ratio(names.instanceDurationSumRate, names.instanceDurationCountRate), unit: 's', key: 'lookup_latency', scale: 1 / 1000 },
  );
  p.stat(
    'Failure rate',
    `Share of lookups that failed ${recorded}, against the failure-rate limits.`,
    { x: 12, y: 0, w: 6, h: 4 },
    { expr: ratio(names.instanceFailuresRate, names.instanceLookupsRate), unit: 'percentunit', key: 'lookup_failure_rate', scale: 1 / 100 },
  );
  p.stat(
    'Fallback rate',
    `Share of lookups answered by a fallback ${recorded}, against the fallback-rate limits.`,
    { x: 18, y: 0, w: 6, h: 4 },
    { expr: ratio(names.instanceFallbacksRate, names.instanceLookupsRate), unit: 'percentunit', key: 'lookup_fallback_rate', scale: 1 / 100 },
  );
  p.timeseries(
    'Lookup time: average, p50, p95, p99',
    'Average from the recording rules; quantiles from the histogram buckets over $__rate_interval (interpolated within a bucket; 50 ms and 100 ms are exact bucket bounds).',
    { x: 0, y: 4, w: 12, h: 9 },
    {
      unit: 's',
      key: 'lookup_latency',
      scale: 1 / 1000,
      exprs: [
        { expr: ratio(names.instanceDurationSumRate, names.instanceDurationCountRate), legend: 'average' },
        { expr: q(0.5), legend: 'p50' },
        { expr: q(0.95), legend: 'p95' },
        { expr: q(0.99), legend: 'p99' },
      ],
    },
  );
  p.timeseries(
    'Failure and fallback rates',
    'Share of lookups that failed or used a fallback, with the failure-rate limits drawn.',
    { x: 12, y: 4, w: 12, h: 9 },
    {
      unit: 'percentunit',
      key: 'lookup_failure_rate',
      scale: 1 / 100,
      exprs: [
        { expr: ratio(names.instanceFailuresRate, names.instanceLookupsRate), legend: 'failure rate' },
        { expr: ratio(names.instanceFallbacksRate, names.instanceLookupsRate), legend: 'fallback rate' },
      ],
    },
  );
  p.promTable(
    'By service (time range)',
    'Lookups, average time, failure and fallback ratios per service slug over the selected time range (slugs that are not services count as __unknown__).',
    { x: 0, y: 13, w: 12, h: 9 },
    [
      { expr: bySlug(`${lookups}{${VARS}}`), legend: 'lookups', unit: 'short' },
      { expr: `${bySlug(`${lookupDuration}_sum{${VARS}}`)} / ${bySlug(`${lookupDuration}_count{${VARS}}`)}`, legend: 'average time', unit: 's' },
      { expr: `${bySlug(`${lookups}{${VARS},outcome="failure"}`)} / ${bySlug(`${lookups}{${VARS}}`)}`, legend: 'failure ratio', unit: 'percentunit' },
      { expr: `${bySlug(`${lookups}{${VARS},fallback="true"}`)} / ${bySlug(`${lookups}{${VARS}}`)}`, legend: 'fallback ratio', unit: 'percentunit' },
    ],
  );
  p.timeseries(
    'Events dropped by the SDK, by reason',
    'Analytics events the SDK refused or could not deliver, per second: invalid input, a full queue, rows the database rejected, or still queued at shutdown.',
    { x: 12, y: 13, w: 12, h: 9 },
    { unit: 'cps', exprs: [{ expr: `sum by (reason) (rate(${eventsDropped}{${VARS}}[$__rate_interval]))`, legend: '{{reason}}' }] },
  );
  p.sqlTable(
    'Lookup performance by service',
    `The spec's lookup performance by service over the selected time range (whole hours), from the hourly rollup per service; slugs with no service as __unknown__. ${ROLLUP_FRESHNESS} The spec's query on the raw events:\n\n${specQueries.lookupPerformance.sql}`,
    { x: 0, y: 22, w: 12, h: 9 },
    { sql: lookupPerformanceRollupSql(GRAFANA_TIME_WINDOW.from, GRAFANA_TIME_WINDOW.to), unit: 'short', units: { avg_time_ms: 'ms' } },
  );
  p.sqlTable(
    'Slow lookups (> 100 ms)',
    "The spec's 20 slowest lookups over 100 ms, within the selected time range.",
    { x: 12, y: 22, w: 12, h: 9 },
    { sql: slowLookupsSql('$__timeFilter(created_at)'), unit: 'ms' },
  );
  alertPanels(p, 31);
  sloRow(config, p, 38);
  return dashboard(config, {
    uid: 'uuid-lookup-performance',
    title: 'UUID lookups',
    description: 'Slug-to-UUID lookups of the booking wizard: latency, failures, fallbacks (spec: Monitoring Dashboard Queries).',
    jobMetric: lookups,
    jobs: [config.lookupJob],
    targets: ['lookup'],
    panels: p,
  });
}

/** The titles of the SLO row's panels, per SLO: what the linter's exclusions name (test/unit/monitoring/dashboard-lint.test.ts). */
export function sloPanelTitles(config: MixinConfig): string[] {
  return [
    ...slos(config).flatMap((slo) => [`${SLO_TITLES[slo.key]} SLO: error budget left`, `${SLO_TITLES[slo.key]} SLO: burn rate per window`]),
    ...(slos(config).length === 0 ? [] : ['SLO burn-rate alerts firing']),
  ];
}

const SLO_TITLES = { latency: 'Latency', availability: 'Availability' } as const;

/**
 * The SLOs (src/mixin/slo-rules.ts), per job as their recording rules are: the
 * budget left over the period, each window's burn rate (its error ratio over the
 * budget's, 1: spending exactly the budget), with the alerts' factors drawn, and
 * which burn-rate alerts fire, by window. Without instance: an SLO is the job's.
 */
function sloRow(config: MixinConfig, p: Panels, y: number): void {
  const objectives = slos(config);
  if (objectives.length === 0) return;
  const job = panelMatchers(config, null, false);
  // Per job, and per cluster when the dashboard tells clusters apart.
  const perJob = config.showMultiCluster ? grouping(config) : 'job';
  const jobLegend = config.showMultiCluster ? `{{${config.clusterLabel}}} {{job}}` : '{{job}}';
  p.row('SLOs (per job)', y);
  objectives.forEach((slo, i) => {
    p.stat(
      `${SLO_TITLES[slo.key]} SLO: error budget left`,
      `Share of the ${config.slo.period} error budget of the ${SLO_TITLES[slo.key].toLowerCase()} SLO (${slo.objective * 100} % of ${slo.good}) not spent yet: 100 % untouched, 0 spent, below 0 overspent. The lowest of the selected jobs.`,
      { x: i * 6, y: y + 1, w: 6, h: 5 },
      { expr: `min(${sloBudgetRecord(slo.key)}{${job}})`, unit: 'percentunit' },
    );
  });
  p.promTable(
    'SLO burn-rate alerts firing',
    'The burn-rate alerts firing now, by job, SLO and window: critical when the budget burns fast (1h and 5m, 6h and 30m), warning when it burns steadily (1d and 2h, 3d and 6h).',
    { x: 12, y: y + 1, w: 12, h: 5 },
    [{ expr: `max by (${perJob}, alertname, severity, burn_window) (ALERTS{${job},alertstate="firing",alertname=~"${objectives.map((o) => o.alert).join('|')}"})`, legend: 'firing', unit: 'none' }],
  );
  objectives.forEach((slo, i) => {
    const budget = Number((1 - slo.objective).toPrecision(6));
    const factors = [...new Set(BURN_RATE_ALERTS.map((a) => a.long))].join(', ');
    p.timeseries(
      `${SLO_TITLES[slo.key]} SLO: burn rate per window`,
      `Each window's error ratio over the budget's (${budget}): 1 spends exactly the ${config.slo.period} budget. The alerts fire when a long window (${factors}) and its short one both pass their factor. Per job.`,
      { x: i * 12, y: y + 6, w: 12, h: 8 },
      { unit: 'none', exprs: SLO_WINDOWS.map((w) => ({ expr: `max by (${perJob}) (${sloErrorRatioRecord(slo.key, w)}{${job}}) / ${budget}`, legend: `${jobLegend} ${w}` })) },
    );
  });
}
