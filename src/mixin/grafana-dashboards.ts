import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  HeatmapCellLayout,
  LegendDisplayMode,
  LegendPlacement,
  MapLayerOptionsBuilder,
  ReduceDataOptionsBuilder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard, DynamicConfigValue, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  PanelBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { MapViewConfigBuilder, PanelBuilder as GeomapPanel } from '@grafana/grafana-foundation-sdk/geomap';
import { HeatmapColorMode, HeatmapColorOptionsBuilder, HeatmapTooltipBuilder, PanelBuilder as HeatmapPanel, RowsHeatmapOptionsBuilder, YAxisConfigBuilder } from '@grafana/grafana-foundation-sdk/heatmap';
import { DataqueryBuilder as PromQuery, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { analyticsTitles, costliestServicesSql, journeyComparisonSql, patternsSql, regionsSql } from '../contract/analytics-queries.ts';
import type { SqlWindow } from '../contract/analytics-queries.ts';
import { PROMETHEUS_NAMES, recordingRuleNames } from '../contract/metrics.ts';
import { migrationMetricName, WORKER_METRIC_NAMES } from '../contract/migration.ts';
import { dashboardForms, lookupPerformanceRollupSql, slowLookupsSql, specQueries } from '../contract/spec-queries.ts';
import type { SpecQueryName } from '../contract/spec-queries.ts';
import type { MixinConfig, ThresholdKey } from './mixin-config.ts';
import { thresholdOf } from './mixin-config.ts';
import type { Target } from './selectors.ts';
import { extraMatchers, grouping } from './selectors.ts';
import { BURN_RATE_ALERTS, SLO_WINDOWS, sloBudgetRecord, sloErrorRatioRecord, slos } from './slo-rules.ts';

/**
 * The dashboards, built with Grafana's typed builders (grafana-foundation-sdk).
 * Every panel reads its datasource from a variable (`prometheus_datasource`,
 * `postgres_datasource`), every PromQL selector carries `job=~"$job"` and
 * `instance=~"$instance"`, rates use `$__rate_interval`, and the SQL panels
 * follow the time picker where their question is bounded in time: the rules of
 * grafana/dashboard-linter, which test/unit/monitoring/dashboard-lint.test.ts
 * runs on every dashboard.
 */

/** The datasource variables every panel uses. */
export const PROMETHEUS_DS: DataSourceRef = { type: 'prometheus', uid: '${prometheus_datasource}' };
export const POSTGRES_DS: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: '${postgres_datasource}' };

/**
 * The matchers of every PromQL selector of a target's panels: the selected
 * clusters (showMultiCluster), the target's own extra matchers (selectors), the
 * selected jobs and, unless the series are per job, instances. A recording
 * rule's series (`target` null) have no extra labels left: the rule selected.
 */
function panelMatchers(config: MixinConfig, target: Target | null, perInstance = true): string {
  const extra = target === null ? '' : extraMatchers(config, target);
  return [
    ...(config.showMultiCluster ? [`${config.clusterLabel}=~"$cluster"`] : []),
    ...(extra === '' ? [] : [extra]),
    'job=~"$job"',
    ...(perInstance ? ['instance=~"$instance"'] : []),
  ].join(',');
}

/** The time picker's range in the PostgreSQL datasource's macros. */
export const GRAFANA_TIME_WINDOW: SqlWindow = { from: '$__timeFrom()::timestamptz', to: '$__timeTo()::timestamptz' };

/** A raw SQL query of Grafana's PostgreSQL datasource (the SDK has no builder for it). */
class SqlQuery implements cog.Builder<cog.Dataquery> {
  private readonly sql: string;

  constructor(sql: string) {
    this.sql = sql;
  }

  build(): cog.Dataquery {
    const query = { refId: 'A', datasource: POSTGRES_DS, rawSql: this.sql, format: 'table', rawQuery: true, editorMode: 'code' };
    // The SDK's marker method; JSON has no functions, so the file holds the query alone.
    return Object.defineProperty(query, '_implementsDataqueryVariant', { value: () => undefined, enumerable: false }) as unknown as cog.Dataquery;
  }
}

/** Grafana thresholds (green / orange / red) from a row of the table at the configured limits, in the panel's unit. */
function steps(config: MixinConfig, key: ThresholdKey, scale: number): ThresholdsConfigBuilder {
  const t = thresholdOf(config, key);
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { color: 'green', value: null },
    { color: 'orange', value: t.warning * scale },
    { color: 'red', value: t.critical * scale },
  ]);
}

interface Place {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface PromExpr {
  expr: string;
  legend: string;
}

/** What every panel builder of the SDK has in common. */
interface AnyPanelBuilder extends cog.Builder<Panel> {
  id(id: number): AnyPanelBuilder;
  title(title: string): AnyPanelBuilder;
  description(description: string): AnyPanelBuilder;
  gridPos(gridPos: Place): AnyPanelBuilder;
}

/** A Prometheus query on the datasource variable, its refId by position (A, B, …). */
function promTarget(index: number, expr: string, legend: string): PromQuery {
  return new PromQuery().refId(String.fromCharCode(65 + index)).datasource(PROMETHEUS_DS).expr(expr).legendFormat(legend);
}

/** The sum of a migration statistic over the selected jobs and instances. */
function migrationSumOf(config: MixinConfig, field: Parameters<typeof migrationMetricName>[0]): string {
  return `sum(${migrationMetricName(field)}{${panelMatchers(config, 'migration')}})`;
}

/** `selector` (a metric name or a `{…}` selector) narrowed by `matchers`. */
function withMatchers(selector: string, matchers: string[]): string {
  if (matchers.length === 0) return selector;
  return selector.endsWith('}') ? `${selector.slice(0, -1)},${matchers.join(',')}}` : `${selector}{${matchers.join(',')}}`;
}

const unitOverride = (unit: string): DynamicConfigValue[] => [{ id: 'unit', value: unit }];

/** Panel ids in order of appearance, per dashboard: stable, so links to a panel keep working. */
class Panels {
  private readonly built: cog.Builder<Panel>[] = [];
  private readonly config: MixinConfig;
  /** Whether a panel reads PostgreSQL: the dashboard then needs the postgres_datasource variable. */
  usesPostgres = false;

  constructor(config: MixinConfig) {
    this.config = config;
  }

  private sql(sql: string): SqlQuery {
    this.usesPostgres = true;
    return new SqlQuery(sql);
  }

  /** Every panel has an id, a title, a description and a place (the linter's title-description rule, for every type). */
  private add(panel: AnyPanelBuilder, title: string, description: string, at: Place): void {
    this.built.push(panel.id(this.built.length + 1).title(title).description(description).gridPos(at));
  }

  stat(title: string, description: string, at: Place, o: { expr: string; unit: string; key?: ThresholdKey; scale?: number }): void {
    const panel = new StatPanel()
      .datasource(PROMETHEUS_DS)
      .withTarget(promTarget(0, o.expr, title).range())
      .unit(o.unit)
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
      .colorMode(BigValueColorMode.Value)
      .graphMode(BigValueGraphMode.Area);
    if (o.key) panel.thresholds(steps(this.config, o.key, o.scale ?? 1)).colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds));
    this.add(panel, title, description, at);
  }

  timeseries(title: string, description: string, at: Place, o: { exprs: PromExpr[]; unit: string; key?: ThresholdKey; scale?: number }): void {
    const panel = new TimeseriesPanel()
      .datasource(PROMETHEUS_DS)
      .targets(o.exprs.map((e, i) => promTarget(i, e.expr, e.legend).range()))
      .unit(o.unit)
      .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).showLegend(true).calcs(['mean', 'max', 'lastNotNull']))
      .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi));
    // The configured warning and critical lines, drawn on the graph.
    if (o.key) panel.thresholds(steps(this.config, o.key, o.scale ?? 1)).thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.LineAndArea));
    this.add(panel, title, description, at);
  }

  /** Instant PromQL queries as the columns of one table, merged on their labels; a unit per column. */
  promTable(title: string, description: string, at: Place, columns: (PromExpr & { unit: string })[]): void {
    const panel = new TablePanel()
      .datasource(PROMETHEUS_DS)
      .targets(columns.map((c, i) => promTarget(i, c.expr, c.legend).instant().format(PromQueryFormat.Table)))
      .withTransformation({ id: 'merge', options: {} })
      .unit(columns[0]?.unit ?? 'short')
      .showHeader(true);
    columns.forEach((c, i) => panel.overrideByName(`Value #${String.fromCharCode(65 + i)}`, [...unitOverride(c.unit), { id: 'displayName', value: c.legend }]));
    this.add(panel, title, description, at);
  }

  /** A table of an SQL query; `unit` for its numbers, `units` for columns that differ. */
  sqlTable(title: string, description: string, at: Place, o: { sql: string; unit: string; units?: Record<string, string> }): void {
    const panel = new TablePanel().datasource(POSTGRES_DS).withTarget(this.sql(o.sql)).unit(o.unit).showHeader(true);
    for (const [column, unit] of Object.entries(o.units ?? {})) panel.overrideByName(column, unitOverride(unit));
    this.add(panel, title, description, at);
  }

  heatmap(title: string, description: string, at: Place, sql: string): void {
    const panel = new HeatmapPanel()
      .datasource(POSTGRES_DS)
      .withTarget(this.sql(sql))
      .unit('short')
      .calculate(false)
      .yAxis(new YAxisConfigBuilder().axisLabel('hour of day (UTC)'))
      .rowsFrame(new RowsHeatmapOptionsBuilder().layout(HeatmapCellLayout.Auto))
      .cellGap(1)
      .color(new HeatmapColorOptionsBuilder().mode(HeatmapColorMode.Scheme).scheme('Oranges').steps(64))
      .tooltip(new HeatmapTooltipBuilder().mode(TooltipDisplayMode.Single).yHistogram(false));
    this.add(panel, title, description, at);
  }

  geomap(title: string, description: string, at: Place, sql: string): void {
    const panel = new GeomapPanel()
      .datasource(POSTGRES_DS)
      .withTarget(this.sql(sql))
      .unit('short')
      .view(new MapViewConfigBuilder().id('zero').lat(30).lon(10).zoom(1))
      .layers([
        new MapLayerOptionsBuilder()
          .type('markers')
          .name('regions')
          .location({ build: () => ({ mode: 'lookup', lookup: 'region', gazetteer: 'public/gazetteer/countries.json' }) } as cog.Builder<never>)
          .config({ size: { field: 'lookups', min: 3, max: 30 }, color: { field: 'avg_ms' } }),
      ]);
    this.add(panel, title, description, at);
  }

  /** The state of the Prometheus rules (data source-managed), as Grafana's alert list shows it. */
  alertList(title: string, description: string, at: Place): void {
    const panel = new PanelBuilder().type('alertlist').options({
      viewMode: 'list',
      groupMode: 'default',
      maxItems: 20,
      sortOrder: 1,
      stateFilter: { firing: true, pending: true, noData: true, error: true, normal: false, inactive: false },
      alertName: 'Uuid',
      dashboardAlerts: false,
      // Every rule source: the rules Prometheus evaluates (its datasource's "Manage alerts
      // via Alerting UI") and, when enabled, the Grafana-managed ones.
      alertInstanceLabelFilter: '',
    });
    this.add(panel, title, description, at);
  }

  /** What Alertmanager holds now (grouped, silenced, inhibited), from the Alertmanager datasource. */
  alertGroups(title: string, description: string, at: Place): void {
    const panel = new PanelBuilder().type('alertGroups').options({ alertmanager: this.config.grafana.alertmanagerName, expandAll: false, labels: 'alertname=~"Uuid.+"' });
    this.add(panel, title, description, at);
  }

  row(title: string, y: number): void {
    this.built.push(new RowBuilder(title).id(this.built.length + 1).gridPos({ x: 0, y, w: 24, h: 1 }) as unknown as cog.Builder<Panel>);
  }

  list(): cog.Builder<Panel>[] {
    return this.built;
  }
}

/** A multi-select query variable over a label, "All" as `.+` (the linter's convention), re-read when the time range changes. */
function labelVariable(name: 'cluster' | 'job' | 'instance', query: string, current: string[] | undefined): QueryVariableBuilder {
  const variable = new QueryVariableBuilder(name)
    .label({ cluster: 'Cluster', job: 'Job', instance: 'Instance' }[name])
    .datasource(PROMETHEUS_DS)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.+');
  return current === undefined ? variable.current({ text: 'All', value: '$__all' }) : variable.current({ text: current, value: current });
}

function dashboard(
  config: MixinConfig,
  o: { uid: string; title: string; description: string; jobMetric: string; jobs: string[]; targets: Target[]; panels: Panels },
): Dashboard {
  const builder = new DashboardBuilder(o.title)
    .uid(o.uid)
    .description(o.description)
    .tags(['uuid-lookup'])
    .timezone('browser')
    .readonly()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .annotation(
      new AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .type('dashboard')
        .builtIn(1),
    )
    .link(new DashboardLinkBuilder('UUID lookup dashboards').type(DashboardLinkType.Dashboards).tags(['uuid-lookup']).asDropdown(true).includeVars(false).keepTime(true))
    .withVariable(
      new DatasourceVariableBuilder('prometheus_datasource')
        .label('Prometheus data source')
        .type('prometheus')
        .current({ text: config.grafana.prometheusUid, value: config.grafana.prometheusUid }),
    );
  if (o.panels.usesPostgres) {
    builder.withVariable(
      new DatasourceVariableBuilder('postgres_datasource')
        .label('PostgreSQL data source')
        .type('grafana-postgresql-datasource')
        .current({ text: config.grafana.postgresUid, value: config.grafana.postgresUid }),
    );
  }
  // The jobs offered: in the selected clusters, and of the targets' extra matchers when they share them.
  const cluster = config.showMultiCluster ? [`${config.clusterLabel}=~"$cluster"`] : [];
  const extras = [...new Set(o.targets.map((t) => extraMatchers(config, t)))];
  const shared = extras.length === 1 && extras[0] !== '' ? [extras[0] as string] : [];
  if (config.showMultiCluster) builder.withVariable(labelVariable('cluster', `label_values(${withMatchers(o.jobMetric, shared)}, ${config.clusterLabel})`, undefined));
  builder
    .withVariable(labelVariable('job', `label_values(${withMatchers(o.jobMetric, [...cluster, ...shared])}, job)`, o.jobs))
    .withVariable(labelVariable('instance', `label_values(${withMatchers(o.jobMetric, [...cluster, ...shared, 'job=~"$job"'])}, instance)`, undefined));
  for (const panel of o.panels.list()) {
    if (panel instanceof RowBuilder) builder.withRow(panel);
    else builder.withPanel(panel);
  }
  return builder.build();
}

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

/** Where the alerts stand: the rules' state and what Alertmanager routes. */
function alertPanels(p: Panels, y: number): void {
  p.alertList('Alert rules: firing and pending', "The UUID alert rules Prometheus evaluates that are firing or pending, through the Prometheus datasource.", { x: 0, y, w: 12, h: 7 });
  p.alertGroups('Alertmanager: active alert groups', 'The UUID alerts Alertmanager holds now, as it groups them for paging and tickets (silenced and inhibited ones marked).', { x: 12, y, w: 12, h: 7 });
}

/** The migration statistics' SQL panels: state, not bounded in time. */
const MIGRATION_TABLES: { query: SpecQueryName; place: Place; unit: string; units?: Record<string, string>; description: string; form?: string }[] = [
  { query: 'migrationStats', place: { x: 0, y: 13, w: 24, h: 4 }, unit: 'short', units: { completion_percentage: 'percent' }, description: 'get_uuid_migration_stats(): counts of jobs with and without a UUID and of migration outcomes, exact, from counters.' },
  {
    query: 'migrationProgress',
    place: { x: 0, y: 17, w: 8, h: 8 },
    unit: 'short',
    units: { percentage: 'percent' },
    description: "The spec's progress query: the current outcome of every job the migration attempted, by status; read from the counters (the same rows, at any number of jobs).",
    form: dashboardForms.migrationProgress,
  },
  { query: 'failuresByError', place: { x: 8, y: 17, w: 8, h: 8 }, unit: 'short', description: "The spec's failures by error message, with the slugs they affect." },
  {
    query: 'missingServices',
    place: { x: 16, y: 17, w: 8, h: 8 },
    unit: 'none',
    description: 'Job slugs without a UUID that no micro_service has: map them with `uuid-lookup services map`. The spec\'s query, as one index probe per distinct slug (the same rows).',
    form: dashboardForms.missingServices,
  },
  { query: 'failedJobs', place: { x: 0, y: 25, w: 12, h: 8 }, unit: 'short', description: "The spec's failed jobs by error message, with their ids (retry with `uuid-lookup migrate --mode retry`)." },
  { query: 'reviewFailures', place: { x: 12, y: 25, w: 12, h: 8 }, unit: 'none', description: 'The latest 100 failed and skipped jobs, as the spec reviews them.' },
];

/** The migration progress dashboard. */
export function migrationDashboard(config: MixinConfig): Dashboard {
  const VARS = panelMatchers(config, 'migration');
  const migrationSum = (field: Parameters<typeof migrationMetricName>[0]) => migrationSumOf(config, field);
  const attempted = `(${migrationSum('successful_migrations')} + ${migrationSum('failed_migrations')} + ${migrationSum('skipped_migrations')})`;
  const p = new Panels(config);
  const exporter = '(get_uuid_migration_stats() through the Postgres exporter)';
  p.stat('Completion', `Share of jobs that have a UUID ${exporter}.`, { x: 0, y: 0, w: 6, h: 4 }, { expr: `max(${migrationMetricName('completion_percentage')}{${VARS}})`, unit: 'percent' });
  p.stat('Jobs without UUID', `Jobs still without a UUID: never attempted, skipped or failed ${exporter}.`, { x: 6, y: 0, w: 6, h: 4 }, { expr: migrationSum('jobs_without_uuid'), unit: 'short' });
  p.stat('Total jobs', `All jobs ${exporter}.`, { x: 12, y: 0, w: 6, h: 4 }, { expr: migrationSum('total_jobs'), unit: 'short' });
  p.stat(
    'Migration failure rate',
    'Failed jobs as a share of attempted ones (success, failed, skipped), against the migration failure-rate limits.',
    { x: 18, y: 0, w: 6, h: 4 },
    { expr: `${migrationSum('failed_migrations')} / ${attempted}`, unit: 'percentunit', key: 'migration_failure_rate', scale: 1 / 100 },
  );
  p.timeseries('Jobs with and without UUID', `The back-fill's progress over time ${exporter}.`, { x: 0, y: 4, w: 12, h: 9 }, {
    unit: 'short',
    exprs: [
      { expr: migrationSum('jobs_with_uuid'), legend: 'with UUID' },
      { expr: migrationSum('jobs_without_uuid'), legend: 'without UUID' },
    ],
  });
  p.timeseries('Throughput (jobs per second, by outcome)', 'How fast the outcome counts grow (deriv over $__rate_interval), whoever runs the migration.', { x: 12, y: 4, w: 12, h: 9 }, {
    unit: 'ops',
    exprs: (['successful_migrations', 'skipped_migrations', 'failed_migrations'] as const).map((field, i) => ({
      expr: `sum(deriv(${migrationMetricName(field)}{${VARS}}[$__rate_interval]))`,
      legend: ['success', 'skipped', 'failed'][i] ?? field,
    })),
  });
  for (const t of MIGRATION_TABLES) {
    const q = specQueries[t.query];
    // The spec's query in the description; the panel runs it, or its form that reads the same rows at scale.
    p.sqlTable(q.title, `${t.description}\n\n${q.sql}`, t.place, { sql: t.form ?? q.sql, unit: t.unit, units: t.units });
  }
  alertPanels(p, 33);
  workerRow(config, p, 40);
  runsRow(config, p, 56);
  return dashboard(config, {
    uid: 'uuid-migration-progress',
    title: 'UUID migration',
    description: 'Back-fill of jobs.micro_uuid: progress, outcomes, failures, the scheduled worker (spec: Migration System, Operational Procedures).',
    jobMetric: `{__name__=~"${[migrationMetricName('total_jobs'), ...(config.workerJob === '' ? [] : [WORKER_METRIC_NAMES.jobs])].join('|')}"}`,
    jobs: [config.migrationJob, ...(config.workerJob === '' ? [] : [config.workerJob])],
    targets: ['migration', ...(config.workerJob === '' ? [] : ['worker' as const])],
    panels: p,
  });
}

/**
 * The scheduled worker, as batched background migration frameworks show theirs:
 * jobs processed per minute, the time left at that pace, runs by result, and
 * how long since a run last succeeded.
 */
function workerRow(config: MixinConfig, p: Panels, y: number): void {
  if (config.workerJob === '') return;
  const VARS = panelMatchers(config, 'worker');
  const migrationSum = (field: Parameters<typeof migrationMetricName>[0]) => migrationSumOf(config, field);
  const perMinute = `sum(rate(${WORKER_METRIC_NAMES.jobs}{${VARS}}[$__rate_interval])) * 60`;
  const pending = `(${migrationSum('jobs_without_uuid')} - ${migrationSum('skipped_migrations')} - ${migrationSum('failed_migrations')})`;
  p.row('Migration worker', y);
  p.timeseries('Worker: jobs processed per minute, by outcome', 'Jobs the scheduled worker (`uuid-lookup worker`) migrated, skipped or failed, per minute.', { x: 0, y: y + 1, w: 12, h: 8 }, {
    unit: 'cpm',
    exprs: [{ expr: `sum by (status) (rate(${WORKER_METRIC_NAMES.jobs}{${VARS}}[$__rate_interval])) * 60`, legend: '{{status}}' }],
  });
  p.stat('Worker: time left at this pace', 'Never-attempted jobs divided by the rate the worker processes jobs now; empty while it processes none.', { x: 12, y: y + 1, w: 6, h: 4 }, {
    expr: `${pending} / (${perMinute} / 60)`,
    unit: 's',
  });
  p.stat('Worker: since the last successful run', 'Time since a worker run last completed without error; the UuidMigrationStalled alert watches for no progress.', { x: 18, y: y + 1, w: 6, h: 4 }, {
    expr: `time() - max(${WORKER_METRIC_NAMES.lastSuccess}{${VARS}})`,
    unit: 's',
  });
  p.timeseries('Worker: batch time', 'How long one batch (one transaction) takes, median and 95th percentile: the time the app may wait on a row the back-fill holds (uuid-lookup migrate --target-batch-ms aims at one).', { x: 0, y: y + 9, w: 24, h: 6 }, {
    unit: 's',
    exprs: [0.5, 0.95].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le) (rate(${WORKER_METRIC_NAMES.batchDuration}_bucket{${VARS}}[$__rate_interval])))`,
      legend: `p${q * 100}`,
    })),
  });
  p.timeseries('Worker: runs by kind and result', 'Worker runs (new jobs, retries) by result, per $__rate_interval.', { x: 12, y: y + 5, w: 12, h: 4 }, {
    unit: 'short',
    exprs: [{ expr: `sum by (kind, result) (increase(${WORKER_METRIC_NAMES.runs}{${VARS}}[$__rate_interval]))`, legend: '{{kind}} {{result}}' }],
  });
}

/**
 * Back-fill runs from every runner (the worker, a one-off migrate), through the
 * Postgres exporter's view of uuid_migration_runs: how many run, are held by the
 * database's health, or paused; the longest hold; batch time, jobs per second and
 * time efficiency.
 */
function runsRow(config: MixinConfig, p: Panels, y: number): void {
  const VARS = panelMatchers(config, 'migration');
  p.row('Back-fill runs', y);
  p.timeseries('Runs by state', 'Back-fill runs not finished: running, held by the database\'s health (lock waits, VACUUM, WAL rate, replica lag, a Prometheus alert), or paused by an operator (uuid-lookup migrate pause). uuid-lookup migrate runs says why.', { x: 0, y: y + 1, w: 12, h: 8 }, {
    unit: 'short',
    exprs: [{ expr: `sum by (state) (uuid_migration_runs_active{${VARS}})`, legend: '{{state}}' }],
  });
  p.timeseries('Longest hold', `How long the longest-held run has been held, by state; UuidMigrationRunHeldLong fires past ${config.runHeldAfter} held for health.`, { x: 12, y: y + 1, w: 12, h: 8 }, {
    unit: 's',
    exprs: [{ expr: `max by (state) (uuid_migration_runs_longest_hold_seconds{${VARS}, state=~"held|paused"})`, legend: '{{state}}' }],
  });
  p.timeseries('Batch time, every runner', 'The slowest last batch of the runs going, and their mean batch time over the range (the runs table, migration 20261203000300: a one-off migrate too). Short batches keep the app\'s waits on the back-fill\'s row locks short.', { x: 0, y: y + 9, w: 12, h: 8 }, {
    unit: 's',
    exprs: [
      { expr: `max(uuid_migration_run_batches_last_batch_seconds{${VARS}})`, legend: 'last batch' },
      {
        expr: `sum(clamp_min(deriv(uuid_migration_run_batches_batch_seconds{${VARS}}[$__rate_interval]), 0)) / sum(clamp_min(deriv(uuid_migration_run_batches_batches{${VARS}}[$__rate_interval]), 0))`,
        legend: 'mean batch',
      },
    ],
  });
  p.timeseries('Jobs per second and time efficiency, every runner', 'Jobs the going runs do per second, and their time efficiency: time in batches over time since their start (1 never waits; lower when held, paused or paced with --nice-ratio or --batch-delay).', { x: 12, y: y + 9, w: 12, h: 8 }, {
    unit: 'short',
    exprs: [
      { expr: `sum(clamp_min(deriv(uuid_migration_run_batches_jobs{${VARS}}[$__rate_interval]), 0))`, legend: 'jobs/s' },
      { expr: `max(uuid_migration_run_batches_time_efficiency_ratio{${VARS}})`, legend: 'time efficiency' },
    ],
  });
}

/** How fresh the rollup panels are (migration 20261129000600). */
const ROLLUP_FRESHNESS =
  'New events reach the rollups in folds: one insert in 32 folds, and the Postgres exporter folds what is pending on every scrape, so the panel is a scrape interval behind the events at most, unless a long transaction holds the fold (uuid_lookup_rollups_fold_skipped).';

/**
 * Lookups per hour of day (rows) and day (columns) from the hourly rollup, one
 * field per hour: the "rows" layout Grafana's heatmap reads without calculating.
 */
export const HEATMAP_SQL = `SELECT date_trunc('day', bucket) AS time,
${Array.from({ length: 24 }, (_, h) => `  sum(lookups) FILTER (WHERE extract(hour FROM bucket) = ${h}) AS "${String(h).padStart(2, '0')}"`).join(',\n')}
FROM public.analytics_lookup_hourly
WHERE $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1`;

const FIGURE_UNITS = { avg_ms: 'ms', p95_ms_at_most: 'ms', failure_rate: 'percent', fallback_rate: 'percent', day_of_week: 'none', hour: 'none' };

/** Phase 6 analytics: time of day, geography, user journeys, over the time picker's range. */
export function analyticsDashboard(config: MixinConfig): Dashboard {
  const VARS = panelMatchers(config, 'lookup');
  const w = GRAFANA_TIME_WINDOW;
  const p = new Panels(config);
  const rollup = 'from the hourly rollup, whole hours of the selected time range';
  p.heatmap('Lookups by hour of day (UTC)', `Lookups per hour of day (rows) and day (columns), ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 0, y: 0, w: 24, h: 9 }, HEATMAP_SQL);
  p.sqlTable(analyticsTitles.patterns, `Lookups, average and p95 time, failure and fallback rates by ISO day of week (1 = Monday) and hour, ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 0, y: 9, w: 12, h: 10 }, {
    sql: patternsSql(w, "'UTC'"),
    unit: 'short',
    units: FIGURE_UNITS,
  });
  p.sqlTable(analyticsTitles.regions, `The same figures by the region the SDK reported, ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 12, y: 9, w: 12, h: 10 }, { sql: regionsSql(w), unit: 'short', units: FIGURE_UNITS });
  p.geomap('Lookups by region (map)', `Regions that are ISO 3166 country codes, sized by lookups and coloured by average time, ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 0, y: 19, w: 12, h: 10 }, regionsSql(w));
  p.timeseries('Lookups per second by region', 'The metrics\' region label: known regions by name, the rest as other (bounded cardinality).', { x: 12, y: 19, w: 12, h: 10 }, {
    unit: 'reqps',
    exprs: [{ expr: `sum by (region) (rate(${PROMETHEUS_NAMES.lookups}{${VARS}}[$__rate_interval]))`, legend: '{{region}}' }],
  });
  p.sqlTable(analyticsTitles.journeys, `Wizard sessions that saw a lookup failure or fallback against clean ones: submissions and the median time to submit, from the daily journey rollup (whole UTC days). ${ROLLUP_FRESHNESS}`, { x: 0, y: 29, w: 12, h: 6 }, {
    sql: journeyComparisonSql(w),
    unit: 'short',
    units: { submission_rate: 'percent', median_seconds_to_submit_at_most: 's' },
  });
  p.sqlTable(analyticsTitles.costliest, `Services whose failures or fallbacks cost the most submissions, against the clean sessions' submission rate (whole UTC days). ${ROLLUP_FRESHNESS}`, { x: 12, y: 29, w: 12, h: 10 }, {
    sql: costliestServicesSql(w),
    unit: 'short',
    units: { submission_rate: 'percent' },
  });
  return dashboard(config, {
    uid: 'uuid-lookup-analytics',
    title: 'UUID lookup analytics',
    description: 'Lookup patterns by time of day, by region, and user journeys (spec: Future Enhancements, Advanced Analytics).',
    jobMetric: PROMETHEUS_NAMES.lookups,
    jobs: [config.lookupJob],
    targets: ['lookup'],
    panels: p,
  });
}
