import type { Dashboard, DataSourceRef, FieldColorModeId, Panel, ThresholdsConfig, ThresholdsMode } from '@grafana/schema';
import { PROMETHEUS_NAMES, recordingRuleNames } from '../contract/metrics.ts';
import { migrationMetricName, WORKER_METRIC_NAMES } from '../contract/migration.ts';
import type { Threshold } from '../contract/thresholds.ts';
import { thresholdFor } from '../contract/thresholds.ts';
import type { MixinConfig } from './mixin-config.ts';
import { analyticsPanelQueries } from '../contract/analytics-queries.ts';
import type { SpecQueryName } from '../contract/spec-queries.ts';
import { specQueries } from '../contract/spec-queries.ts';

/** Datasource uids the provisioning files give the two datasources. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
export const POSTGRES: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'postgres' };

/** Grafana thresholds (green / orange / red) from a row of the table, in the panel's unit. */
function steps(key: Threshold['key'], scale: number): ThresholdsConfig {
  const t = thresholdFor(key);
  return {
    // Type-only imports keep @grafana/schema a build-time check; its enums hold these strings.
    mode: 'absolute' as ThresholdsMode,
    steps: [
      { color: 'green', value: null as unknown as number },
      { color: 'orange', value: t.warning * scale },
      { color: 'red', value: t.critical * scale },
    ],
  };
}

interface PanelOptions {
  title: string;
  x: number;
  y: number;
  w: number;
  h: number;
  description?: string;
}

let nextId = 1;

function base(o: PanelOptions): Pick<Panel, 'id' | 'title' | 'gridPos' | 'description'> {
  return { id: nextId++, title: o.title, gridPos: { x: o.x, y: o.y, w: o.w, h: o.h }, ...(o.description ? { description: o.description } : {}) };
}

function promTargets(exprs: { expr: string; legend: string; instant?: boolean; table?: boolean }[]) {
  return exprs.map((e, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: PROMETHEUS,
    expr: e.expr,
    legendFormat: e.legend,
    ...(e.instant ? { instant: true, range: false } : { range: true }),
    ...(e.table ? { format: 'table' } : {}),
  }));
}

function stat(o: PanelOptions & { expr: string; unit: string; key?: Threshold['key']; scale?: number }): Panel {
  return {
    ...base(o),
    type: 'stat',
    datasource: PROMETHEUS,
    targets: promTargets([{ expr: o.expr, legend: o.title }]),
    fieldConfig: {
      defaults: { unit: o.unit, ...(o.key ? { thresholds: steps(o.key, o.scale ?? 1), color: { mode: 'thresholds' as FieldColorModeId } } : {}) },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' },
  };
}

function timeseries(
  o: PanelOptions & { exprs: { expr: string; legend: string }[]; unit: string; key?: Threshold['key']; scale?: number },
): Panel {
  return {
    ...base(o),
    type: 'timeseries',
    datasource: PROMETHEUS,
    targets: promTargets(o.exprs),
    fieldConfig: {
      defaults: {
        unit: o.unit,
        // The spec's warning and critical lines, drawn on the graph.
        ...(o.key ? { thresholds: steps(o.key, o.scale ?? 1), custom: { thresholdsStyle: { mode: 'line+area' } } } : {}),
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] }, tooltip: { mode: 'multi' } },
  };
}

function promTable(o: PanelOptions & { exprs: { expr: string; legend: string }[] }): Panel {
  return {
    ...base(o),
    type: 'table',
    datasource: PROMETHEUS,
    targets: promTargets(o.exprs.map((e) => ({ ...e, instant: true, table: true }))),
    transformations: [{ id: 'merge', options: {} }],
    fieldConfig: { defaults: {}, overrides: [] },
    options: { showHeader: true },
  };
}

function sqlPanel(o: PanelOptions & { sql: string; type?: string; options?: Record<string, unknown> }): Panel {
  return {
    ...base(o),
    type: o.type ?? 'table',
    datasource: POSTGRES,
    targets: [{ refId: 'A', datasource: POSTGRES, rawSql: o.sql, format: 'table', rawQuery: true, editorMode: 'code' }],
    fieldConfig: { defaults: {}, overrides: [] },
    options: o.options ?? { showHeader: true },
  };
}

function sqlTable(o: PanelOptions & { query: SpecQueryName }): Panel {
  const { sql } = specQueries[o.query];
  return sqlPanel({ ...o, sql, description: o.description ?? `The spec's query, run on PostgreSQL:\n\n${sql}` });
}

/**
 * Lookups per hour of day (rows) and day (columns) from the hourly rollup, one
 * field per hour: the "rows" layout Grafana's heatmap reads without calculating.
 */
export const HEATMAP_SQL = `SELECT date_trunc('day', bucket) AS time,
${Array.from({ length: 24 }, (_, h) => `  sum(lookups) FILTER (WHERE extract(hour FROM bucket) = ${h}) AS "${String(h).padStart(2, '0')}"`).join(',\n')}
FROM public.analytics_lookup_hourly
WHERE bucket >= now() - interval '30 days'
GROUP BY 1
ORDER BY 1`;

function alertList(o: PanelOptions): Panel {
  return {
    ...base(o),
    type: 'alertlist',
    options: { viewMode: 'list', groupMode: 'default', maxItems: 20, sortOrder: 1, stateFilter: { firing: true, pending: true, noData: true, error: true, normal: false }, alertInstanceLabelFilter: '', alertName: 'Uuid', dashboardAlerts: false },
  };
}

function dashboard(uid: string, title: string, description: string, panels: Panel[]): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['uuid-lookup'],
    timezone: 'browser',
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    panels,
  } as Dashboard;
}

/** The lookup performance dashboard. */
export function lookupDashboard(config: MixinConfig): Dashboard {
  nextId = 1;
  const w = config.window;
  const names = recordingRuleNames(w);
  const sel = `job="${config.lookupJob}"`;
  const q = (p: number) =>
    `histogram_quantile(${p}, sum by (le) (rate(${PROMETHEUS_NAMES.lookupDuration}_bucket{${sel}}[${w}])))`;
  return dashboard('uuid-lookup-performance', 'UUID lookups', 'Slug-to-UUID lookups of the booking wizard: latency, failures, fallbacks (spec: Monitoring Dashboard Queries).', [
    stat({ title: 'Lookups per second', x: 0, y: 0, w: 6, h: 4, expr: names.lookupsRate, unit: 'reqps' }),
    stat({ title: 'Average lookup time', x: 6, y: 0, w: 6, h: 4, expr: names.durationAvg, unit: 's', key: 'lookup_latency', scale: 1 / 1000 }),
    stat({ title: 'Failure rate', x: 12, y: 0, w: 6, h: 4, expr: names.failureRatio, unit: 'percentunit', key: 'lookup_failure_rate', scale: 1 / 100 }),
    stat({ title: 'Fallback rate', x: 18, y: 0, w: 6, h: 4, expr: names.fallbackRatio, unit: 'percentunit', key: 'lookup_fallback_rate', scale: 1 / 100 }),
    timeseries({
      title: 'Lookup time: average, p50, p95, p99',
      x: 0, y: 4, w: 12, h: 9,
      unit: 's',
      key: 'lookup_latency',
      scale: 1 / 1000,
      exprs: [
        { expr: names.durationAvg, legend: 'average' },
        { expr: q(0.5), legend: 'p50' },
        { expr: q(0.95), legend: 'p95' },
        { expr: q(0.99), legend: 'p99' },
      ],
    }),
    timeseries({
      title: 'Failure and fallback rates',
      x: 12, y: 4, w: 12, h: 9,
      unit: 'percentunit',
      key: 'lookup_failure_rate',
      scale: 1 / 100,
      exprs: [
        { expr: names.failureRatio, legend: 'failure rate' },
        { expr: names.fallbackRatio, legend: 'fallback rate' },
      ],
    }),
    promTable({
      title: 'By service (last 5 minutes)',
      x: 0, y: 13, w: 12, h: 9,
      exprs: [
        { expr: `sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookups}{${sel}}[${w}]))`, legend: 'lookups/s' },
        { expr: `sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookupDuration}_sum{${sel}}[${w}])) / sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookupDuration}_count{${sel}}[${w}]))`, legend: 'avg seconds' },
        { expr: `sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookups}{${sel},outcome="failure"}[${w}])) / sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookups}{${sel}}[${w}]))`, legend: 'failure ratio' },
        { expr: `sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookups}{${sel},fallback="true"}[${w}])) / sum by (micro_slug) (rate(${PROMETHEUS_NAMES.lookups}{${sel}}[${w}]))`, legend: 'fallback ratio' },
      ],
    }),
    timeseries({
      title: 'Events dropped by the SDK, by reason',
      x: 12, y: 13, w: 12, h: 9,
      unit: 'short',
      exprs: [{ expr: `sum by (reason) (increase(${PROMETHEUS_NAMES.eventsDropped}{${sel}}[${w}]))`, legend: '{{reason}}' }],
    }),
    sqlTable({
      title: specQueries.lookupPerformanceRollup.title,
      x: 0, y: 22, w: 12, h: 9,
      query: 'lookupPerformanceRollup',
      description: `The spec's lookup performance by service, from the hourly rollup per service (whole hours; slugs with no service as __unknown__):\n\n${specQueries.lookupPerformanceRollup.sql}`,
    }),
    sqlTable({ title: specQueries.slowLookups.title, x: 12, y: 22, w: 12, h: 9, query: 'slowLookups' }),
    alertList({ title: 'Firing alerts', x: 0, y: 31, w: 24, h: 6 }),
  ]);
}

/** The migration progress dashboard. */
export function migrationDashboard(config: MixinConfig): Dashboard {
  nextId = 1;
  const mig = `job="${config.migrationJob}"`;
  const names = recordingRuleNames(config.window);
  return dashboard('uuid-migration-progress', 'UUID migration', 'Back-fill of jobs.micro_uuid: progress, outcomes, failures (spec: Migration System, Operational Procedures).', [
    stat({ title: 'Completion', x: 0, y: 0, w: 6, h: 4, expr: `${migrationMetricName('completion_percentage')}{${mig}}`, unit: 'percent' }),
    stat({ title: 'Jobs without UUID', x: 6, y: 0, w: 6, h: 4, expr: `${migrationMetricName('jobs_without_uuid')}{${mig}}`, unit: 'short' }),
    stat({ title: 'Total jobs', x: 12, y: 0, w: 6, h: 4, expr: `${migrationMetricName('total_jobs')}{${mig}}`, unit: 'short' }),
    stat({ title: 'Migration failure rate', x: 18, y: 0, w: 6, h: 4, expr: names.migrationFailureRatio, unit: 'percentunit', key: 'migration_failure_rate', scale: 1 / 100 }),
    timeseries({
      title: 'Jobs with and without UUID',
      x: 0, y: 4, w: 12, h: 9,
      unit: 'short',
      exprs: [
        { expr: `${migrationMetricName('jobs_with_uuid')}{${mig}}`, legend: 'with UUID' },
        { expr: `${migrationMetricName('jobs_without_uuid')}{${mig}}`, legend: 'without UUID' },
      ],
    }),
    timeseries({
      title: 'Throughput (jobs per second, by outcome)',
      x: 12, y: 4, w: 12, h: 9,
      unit: 'short',
      exprs: [
        { expr: `deriv(${migrationMetricName('successful_migrations')}{${mig}}[${config.window}])`, legend: 'success' },
        { expr: `deriv(${migrationMetricName('skipped_migrations')}{${mig}}[${config.window}])`, legend: 'skipped' },
        { expr: `deriv(${migrationMetricName('failed_migrations')}{${mig}}[${config.window}])`, legend: 'failed' },
      ],
    }),
    sqlTable({ title: specQueries.migrationStats.title, x: 0, y: 13, w: 24, h: 4, query: 'migrationStats' }),
    sqlTable({ title: specQueries.migrationProgress.title, x: 0, y: 17, w: 8, h: 8, query: 'migrationProgress' }),
    sqlTable({ title: specQueries.failuresByError.title, x: 8, y: 17, w: 8, h: 8, query: 'failuresByError' }),
    sqlTable({ title: specQueries.missingServices.title, x: 16, y: 17, w: 8, h: 8, query: 'missingServices' }),
    sqlTable({ title: specQueries.failedJobs.title, x: 0, y: 25, w: 12, h: 8, query: 'failedJobs' }),
    sqlTable({ title: specQueries.reviewFailures.title, x: 12, y: 25, w: 12, h: 8, query: 'reviewFailures' }),
    alertList({ title: 'Firing alerts', x: 0, y: 33, w: 24, h: 6 }),
    ...workerRow(config, 39),
  ]);
}

/**
 * The scheduled worker, as batched background migration frameworks show theirs:
 * jobs processed per minute, the time left at that pace, runs by result, and
 * how long since a run last succeeded.
 */
function workerRow(config: MixinConfig, y: number): Panel[] {
  if (config.workerJob === '') return [];
  const worker = `job="${config.workerJob}"`;
  const mig = `job="${config.migrationJob}"`;
  const w = config.window;
  const perMinute = `sum(rate(${WORKER_METRIC_NAMES.jobs}{${worker}}[${w}])) * 60`;
  const pending =
    `(sum(${migrationMetricName('jobs_without_uuid')}{${mig}}) - sum(${migrationMetricName('skipped_migrations')}{${mig}})` +
    ` - sum(${migrationMetricName('failed_migrations')}{${mig}}))`;
  return [
    timeseries({
      title: 'Worker: jobs processed per minute, by outcome',
      x: 0, y, w: 12, h: 8,
      unit: 'short',
      exprs: [{ expr: `sum by (status) (rate(${WORKER_METRIC_NAMES.jobs}{${worker}}[${w}])) * 60`, legend: '{{status}}' }],
    }),
    stat({ title: 'Worker: time left at this pace', x: 12, y, w: 6, h: 4, expr: `${pending} / (${perMinute} / 60)`, unit: 's' }),
    stat({ title: 'Worker: since the last successful run', x: 18, y, w: 6, h: 4, expr: `time() - max(${WORKER_METRIC_NAMES.lastSuccess}{${worker}})`, unit: 's' }),
    timeseries({
      title: 'Worker: runs by kind and result',
      x: 12, y: y + 4, w: 12, h: 4,
      unit: 'short',
      exprs: [{ expr: `sum by (kind, result) (increase(${WORKER_METRIC_NAMES.runs}{${worker}}[${w}]))`, legend: '{{kind}} {{result}}' }],
    }),
  ];
}

/** Phase 6 analytics: time of day, geography, user journeys. */
export function analyticsDashboard(config: MixinConfig): Dashboard {
  nextId = 1;
  const sel = `job="${config.lookupJob}"`;
  const q = analyticsPanelQueries;
  return dashboard('uuid-lookup-analytics', 'UUID lookup analytics', 'Lookup patterns by time of day, by region, and user journeys (spec: Future Enhancements, Advanced Analytics).', [
    sqlPanel({
      title: 'Lookups by hour of day (UTC), last 30 days',
      x: 0, y: 0, w: 24, h: 9,
      type: 'heatmap',
      sql: HEATMAP_SQL,
      options: { calculate: false, yAxis: { axisLabel: 'hour of day (UTC)' }, rowsFrame: { layout: 'auto' }, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges', steps: 64 }, tooltip: { mode: 'single', yHistogram: false } },
    }),
    sqlPanel({ title: q.patterns.title, x: 0, y: 9, w: 12, h: 10, sql: q.patterns.sql }),
    sqlPanel({ title: q.regions.title, x: 12, y: 9, w: 12, h: 10, sql: q.regions.sql }),
    sqlPanel({
      title: 'Lookups by region (map; region codes that are ISO 3166 country codes)',
      x: 0, y: 19, w: 12, h: 10,
      type: 'geomap',
      sql: q.regions.sql,
      options: {
        view: { id: 'zero', lat: 30, lon: 10, zoom: 1 },
        layers: [{ type: 'markers', name: 'regions', location: { mode: 'lookup', lookup: 'region', gazetteer: 'public/gazetteer/countries.json' }, config: { size: { field: 'lookups', min: 3, max: 30 }, color: { field: 'avg_ms' } } }],
      },
    }),
    timeseries({
      title: 'Lookups per second by region (Prometheus label: known regions, else other)',
      x: 12, y: 19, w: 12, h: 10,
      unit: 'reqps',
      exprs: [{ expr: `sum by (region) (rate(${PROMETHEUS_NAMES.lookups}{${sel}}[${config.window}]))`, legend: '{{region}}' }],
    }),
    sqlPanel({ title: q.journeys.title, x: 0, y: 29, w: 12, h: 6, sql: q.journeys.sql }),
    sqlPanel({ title: q.costliest.title, x: 12, y: 29, w: 12, h: 10, sql: q.costliest.sql }),
  ]);
}
