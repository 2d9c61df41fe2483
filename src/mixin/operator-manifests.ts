import { stringify } from 'yaml';
import { analyticsDashboard, lookupDashboard, migrationDashboard } from './grafana-dashboards.ts';
import type { MixinConfig } from './mixin-config.ts';
import { prometheusRules } from './prometheus-rules.ts';

/** The port numbers our files serve on, for people reading the manifests (the ServiceMonitors select ports by name). */
const PORTS = { collectorMetrics: 8889, collectorTelemetry: 8888, exporter: 9187, worker: 9465 } as const;

interface Scrape {
  name: string;
  job: string;
  selector: Record<string, string>;
  port: string;
  what: string;
}

/**
 * What a prometheus-operator user applies, by file name: a PrometheusRule
 * (`monitoring.coreos.com/v1`) holding the generated groups, the ServiceMonitors
 * that scrape the collector, the Postgres exporter and the worker under the
 * configured job names (the rules select on them), and one ConfigMap per
 * dashboard for Grafana's dashboard sidecar.
 */
export function renderOperatorFiles(config: MixinConfig, header: string): Map<string, string> {
  const { operator } = config;
  const yaml = (...documents: unknown[]): string => header + documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  const metadata = (name: string, labels: Record<string, string>, annotations?: Record<string, string>) => ({
    name,
    namespace: operator.namespace,
    labels: { 'app.kubernetes.io/part-of': 'uuid-lookup-observability', ...labels },
    ...(annotations === undefined ? {} : { annotations }),
  });
  const files = new Map<string, string>();
  files.set('prometheus-rule.yaml', yaml({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: metadata('uuid-lookup', operator.ruleLabels), spec: prometheusRules(config) }));

  const scrapes: Scrape[] = [
    { name: 'uuid-lookup-collector', job: config.lookupJob, selector: operator.collectorSelector, port: operator.collectorMetricsPort, what: `the lookups, from the collector's Prometheus exporter (${PORTS.collectorMetrics})` },
    ...(config.collectorJob === ''
      ? []
      : [{ name: 'uuid-lookup-collector-telemetry', job: config.collectorJob, selector: operator.collectorSelector, port: operator.collectorTelemetryPort, what: `the collector's own metrics (${PORTS.collectorTelemetry})` }]),
    { name: 'uuid-lookup-postgres-exporter', job: config.migrationJob, selector: operator.exporterSelector, port: operator.exporterPort, what: `the migration's statistics and runs, from postgres_exporter (${PORTS.exporter})` },
    ...(config.workerJob === '' ? [] : [{ name: 'uuid-lookup-worker', job: config.workerJob, selector: operator.workerSelector, port: operator.workerPort, what: `the migration worker (${PORTS.worker})` }]),
  ];
  files.set(
    'service-monitors.yaml',
    yaml(
      ...scrapes.map((s) => ({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: metadata(s.name, operator.serviceMonitorLabels, { 'uuid-lookup-observability/scrapes': s.what }),
        spec: {
          selector: { matchLabels: s.selector },
          endpoints: [
            {
              port: s.port,
              path: '/metrics',
              // The rules and dashboards select on the configured job, whatever the Service is called.
              relabelings: [{ action: 'replace', targetLabel: 'job', replacement: s.job }],
            },
          ],
        },
      })),
    ),
  );

  for (const dashboard of [lookupDashboard(config), migrationDashboard(config), analyticsDashboard(config)]) {
    const uid = dashboard.uid ?? 'uuid-lookup';
    const folder = operator.dashboardFolderAnnotation === '' ? undefined : { [operator.dashboardFolderAnnotation]: config.grafana.folder };
    files.set(
      `dashboards/${uid}.yaml`,
      yaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(`grafana-dashboard-${uid}`, operator.dashboardLabels, folder), data: { [`${uid}.json`]: `${JSON.stringify(dashboard, null, 2)}\n` } }),
    );
  }
  return files;
}
