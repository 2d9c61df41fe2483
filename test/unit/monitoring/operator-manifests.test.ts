import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultMixinConfig, MixinConfigError, resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { lookupDashboard } from '../../../src/mixin/grafana-dashboards.ts';
import { prometheusRules } from '../../../src/mixin/prometheus-rules.ts';
import { renderMixinJson, renderOperatorManifests } from '../../../src/mixin/render-monitoring-files.ts';

// `mixin render --format operator`: the objects are checked against the CRDs'
// published OpenAPI schemas (prometheus-operator v0.94.0, kept in test/schemas/)
// and against what the API server and kubectl enforce for a ConfigMap.
const schemas = path.resolve(import.meta.dirname, '../../schemas');
const crd = (name: string) =>
  JSON.parse(readFileSync(path.join(schemas, `prometheus-operator-0.94.0-${name}.schema.json`), 'utf8')) as { group: string; kind: string; version: string; schema: object };
// Kubernetes' structural schemas carry x-kubernetes-* keywords and int32/int64 formats: not ours to check.
// Their patterns are Go's (RE2): a leading (?i) is a flag there, and is one here.
const goPattern = Object.assign(
  (pattern: string, flags: string): RegExp => {
    const inline = /^\^?\(\?i\)/.exec(pattern);
    return inline ? new RegExp(pattern.replace('(?i)', ''), `${flags}i`) : new RegExp(pattern, flags);
  },
  { code: 'new RegExp' },
);
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true, code: { regExp: goPattern } });
const validators = Object.fromEntries(['prometheusrule', 'servicemonitor'].map((name) => {
  const c = crd(name);
  return [c.kind, { apiVersion: `${c.group}/${c.version}`, validate: ajv.compile(c.schema) }];
}));

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string> };
const objects = (files: Map<string, string>): Map<string, K8sObject[]> =>
  new Map([...files].map(([file, text]) => [file, parseAllDocuments(text).map((d) => d.toJS() as K8sObject)]));

/** What the CRD's schema says of an object: [] when it is valid. */
function crdErrors(object: K8sObject): string[] {
  const v = validators[object.kind];
  if (v === undefined) return [`no CRD schema for ${object.kind}`];
  if (object.apiVersion !== v.apiVersion) return [`apiVersion ${object.apiVersion}, the CRD serves ${v.apiVersion}`];
  return v.validate(object) ? [] : (v.validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('mixin render --format operator', () => {
  const rendered = objects(renderOperatorManifests(defaultMixinConfig));

  it('writes a PrometheusRule, the ServiceMonitors and a ConfigMap per dashboard', () => {
    expect([...rendered.keys()].sort()).toEqual([
      'dashboards/uuid-lookup-analytics.yaml',
      'dashboards/uuid-lookup-performance.yaml',
      'dashboards/uuid-migration-progress.yaml',
      'prometheus-rule.yaml',
      'service-monitors.yaml',
    ]);
  });

  it('has every custom resource valid against its CRD schema, and the schemas refuse a broken one', () => {
    const custom = [...(rendered.get('prometheus-rule.yaml') ?? []), ...(rendered.get('service-monitors.yaml') ?? [])];
    expect(custom.map((o) => o.kind)).toEqual(['PrometheusRule', 'ServiceMonitor', 'ServiceMonitor', 'ServiceMonitor', 'ServiceMonitor']);
    for (const object of custom) expect(crdErrors(object), `${object.kind} ${object.metadata.name}`).toEqual([]);
    // The validator bites: a rule without expr, an endpoint relabeling with an action the operator does not know.
    const rule = structuredClone(custom[0]) as K8sObject & { spec: { groups: { rules: Record<string, unknown>[] }[] } };
    delete rule.spec.groups[0]?.rules[0]?.expr;
    expect(crdErrors(rule).join()).toContain('expr');
    const monitor = structuredClone(custom[1]) as K8sObject & { spec: { endpoints: { relabelings: { action: string }[] }[] } };
    (monitor.spec.endpoints[0]?.relabelings[0] ?? { action: '' }).action = 'rename';
    expect(crdErrors(monitor)).not.toEqual([]);
  });

  it('holds the rendered rule groups in the PrometheusRule, labelled for the Prometheus that selects them', () => {
    const [rule] = rendered.get('prometheus-rule.yaml') ?? [];
    expect(rule?.spec).toEqual(JSON.parse(JSON.stringify(prometheusRules(defaultMixinConfig))));
    expect(rule?.metadata).toMatchObject({ namespace: 'monitoring', labels: { release: 'kube-prometheus-stack' } });
  });

  it('scrapes each Service under the job the rules select on', () => {
    const monitors = rendered.get('service-monitors.yaml') ?? [];
    const jobs = monitors.map((m) => {
      const endpoint = (m.spec?.endpoints as { port: string; relabelings: { targetLabel: string; replacement: string }[] }[])[0];
      const relabel = endpoint?.relabelings.find((r) => r.targetLabel === 'job');
      return `${endpoint?.port} -> ${relabel?.replacement}`;
    });
    const c = defaultMixinConfig;
    expect(jobs).toEqual([`prometheus -> ${c.lookupJob}`, `metrics -> ${c.collectorJob}`, `http -> ${c.migrationJob}`, `metrics -> ${c.workerJob}`]);
    const without = objects(renderOperatorManifests(resolveMixinConfig({ workerJob: '', collectorJob: '' }))).get('service-monitors.yaml') ?? [];
    expect(without.map((m) => m.metadata.name)).toEqual(['uuid-lookup-collector', 'uuid-lookup-postgres-exporter']);
  });

  it("gives Grafana's sidecar ConfigMaps it takes: its label, the folder annotation, a valid key, under kubectl apply's size limit", () => {
    for (const file of [...rendered.keys()].filter((f) => f.startsWith('dashboards/'))) {
      const [map] = rendered.get(file) ?? [];
      expect(map?.kind).toBe('ConfigMap');
      expect(map?.metadata.name).toMatch(DNS_SUBDOMAIN);
      expect(map?.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
      expect(map?.metadata.annotations).toEqual({ grafana_folder: defaultMixinConfig.grafana.folder });
      const [[key, json]] = Object.entries(map?.data ?? {}) as [[string, string]];
      expect(key).toMatch(/^[-._a-zA-Z0-9]+\.json$/);
      // kubectl apply keeps the whole object in an annotation: at most 256 KiB.
      expect(Buffer.byteLength(JSON.stringify(map))).toBeLessThan(256 * 1024);
      expect(JSON.parse(json)).toHaveProperty('uid');
    }
    const [lookup] = rendered.get('dashboards/uuid-lookup-performance.yaml') ?? [];
    expect(JSON.parse(lookup?.data?.['uuid-lookup-performance.json'] ?? '{}')).toEqual(JSON.parse(JSON.stringify(lookupDashboard(defaultMixinConfig))));
  });

  it("takes kube-prometheus's labels in place of the defaults, and refuses what Kubernetes would", () => {
    const config = resolveMixinConfig({ operator: { namespace: 'observability', ruleLabels: { prometheus: 'k8s', role: 'alert-rules' }, dashboardFolderAnnotation: '' } });
    const files = objects(renderOperatorManifests(config));
    const [rule] = files.get('prometheus-rule.yaml') ?? [];
    expect(rule?.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'uuid-lookup-observability', prometheus: 'k8s', role: 'alert-rules' });
    expect(rule?.metadata.namespace).toBe('observability');
    expect(files.get('dashboards/uuid-lookup-analytics.yaml')?.[0]?.metadata.annotations).toBeUndefined();
    expect(() => resolveMixinConfig({ operator: { ruleLabels: { release: 'has spaces' } } })).toThrow(MixinConfigError);
    expect(() => resolveMixinConfig({ operator: { ruleLabels: { 'bad key!': 'x' } } })).toThrow('is not a Kubernetes label name');
    expect(() => resolveMixinConfig({ operator: { namespace: 'Upper' } })).toThrow('operator.namespace');
    expect(() => resolveMixinConfig({ operator: { exporterSelector: {} } })).toThrow('selects every Service');
    expect(() => resolveMixinConfig({ operator: { workerPort: '9465' } })).toThrow('IANA_SVC_NAME');
  });
});

describe('mixin render --format jsonnet', () => {
  it("writes monitoring-mixins' three fields: every rule group once, alerts apart from recording rules, the dashboards by file name", () => {
    const mixin = JSON.parse(renderMixinJson(defaultMixinConfig)) as {
      prometheusAlerts: { groups: { name: string; rules: { alert?: string; record?: string }[] }[] };
      prometheusRules: { groups: { name: string; rules: { alert?: string; record?: string }[] }[] };
      grafanaDashboards: Record<string, { uid: string }>;
    };
    const all = (prometheusRules(defaultMixinConfig) as { groups: { name: string }[] }).groups.map((g) => g.name);
    const names = [...mixin.prometheusAlerts.groups, ...mixin.prometheusRules.groups].map((g) => g.name);
    expect(names.sort()).toEqual([...all].sort());
    expect(mixin.prometheusAlerts.groups.every((g) => g.rules.some((r) => r.alert !== undefined))).toBe(true);
    expect(mixin.prometheusRules.groups.flatMap((g) => g.rules).every((r) => r.record !== undefined)).toBe(true);
    expect(mixin.prometheusRules.groups.length).toBeGreaterThan(0);
    expect(Object.keys(mixin.grafanaDashboards).sort()).toEqual(['uuid-lookup-analytics.json', 'uuid-lookup-performance.json', 'uuid-migration-progress.json']);
    expect(mixin.grafanaDashboards['uuid-lookup-performance.json']?.uid).toBe('uuid-lookup-performance');
  });
});
