import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { renderMonitoringFiles } from '../../../src/mixin/render-monitoring-files.ts';
import { readdirSync } from 'node:fs';
import { defaultMixinConfig, MixinConfigError, resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
// Published schemas kept as data in test/schemas (see its README).
const shared = (path: string): string => readFileSync(new URL(`test/schemas/${path}`, root), 'utf8');

describe('generated monitoring files', () => {
  it('match their source: regenerate with npm run generate:monitoring', () => {
    const files = renderMonitoringFiles();
    for (const [path, content] of files) expect(read(path), `${path} drifted from src/mixin`).toBe(content);
    // No file the mixin no longer renders is left behind (Grafana would still load it).
    const generated = (dir: string) => readdirSync(new URL(dir, root)).map((f) => `${dir}${f}`).filter((f) => !f.endsWith('datasources/'));
    for (const file of [...generated('grafana/dashboards/'), ...generated('grafana/provisioning/dashboards/'), ...generated('prometheus/rules/'), ...generated('prometheus/tests/')]) {
      expect(files.has(file), `${file} is not rendered by the mixin`).toBe(true);
    }
    // Grafana-managed alerting is off by default: no alert rule or contact point is provisioned.
    let alerting: string[];
    try {
      alerting = readdirSync(new URL('grafana/provisioning/alerting/', root));
    } catch {
      alerting = [];
    }
    expect(alerting).toEqual([]);
  });

  it('give every alert a severity, summary, description and a runbook section that exists', () => {
    const runbook = read('docs/runbook.md');
    const anchors = new Set([...runbook.matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] ?? '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    const rules = parse(read('prometheus/rules/uuid-lookup.rules.yml')) as { groups: { rules: Record<string, unknown>[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => 'alert' in r) as {
      alert: string;
      labels: { severity: string };
      annotations: Record<string, string>;
    }[];
    expect(new Set(alerts.map((a) => a.alert))).toEqual(
      new Set([
        'UuidLookupLatencyHigh', 'UuidLookupFailureRateHigh', 'UuidLookupFallbackRateHigh', 'UuidMigrationFailureRateHigh',
        'UuidLookupMetricsTargetDown', 'UuidMigrationExporterDown', 'UuidMigrationStatsAbsent', 'UuidLookupRollupsFoldHeld', 'UuidLookupMetricsRefused',
        'UuidMigrationWorkerDown', 'UuidMigrationStalled', 'UuidMigrationRunHeldLong', 'UuidMigrationRunSilent',
        'UuidLookupLatencyBudgetBurn', 'UuidLookupAvailabilityBudgetBurn',
      ]),
    );
    for (const alert of alerts) {
      expect(['warning', 'critical']).toContain(alert.labels.severity);
      expect(alert.annotations.summary).toBeTruthy();
      expect(alert.annotations.description).toBeTruthy();
      const anchor = alert.annotations.runbook_url?.split('#')[1] ?? '';
      expect(anchors, `runbook section for ${alert.alert}`).toContain(anchor);
    }
  });

  it('defaults every dashboard datasource variable to a provisioned datasource of its type, and names provisioned ones in alert panels', () => {
    const datasources = parse(read('grafana/provisioning/datasources/datasources.yml')) as { datasources: { uid: string; type: string; name: string }[] };
    const byUid = new Map(datasources.datasources.map((d) => [d.uid, d.type]));
    const byName = new Map(datasources.datasources.map((d) => [d.name, d.type]));
    for (const file of ['grafana/dashboards/uuid-lookup-performance.json', 'grafana/dashboards/uuid-migration-progress.json', 'grafana/dashboards/uuid-lookup-analytics.json']) {
      const dashboard = JSON.parse(read(file)) as {
        templating: { list: { type: string; name: string; query: string; current?: { value: string } }[] };
        panels: { id: number; type: string; gridPos: { x: number; w: number }; options?: { alertmanager?: string } }[];
      };
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'datasource')) {
        expect(byUid.get(variable.current?.value ?? ''), `${file}: ${variable.name}`).toBe(variable.query);
      }
      for (const panel of dashboard.panels) {
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
        if (panel.type === 'alertGroups') expect(byName.get(panel.options?.alertmanager ?? '')).toBe('alertmanager');
      }
    }
    // Grafana lists Prometheus's rules and reads Alertmanager: one alerting path.
    const prometheus = datasources.datasources.find((d) => d.type === 'prometheus') as unknown as { jsonData: { manageAlerts: boolean; alertmanagerUid: string } };
    expect(prometheus.jsonData.manageAlerts).toBe(true);
    expect(byUid.get(prometheus.jsonData.alertmanagerUid)).toBe('alertmanager');
  });
});

describe('the mixin configuration', () => {
  it('fills what a user leaves out and keeps what they set', () => {
    const config = resolveMixinConfig({ lookupJob: 'booking-web', thresholds: { lookup_latency: { critical: 300 } }, grafana: { folder: 'Bookings' } });
    expect(config.lookupJob).toBe('booking-web');
    expect(config.thresholds.lookup_latency).toEqual({ warning: 50, critical: 300 });
    expect(config.thresholds.lookup_failure_rate).toEqual({ warning: 5, critical: 10 });
    expect(config.grafana).toEqual({ ...defaultMixinConfig.grafana, folder: 'Bookings' });
    expect(resolveMixinConfig({})).toEqual(defaultMixinConfig);
  });

  it.each([
    [{ lookupjob: 'x' }, /unknown key lookupjob/],
    [{ grafana: { folders: 'x' } }, /unknown key grafana\.folders/],
    [{ window: '5 minutes' }, /window must be a Prometheus duration/],
    [{ window: '30s' }, /window must be at least 1m/],
    [{ forDuration: { warning: 10 } }, /forDuration\.warning must be a string/],
    [{ thresholds: { lookup_latency: { warning: 200, critical: 100 } } }, /warning \(200\) must be below critical \(100\)/],
    [{ thresholds: { lookup_failure_rate: { critical: 150 } } }, /above 100% never fires/],
    [{ runbookUrl: 'docs/runbook.md' }, /runbookUrl must be an absolute http\(s\) URL/],
    [{ runbookUrl: 'file:///runbook.md' }, /runbookUrl must be an absolute http\(s\) URL/],
    [{ lookupJob: 'a"b' }, /lookupJob must be a job name/],
    [{ minLookups: -1 }, /minLookups must be a number ≥ 0/],
    [[], /the configuration must be an object/],
  ])('refuses %j with one line that names the key', (input, message) => {
    expect(() => resolveMixinConfig(input)).toThrow(MixinConfigError);
    expect(() => resolveMixinConfig(input)).toThrow(message);
  });

  it('renders Grafana-managed alerting only when asked, with contact points and a policy that routes by severity as alertmanager.yml does', () => {
    expect([...renderMonitoringFiles().keys()].some((f) => f.includes('alerting'))).toBe(false);
    const files = renderMonitoringFiles(resolveMixinConfig({ grafana: { managedAlerts: true, folder: 'Bookings' } }));
    const rules = parse(files.get('grafana/provisioning/alerting/uuid-lookup-alerts.yml') ?? '') as { groups: { folder: string; rules: { labels: { severity: string }; data: { datasourceUid: string }[] }[] }[] };
    expect(rules.groups[0]?.folder).toBe('Bookings');
    expect(rules.groups[0]?.rules).toHaveLength(8);
    expect(rules.groups[0]?.rules[0]?.data[0]?.datasourceUid).toBe('prometheus');
    const notifications = parse(files.get('grafana/provisioning/alerting/uuid-lookup-notifications.yml') ?? '') as {
      contactPoints: { name: string; receivers: { type: string; settings: { url: string } }[] }[];
      policies: { receiver: string; routes: { receiver: string; object_matchers: string[][] }[] }[];
    };
    const am = parse(read('prometheus/alertmanager.yml')) as { route: { receiver: string; routes: { matchers: string[]; receiver: string }[] } };
    const routed = (severity: string, routes: { matchers: string[]; receiver: string }[]) => routes.find((r) => r.matchers.includes(`severity="${severity}"`))?.receiver;
    const policy = notifications.policies[0];
    for (const severity of ['critical', 'warning']) {
      const receiver = policy?.routes.find((r) => r.object_matchers.some(([label, op, value]) => label === 'severity' && op === '=' && value === severity))?.receiver;
      // Same shape of routing: a receiver per severity whose name says what Alertmanager's does.
      expect(receiver).toMatch(new RegExp(`${routed(severity, am.route.routes)}$`));
      expect(notifications.contactPoints.map((c) => c.name)).toContain(receiver);
    }
    expect(notifications.contactPoints.flatMap((c) => c.receivers.map((r) => r.settings.url))).toEqual(['$UUID_LOOKUP_CRITICAL_WEBHOOK_URL', '$UUID_LOOKUP_WARNING_WEBHOOK_URL']);
  });
});

describe('docker-compose.yml', () => {
  // Compose resolves YAML merge keys (<<: *node-app); so must the check.
  const compose = parse(read('docker-compose.yml'), { merge: true }) as Record<string, unknown>;

  it('is valid against the published Compose specification schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    // The schema names its draft as https://json-schema.org/draft-07/schema, an alias
    // of the draft-07 meta-schema Ajv has built in under its http:// id.
    const schema = JSON.parse(shared('compose-spec.json')) as Record<string, unknown>;
    delete schema.$schema;
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('pins every image, writes no secret, and health-checks what it can', () => {
    const services = compose.services as Record<string, { image?: string; environment?: Record<string, string>; healthcheck?: unknown }>;
    const text = read('docker-compose.yml');
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toMatch(/:[\w.-]+$/);
      expect(service.image, name).not.toMatch(/:latest$/);
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASS|SECRET|KEY|TOKEN/.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?/);
      }
    }
    expect(text).not.toMatch(/postgres:\/\/[^$\s]*:[^$@\s{]+@/);
    for (const name of ['postgres', 'prometheus', 'alertmanager', 'grafana']) expect(services[name]?.healthcheck, name).toBeDefined();
  });

  it('uses the collector version whose component list is checked below', () => {
    const services = compose.services as Record<string, { image?: string }>;
    expect(services['otel-collector']?.image).toBe('otel/opentelemetry-collector-contrib:0.159.0');
  });
});

describe('otel-collector/config.yaml', () => {
  const config = parse(read('otel-collector/config.yaml')) as Record<string, Record<string, unknown>> & {
    service: { extensions: string[]; pipelines: Record<string, Record<string, string[]>> };
  };
  const manifest = parse(shared('otelcol-contrib-0.159.0-manifest.yaml')) as Record<string, { gomod: string }[]>;
  const modules = (kind: string): Set<string> =>
    new Set((manifest[kind] ?? []).map((m) => (m.gomod.split(' ')[0] ?? '').split('/').pop() ?? ''));

  it('names only components of the pinned contrib distribution (0.159.0)', () => {
    const kinds = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', extensions: 'extension' } as const;
    for (const [section, suffix] of Object.entries(kinds)) {
      const available = modules(section);
      for (const id of Object.keys(config[section] ?? {})) {
        const type = id.split('/')[0]?.replace(/_/g, '') ?? '';
        expect(available, `${section}: ${id}`).toContain(`${type}${suffix}`);
      }
    }
  });

  it('wires the pipeline: OTLP in, memory limiter first, batch (one batch at a time after it), deltas stamped on arrival, delta-to-cumulative, Prometheus out', () => {
    const metrics = config.service.pipelines.metrics;
    expect(metrics?.receivers).toEqual(['otlp']);
    expect(metrics?.processors).toEqual(['memory_limiter', 'batch', 'transform/bound_lookups', 'filter/invalid_lookups', 'transform/stamp_deltas', 'delta_to_cumulative']);
    // The batch processor runs one shard (one goroutine) only without metadata_keys.
    expect(config.processors?.batch).not.toHaveProperty('metadata_keys');
    const stamp = config.processors?.['transform/stamp_deltas'] as { metric_statements: { context: string; conditions: string[]; statements: string[] }[] };
    expect(stamp.metric_statements).toEqual([
      {
        context: 'datapoint',
        conditions: ['metric.aggregation_temporality == AGGREGATION_TEMPORALITY_DELTA'],
        statements: ['set(time, Now())', 'set(start_time, time)'],
      },
    ]);
    expect(metrics?.exporters).toEqual(['prometheus']);
    expect(config.service.extensions).toEqual(['health_check']);
    const otlp = config.receivers?.otlp as { protocols: { http: { cors: { allowed_origins: string[] } }; grpc: unknown } };
    expect(otlp.protocols.grpc).toBeDefined();
    expect(otlp.protocols.http.cors.allowed_origins.length).toBeGreaterThan(0);
    expect((config.exporters?.prometheus as { add_metric_suffixes: boolean }).add_metric_suffixes).toBe(true);
  });
});
