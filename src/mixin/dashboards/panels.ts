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
import type { SqlWindow } from '../../contract/analytics-queries.ts';
import type { MixinConfig, ThresholdKey } from '../mixin-config.ts';
import { thresholdOf } from '../signals.ts';
import type { Target } from '../selectors.ts';
import { extraMatchers, matcherList } from '../selectors.ts';

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
export function panelMatchers(config: MixinConfig, target: Target | null, perInstance = true): string {
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

export interface Place {
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

/** `selector` (a metric name or a `{…}` selector) narrowed by `matchers`. */
function withMatchers(selector: string, matchers: string[]): string {
  if (matchers.length === 0) return selector;
  return selector.endsWith('}') ? `${selector.slice(0, -1)},${matchers.join(',')}}` : `${selector}{${matchers.join(',')}}`;
}

const unitOverride = (unit: string): DynamicConfigValue[] => [{ id: 'unit', value: unit }];

/** Panel ids in order of appearance, per dashboard: stable, so links to a panel keep working. */
export class Panels {
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

export function dashboard(
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
  // The clusters, jobs and instances offered: in the selected clusters, and of the extra matchers
  // every target of the dashboard has (the migration dashboard reads the exporter and the worker).
  const cluster = config.showMultiCluster ? [`${config.clusterLabel}=~"$cluster"`] : [];
  const [first = [], ...rest] = o.targets.map((t) => matcherList(config, t));
  const shared = first.filter((m) => rest.every((other) => other.includes(m)));
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

/** Where the alerts stand: the rules' state and what Alertmanager routes. */
export function alertPanels(p: Panels, y: number): void {
  p.alertList('Alert rules: firing and pending', "The UUID alert rules Prometheus evaluates that are firing or pending, through the Prometheus datasource.", { x: 0, y, w: 12, h: 7 });
  p.alertGroups('Alertmanager: active alert groups', 'The UUID alerts Alertmanager holds now, as it groups them for paging and tickets (silenced and inhibited ones marked).', { x: 12, y, w: 12, h: 7 });
}

/** How fresh the rollup panels are (migration 20261129000600). */
export const ROLLUP_FRESHNESS =
  'New events reach the rollups in folds: one insert in 32 folds, and the Postgres exporter folds what is pending on every scrape, so the panel is a scrape interval behind the events at most, unless a long transaction holds the fold (uuid_lookup_rollups_fold_skipped).';
