import { LOOKUP_DURATION_BUCKETS_MS } from '../contract/metrics.ts';
import type { Threshold } from '../contract/thresholds.ts';
import { MIN_LOOKUPS, thresholdFor, thresholds } from '../contract/thresholds.ts';
import type { Target } from './selectors.ts';
import { parseMatchers, seriesLabels } from './selectors.ts';

export type ThresholdKey = Threshold['key'];

/** A threshold row's limits, in the table's unit (ms or %). Breached when strictly greater. */
export interface ThresholdLimits {
  warning: number;
  critical: number;
}

/**
 * The one configuration the monitoring files are rendered from (the
 * "monitoring mixin" pattern, as kubernetes-mixin's `_config`): scrape jobs,
 * thresholds, windows, guards, durations, datasources and where links point.
 * `resolveMixinConfig` fills what a user leaves out from `defaultMixinConfig`.
 */
export interface MixinConfig {
  /** Prometheus job that exposes the SDK's metrics (the collector, or an app's pull endpoint). */
  lookupJob: string;
  /** Prometheus job of the Postgres exporter with the uuid_migration_* metrics. */
  migrationJob: string;
  /** Prometheus job of the scheduled migration worker (`uuid-lookup worker`); '' when none runs (no worker alerts or row). */
  workerJob: string;
  /**
   * Prometheus job of the OpenTelemetry Collector's own metrics (its port 8888), where it
   * counts the lookup points it refused; '' when the lookups do not pass a collector.
   */
  collectorJob: string;
  /**
   * Label matchers beside `job` that each target's series must match, as kubernetes-mixin's
   * selectors: `namespace="bookings"`, `env=~"prod|staging"`; '' for none. The rules, the
   * rule tests and the dashboards' queries all carry them.
   */
  selectors: Record<Target, string>;
  /**
   * The label that tells clusters apart (kubernetes-mixin's clusterLabel). The rules aggregate
   * by it beside job, so each cluster's series are judged, and alert, alone; on series without
   * it they aggregate as by job.
   */
  clusterLabel: string;
  /** The dashboards get a $cluster variable and select by it (kubernetes-mixin's showMultiCluster). */
  showMultiCluster: boolean;
  /** The worker is stalled when never-attempted jobs remain and it processed none for this long. */
  stalledAfter: string;
  /** A back-fill run held by the database's health this long is worth a look (UuidMigrationRunHeldLong). */
  runHeldAfter: string;
  /** A run whose runner wrote no heartbeat for this long is taken for dead (UuidMigrationRunSilent). */
  runSilentAfter: string;
  /** Rate window of the recording rules and alerts. */
  window: string;
  /** Fewer lookups than this in the window is "no traffic", never a breach. */
  minLookups: number;
  /** Fewer attempted migrations than this is "nothing to judge". */
  minMigrationAttempts: number;
  /** Warning and critical limits by row of the spec's table (ms, %); the spec's values by default. */
  thresholds: Record<ThresholdKey, ThresholdLimits>;
  /** How long a breach must last before the alert fires, by severity: no flapping on one bad scrape. */
  forDuration: { warning: string; critical: string; absent: string };
  /** The runbook's absolute URL (http or https); each alert links to its section. */
  runbookUrl: string;
  /** Rule evaluation interval of the generated groups. */
  evaluationInterval: string;
  /**
   * Service level objectives beside the thresholds (src/mixin/slo-rules.ts): recording
   * rules of the error ratios and budget, multiwindow multi-burn-rate alerts.
   */
  slo: {
    /** false: no SLO rules, alerts or dashboard row. */
    enabled: boolean;
    /** The period the objectives and the error budget cover (Prometheus must keep this much: --storage.tsdb.retention.time). */
    period: string;
    /** % of lookups that must be faster than latencyMs. */
    latencyObjective: number;
    /** A bucket bound of the SDK's histogram (ms): 5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000. */
    latencyMs: number;
    /** % of lookups that must not fail. */
    availabilityObjective: number;
  };
  /** Grafana: datasource uids (the dashboards' datasource variables default to them), folder, alerting. */
  grafana: {
    prometheusUid: string;
    postgresUid: string;
    /** The Alertmanager datasource, by uid and by the name the alert-groups panel takes. */
    alertmanagerUid: string;
    alertmanagerName: string;
    /** Folder of the dashboards and of Grafana-managed alert rules. */
    folder: string;
    /**
     * false (the default): one alerting path, Prometheus rules through Alertmanager;
     * Grafana shows their state. true: Grafana-managed alert rules too, with their
     * own contact points and a notification policy that routes by severity.
     */
    managedAlerts: boolean;
    /** Webhook URLs of the Grafana contact points; Grafana expands `$VAR` from its environment. */
    criticalWebhookUrl: string;
    warningWebhookUrl: string;
  };
  /**
   * Per alert, by name: turn it off (`enabled: false`), set the severity of an alert that
   * has one, add labels (routing, team), or link a dashboard (`dashboardUrl`, the
   * `dashboard_url` annotation). The rules, their promtool tests and Grafana-managed
   * alerting follow.
   */
  alerts: Record<string, AlertCustomisation>;
  /**
   * `mixin render --format operator`: what a prometheus-operator user applies (a
   * PrometheusRule, ServiceMonitors, one ConfigMap per dashboard for Grafana's sidecar).
   * The label maps replace the defaults whole.
   */
  operator: {
    /** Namespace of every object. */
    namespace: string;
    /** Labels the Prometheus's ruleSelector selects: kube-prometheus-stack `release: <release>`, kube-prometheus `prometheus: k8s, role: alert-rules`. */
    ruleLabels: Record<string, string>;
    /** Labels the Prometheus's serviceMonitorSelector selects. */
    serviceMonitorLabels: Record<string, string>;
    /** The Grafana sidecar's label on dashboard ConfigMaps (its `sidecar.dashboards.label`). */
    dashboardLabels: Record<string, string>;
    /** The annotation the sidecar takes the folder from (`sidecar.dashboards.folderAnnotation`), set to grafana.folder; '' for none. */
    dashboardFolderAnnotation: string;
    /** The Services the ServiceMonitors select, by label, and their ports by name. */
    collectorSelector: Record<string, string>;
    /** The collector's Prometheus exporter (8889): the lookups, scraped as lookupJob. */
    collectorMetricsPort: string;
    /** The collector's own metrics (8888), scraped as collectorJob. */
    collectorTelemetryPort: string;
    exporterSelector: Record<string, string>;
    exporterPort: string;
    workerSelector: Record<string, string>;
    workerPort: string;
  };
}

/** What the configuration may change of one alert. */
export interface AlertCustomisation {
  enabled?: boolean;
  severity?: 'warning' | 'critical';
  labels?: Record<string, string>;
  dashboardUrl?: string;
}

/**
 * Every alert the mixin renders (with a worker, a collector and the SLOs): what
 * `alerts` may name. The threshold and burn-rate alerts fire at two severities.
 */
export const ALERT_NAMES = Object.freeze({
  UuidLookupLatencyHigh: 'two',
  UuidLookupFailureRateHigh: 'two',
  UuidLookupFallbackRateHigh: 'two',
  UuidMigrationFailureRateHigh: 'two',
  UuidLookupMetricsTargetDown: 'one',
  UuidMigrationExporterDown: 'one',
  UuidMigrationStatsAbsent: 'one',
  UuidLookupRollupsFoldHeld: 'one',
  UuidMigrationRunHeldLong: 'one',
  UuidMigrationRunSilent: 'one',
  UuidLookupMetricsRefused: 'one',
  UuidMigrationWorkerDown: 'one',
  UuidMigrationStalled: 'one',
  UuidLookupLatencyBudgetBurn: 'two',
  UuidLookupAvailabilityBudgetBurn: 'two',
} as const satisfies Record<string, 'one' | 'two'>);

/**
 * The runbook in the project's repository (package.json `repository`), on the
 * default branch: a test holds the two together.
 */
export const DEFAULT_RUNBOOK_URL = 'https://github.com/uuid-lookup/uuid-lookup-observability/blob/main/docs/runbook.md';

const specThresholds = Object.fromEntries(thresholds.map((t) => [t.key, { warning: t.warning, critical: t.critical }])) as Record<
  ThresholdKey,
  ThresholdLimits
>;

export const defaultMixinConfig: MixinConfig = Object.freeze({
  lookupJob: 'uuid-lookup',
  migrationJob: 'uuid-migration',
  workerJob: 'uuid-migration-worker',
  collectorJob: 'otel-collector',
  selectors: { lookup: '', migration: '', worker: '', collector: '' },
  clusterLabel: 'cluster',
  showMultiCluster: false,
  stalledAfter: '30m',
  runHeldAfter: '30m',
  runSilentAfter: '15m',
  window: '5m',
  minLookups: MIN_LOOKUPS,
  minMigrationAttempts: 1,
  thresholds: specThresholds,
  forDuration: { warning: '10m', critical: '5m', absent: '15m' },
  runbookUrl: DEFAULT_RUNBOOK_URL,
  evaluationInterval: '30s',
  slo: { enabled: true, period: '30d', latencyObjective: 99, latencyMs: 100, availabilityObjective: 99 },
  grafana: {
    prometheusUid: 'prometheus',
    postgresUid: 'postgres',
    alertmanagerUid: 'alertmanager',
    alertmanagerName: 'Alertmanager',
    folder: 'UUID lookup',
    managedAlerts: false,
    criticalWebhookUrl: '$UUID_LOOKUP_CRITICAL_WEBHOOK_URL',
    warningWebhookUrl: '$UUID_LOOKUP_WARNING_WEBHOOK_URL',
  },
  alerts: {},
  operator: {
    namespace: 'monitoring',
    ruleLabels: { release: 'kube-prometheus-stack' },
    serviceMonitorLabels: { release: 'kube-prometheus-stack' },
    dashboardLabels: { grafana_dashboard: '1' },
    dashboardFolderAnnotation: 'grafana_folder',
    collectorSelector: { 'app.kubernetes.io/name': 'otel-collector' },
    collectorMetricsPort: 'prometheus',
    collectorTelemetryPort: 'metrics',
    exporterSelector: { 'app.kubernetes.io/name': 'prometheus-postgres-exporter' },
    exporterPort: 'http',
    workerSelector: { 'app.kubernetes.io/name': 'uuid-lookup-worker' },
    workerPort: 'metrics',
  },
});

/** Keys whose value is a map of the user's own keys (Kubernetes labels): given, it replaces the default whole. */
const FREE_MAPS = new Set(['operator.ruleLabels', 'operator.serviceMonitorLabels', 'operator.dashboardLabels', 'operator.collectorSelector', 'operator.exporterSelector', 'operator.workerSelector']);

/** A configuration as a user writes it: any part may be left out. */
export type MixinConfigInput = {
  [K in keyof MixinConfig]?: MixinConfig[K] extends Record<string, unknown> ? { [P in keyof MixinConfig[K]]?: MixinConfig[K][P] } : MixinConfig[K];
};

const PROMETHEUS_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const JOB_NAME = /^[^"\\\n]+$/;

/** The configuration's problem, as one line that names the key. */
export class MixinConfigError extends Error {
  override name = 'MixinConfigError';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(path: string, base: Record<string, unknown>, input: unknown): Record<string, unknown> {
  if (input === undefined) return { ...base };
  if (!isPlainObject(input)) throw new MixinConfigError(`${path || 'the configuration'} must be an object`);
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(input)) {
    const where = path ? `${path}.${key}` : key;
    if (!(key in base)) throw new MixinConfigError(`unknown key ${where} (known: ${Object.keys(base).join(', ')})`);
    const known = base[key];
    if (where === 'alerts') result[key] = alertCustomisations(value);
    else if (FREE_MAPS.has(where)) result[key] = labelMap(where, value);
    else if (isPlainObject(known)) result[key] = merge(where, known, value);
    else if (typeof value !== typeof known) throw new MixinConfigError(`${where} must be a ${typeof known}, got ${JSON.stringify(value)}`);
    else result[key] = value;
  }
  return result;
}

// Kubernetes label syntax: an optional DNS subdomain prefix and a name of at most 63
// characters; values of at most 63 characters, possibly empty.
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function labelMap(where: string, value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw new MixinConfigError(`${where} must be a map of Kubernetes labels, got ${JSON.stringify(value)}`);
  for (const [name, v] of Object.entries(value)) {
    if (!LABEL_NAME.test(name) || name.length > 317) throw new MixinConfigError(`${where}: ${JSON.stringify(name)} is not a Kubernetes label name`);
    if (typeof v !== 'string' || !LABEL_VALUE.test(v)) throw new MixinConfigError(`${where}.${name} must be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.'), got ${JSON.stringify(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

function alertCustomisations(value: unknown): Record<string, AlertCustomisation> {
  if (!isPlainObject(value)) throw new MixinConfigError(`alerts must be a map from alert names to their changes, got ${JSON.stringify(value)}`);
  const result: Record<string, AlertCustomisation> = {};
  for (const [alert, change] of Object.entries(value)) {
    const where = `alerts.${alert}`;
    const severities = (ALERT_NAMES as Record<string, 'one' | 'two'>)[alert];
    if (severities === undefined) throw new MixinConfigError(`unknown alert ${where} (known: ${Object.keys(ALERT_NAMES).join(', ')})`);
    if (!isPlainObject(change)) throw new MixinConfigError(`${where} must be an object (enabled, severity, labels, dashboardUrl)`);
    const known = ['enabled', 'severity', 'labels', 'dashboardUrl'];
    for (const key of Object.keys(change)) if (!known.includes(key)) throw new MixinConfigError(`unknown key ${where}.${key} (known: ${known.join(', ')})`);
    const c = change as Record<string, unknown>;
    if (c.enabled !== undefined && typeof c.enabled !== 'boolean') throw new MixinConfigError(`${where}.enabled must be true or false`);
    if (c.severity !== undefined) {
      if (c.severity !== 'warning' && c.severity !== 'critical') throw new MixinConfigError(`${where}.severity must be warning or critical, got ${JSON.stringify(c.severity)}`);
      if (severities === 'two') throw new MixinConfigError(`${where}.severity: ${alert} fires at both severities, each at its own limit; change the limits instead`);
    }
    if (c.labels !== undefined && !isPlainObject(c.labels)) throw new MixinConfigError(`${where}.labels must be a map of label names to values`);
    const labels = c.labels === undefined ? undefined : { ...(c.labels as Record<string, unknown>) };
    for (const [name, v] of Object.entries(labels ?? {})) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__')) throw new MixinConfigError(`${where}.labels: ${JSON.stringify(name)} is not a Prometheus label name`);
      if (['severity', 'alertname', 'job'].includes(name)) throw new MixinConfigError(`${where}.labels.${name}: the mixin sets ${name} itself${name === 'severity' ? ' (use severity)' : ''}`);
      if (typeof v !== 'string' || v === '' || v.includes('\n')) throw new MixinConfigError(`${where}.labels.${name} must be a one-line, non-empty string, got ${JSON.stringify(v)}`);
    }
    if (c.dashboardUrl !== undefined && (typeof c.dashboardUrl !== 'string' || !/^https?:\/\/\S+$/.test(c.dashboardUrl))) {
      throw new MixinConfigError(`${where}.dashboardUrl must be an absolute http(s) URL, got ${JSON.stringify(c.dashboardUrl)}`);
    }
    result[alert] = {
      ...(c.enabled === undefined ? {} : { enabled: c.enabled as boolean }),
      ...(c.severity === undefined ? {} : { severity: c.severity as 'warning' | 'critical' }),
      ...(labels === undefined ? {} : { labels: labels as Record<string, string> }),
      ...(c.dashboardUrl === undefined ? {} : { dashboardUrl: c.dashboardUrl as string }),
    };
  }
  return result;
}

/**
 * The full configuration from a user's partial one, checked: unknown keys
 * (a typo would silently keep a default), wrong types, durations Prometheus
 * does not parse, warning not below critical, a relative runbook URL and job
 * names that would break a selector are refused with a `MixinConfigError`.
 */
export function resolveMixinConfig(input: unknown = {}): MixinConfig {
  const config = merge('', defaultMixinConfig as unknown as Record<string, unknown>, input) as unknown as MixinConfig;
  const durations: [string, string][] = [
    ['window', config.window],
    ['stalledAfter', config.stalledAfter],
    ['runHeldAfter', config.runHeldAfter],
    ['runSilentAfter', config.runSilentAfter],
    ['evaluationInterval', config.evaluationInterval],
    ['slo.period', config.slo.period],
    ...Object.entries(config.forDuration).map(([k, v]): [string, string] => [`forDuration.${k}`, v]),
  ];
  for (const [key, value] of durations) {
    if (!PROMETHEUS_DURATION.test(value)) throw new MixinConfigError(`${key} must be a Prometheus duration such as 5m or 1h30m, got ${JSON.stringify(value)}`);
  }
  // A rate needs samples to work on: at least a minute (four 15 s scrapes, Prometheus's rule of thumb).
  if (durationSeconds(config.window) < 60) throw new MixinConfigError(`window must be at least 1m (four scrapes at 15 s), got ${JSON.stringify(config.window)}`);
  for (const key of ['lookupJob', 'migrationJob'] as const) {
    if (!JOB_NAME.test(config[key])) throw new MixinConfigError(`${key} must be a job name (no quotes, backslashes or newlines), got ${JSON.stringify(config[key])}`);
  }
  for (const [key, none] of [['workerJob', 'no worker'], ['collectorJob', 'no collector']] as const) {
    if (config[key] !== '' && !JOB_NAME.test(config[key])) {
      throw new MixinConfigError(`${key} must be a job name or '' (${none}), got ${JSON.stringify(config[key])}`);
    }
  }
  checkSelectors(config);
  for (const key of ['minLookups', 'minMigrationAttempts'] as const) {
    if (!Number.isFinite(config[key]) || config[key] < 0) throw new MixinConfigError(`${key} must be a number ≥ 0, got ${config[key]}`);
  }
  for (const [key, limits] of Object.entries(config.thresholds)) {
    const { warning, critical } = limits;
    if (!Number.isFinite(warning) || !Number.isFinite(critical) || warning <= 0 || critical <= 0) {
      throw new MixinConfigError(`thresholds.${key}: warning and critical must be positive numbers`);
    }
    if (warning >= critical) throw new MixinConfigError(`thresholds.${key}: warning (${warning}) must be below critical (${critical})`);
    if (thresholdFor(key as ThresholdKey).unit === 'percent' && critical > 100) {
      throw new MixinConfigError(`thresholds.${key}: a rate above 100% never fires (critical ${critical})`);
    }
  }
  for (const key of ['latencyObjective', 'availabilityObjective'] as const) {
    const objective = config.slo[key];
    if (!(objective > 0 && objective < 100)) throw new MixinConfigError(`slo.${key} must be a percentage above 0 and below 100, got ${objective}`);
  }
  if (!LOOKUP_DURATION_BUCKETS_MS.includes(config.slo.latencyMs)) {
    throw new MixinConfigError(`slo.latencyMs must be a bucket bound of the SDK's histogram (${LOOKUP_DURATION_BUCKETS_MS.join(', ')} ms), got ${config.slo.latencyMs}`);
  }
  // The longest burn-rate window is 3d: a shorter period leaves it without meaning.
  if (durationSeconds(config.slo.period) < 3 * 86_400) throw new MixinConfigError(`slo.period must be at least 3d (the longest burn-rate window), got ${JSON.stringify(config.slo.period)}`);
  runbookUrl(config, 'check');
  for (const [key, value] of Object.entries(config.grafana)) {
    if (typeof value === 'string' && value.trim() === '') throw new MixinConfigError(`grafana.${key} must not be empty`);
  }
  checkOperator(config.operator);
  return config;
}

const PROMETHEUS_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels the rules and panels select or group on themselves: a selector on them would empty a rule. */
const RULE_LABELS = ['outcome', 'fallback', 'le', 'state', 'status', 'error', 'instance'];
/** Labels of the SDK's, the worker's and the exporter's metrics that the dashboards group by. */
const METRIC_LABELS = ['region', 'micro_slug', 'reason', 'kind', 'result'];

function checkSelectors(config: MixinConfig): void {
  // The label names each selector matches on, by target.
  const named = new Map<Target, string[]>();
  for (const [target, text] of Object.entries(config.selectors) as [Target, string][]) {
    try {
      const names = parseMatchers(text).map((m) => m.name);
      const used = names.find((name) => RULE_LABELS.includes(name));
      if (used !== undefined) throw new Error(`${used} is a label the rules select on themselves`);
      // The generated rule tests can make a series the selector takes.
      seriesLabels(config, target);
      named.set(target, names);
    } catch (error) {
      throw new MixinConfigError(`selectors.${target}: ${(error as Error).message} (got ${JSON.stringify(text)})`);
    }
  }
  const label = config.clusterLabel;
  if (!PROMETHEUS_LABEL.test(label) || label.startsWith('__')) throw new MixinConfigError(`clusterLabel must be a Prometheus label name, got ${JSON.stringify(label)}`);
  // The rules group by job and instance themselves; the others are the metrics' own labels.
  if (['job', ...RULE_LABELS, ...METRIC_LABELS].includes(label)) throw new MixinConfigError(`clusterLabel cannot be ${label}: the rules or the metrics use it for themselves`);
  // A selector's label as the cluster label: the rules would keep it on every alert, and join
  // the exporter's and the worker's series on a label one of them may not have.
  for (const [target, names] of named) {
    if (names.includes(label)) {
      throw new MixinConfigError(`clusterLabel ${label} is also a label of selectors.${target}: the cluster label must tell clusters apart, not select a target's series (pick another, or drop it from the selector)`);
    }
  }
}

// A DNS-1123 label (namespaces, port names are IANA_SVC_NAME: at most 15, a letter among them).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;

function checkOperator(operator: MixinConfig['operator']): void {
  if (!DNS_LABEL.test(operator.namespace)) throw new MixinConfigError(`operator.namespace must be a Kubernetes namespace name, got ${JSON.stringify(operator.namespace)}`);
  for (const key of ['collectorMetricsPort', 'collectorTelemetryPort', 'exporterPort', 'workerPort'] as const) {
    if (!PORT_NAME.test(operator[key])) throw new MixinConfigError(`operator.${key} must be a Service port name (IANA_SVC_NAME), got ${JSON.stringify(operator[key])}`);
  }
  for (const key of ['collectorSelector', 'exporterSelector', 'workerSelector'] as const) {
    if (Object.keys(operator[key]).length === 0) throw new MixinConfigError(`operator.${key} must hold at least one label: an empty selector selects every Service`);
  }
  if (operator.dashboardFolderAnnotation !== '' && !LABEL_NAME.test(operator.dashboardFolderAnnotation)) {
    throw new MixinConfigError(`operator.dashboardFolderAnnotation must be an annotation name or '', got ${JSON.stringify(operator.dashboardFolderAnnotation)}`);
  }
}

/** Seconds of a Prometheus duration (`1h30m`). */
export function durationSeconds(duration: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * (units[unit ?? 's'] ?? 1);
  return total;
}

/** The runbook section of an alert (GitHub-style anchors: lower case). A relative base is refused: the link would go nowhere in a page or a ticket. */
export function runbookUrl(config: MixinConfig, alert: string): string {
  let base: URL;
  try {
    base = new URL(config.runbookUrl);
  } catch {
    throw new MixinConfigError(`runbookUrl must be an absolute http(s) URL, got ${JSON.stringify(config.runbookUrl)}`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new MixinConfigError(`runbookUrl must be an absolute http(s) URL, got ${JSON.stringify(config.runbookUrl)}`);
  }
  base.hash = alert.toLowerCase();
  return base.toString();
}
