import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { renderMonitoringFiles } from '../../../src/mixin/render-monitoring-files.ts';
import { renderRuleTests } from '../../promtool/rule-tests.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
// Published schemas kept as data in test/schemas (see its README).
const shared = (path: string): string => readFileSync(new URL(`test/schemas/${path}`, root), 'utf8');

describe('generated monitoring files', () => {
  it('match their source: regenerate with npm run generate:monitoring', () => {
    const files = renderMonitoringFiles();
    files.set('prometheus/tests/uuid-lookup.test.yml', renderRuleTests());
    for (const [path, content] of files) expect(read(path), `${path} drifted from src/mixin`).toBe(content);
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
        'UuidLookupMetricsTargetDown', 'UuidMigrationExporterDown', 'UuidMigrationStatsAbsent',
        'UuidMigrationWorkerDown', 'UuidMigrationStalled',
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

  it('puts every dashboard panel on a provisioned datasource, within the 24-column grid', () => {
    const datasources = parse(read('grafana/provisioning/datasources/datasources.yml')) as { datasources: { uid: string; type: string }[] };
    const uids = new Map(datasources.datasources.map((d) => [d.uid, d.type]));
    for (const file of ['grafana/dashboards/uuid-lookup-performance.json', 'grafana/dashboards/uuid-migration-progress.json', 'grafana/dashboards/uuid-lookup-analytics.json']) {
      const dashboard = JSON.parse(read(file)) as { uid: string; panels: { id: number; type: string; gridPos: { x: number; w: number }; datasource?: { uid: string; type: string } }[] };
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
      for (const panel of dashboard.panels) {
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
        if (panel.type === 'alertlist') continue;
        expect(uids.get(panel.datasource?.uid ?? '')).toBe(panel.datasource?.type);
      }
    }
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

  it('wires the pipeline: OTLP in, memory limiter first, delta-to-cumulative, batch, Prometheus out', () => {
    const metrics = config.service.pipelines.metrics;
    expect(metrics?.receivers).toEqual(['otlp']);
    expect(metrics?.processors).toEqual(['memory_limiter', 'deltatocumulative', 'batch']);
    expect(metrics?.exporters).toEqual(['prometheus']);
    expect(config.service.extensions).toEqual(['health_check']);
    const otlp = config.receivers?.otlp as { protocols: { http: { cors: { allowed_origins: string[] } }; grpc: unknown } };
    expect(otlp.protocols.grpc).toBeDefined();
    expect(otlp.protocols.http.cors.allowed_origins.length).toBeGreaterThan(0);
    expect((config.exporters?.prometheus as { add_metric_suffixes: boolean }).add_metric_suffixes).toBe(true);
  });
});
