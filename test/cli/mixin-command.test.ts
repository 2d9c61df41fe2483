import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCliProcess } from '../support/processes.ts';

// `uuid-lookup mixin render` as a user runs it, in its own process.
describe('uuid-lookup mixin', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-mixin-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return target;
  };

  it('renders every file for a YAML configuration, with its jobs, limits and folder', async () => {
    const config = file('mixin.yml', 'lookupJob: booking-web\nthresholds:\n  lookup_latency: { warning: 80, critical: 250 }\ngrafana: { folder: Bookings, managedAlerts: true }\n');
    const out = path.join(dir, 'out');
    const result = await runCliProcess(['mixin', 'render', '--config', config, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    // 8 generated files and the 6 the stack needs beside them (the collector, Prometheus, Alertmanager, the exporter).
    expect(result.stdout.split('\n').filter((l) => l.startsWith('wrote '))).toHaveLength(14);
    const prometheus = parse(readFileSync(path.join(out, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] };
    expect(prometheus.scrape_configs.map((j) => j.job_name)).toEqual(['booking-web', 'uuid-migration', 'uuid-migration-worker', 'otel-collector', 'prometheus']);
    expect(readFileSync(path.join(out, 'prometheus/prometheus.yml'), 'utf8')).toContain('# Prometheus for the docker-compose stack');
    // No worker and no collector: their jobs are not scraped, and their alerts are not rendered.
    const bare = path.join(dir, 'bare');
    const without = await runCliProcess(['mixin', 'render', '--config', file('bare.yml', "workerJob: ''\ncollectorJob: ''\n"), '--out', bare]);
    expect(without.code, without.stderr).toBe(0);
    const bareJobs = parse(readFileSync(path.join(bare, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] };
    expect(bareJobs.scrape_configs.map((j) => j.job_name)).toEqual(['uuid-lookup', 'uuid-migration', 'prometheus']);
    const bareRules = readFileSync(path.join(bare, 'prometheus/rules/uuid-lookup.rules.yml'), 'utf8');
    expect(bareRules).not.toContain('UuidLookupMetricsRefused');
    expect(bareRules).not.toContain('UuidMigrationWorkerDown');
    expect(readFileSync(path.join(out, 'otel-collector/config.yaml'), 'utf8')).toContain('transform/stamp_deltas');
    expect(readFileSync(path.join(out, 'prometheus/postgres-exporter/queries.yml'), 'utf8')).toContain('get_uuid_migration_stats()');
    const rules = readFileSync(path.join(out, 'prometheus/rules/uuid-lookup.rules.yml'), 'utf8');
    expect(rules).toContain('uuid_lookups_total{job="booking-web"}');
    // 250 ms critical is 0.25 s in the rule.
    expect(rules).toMatch(/job:uuid_lookup_duration_seconds:mean5m > 0\.25 and on\(cluster, job\)/);
    const provider = parse(readFileSync(path.join(out, 'grafana/provisioning/dashboards/uuid-lookup.yml'), 'utf8')) as { providers: { folder: string }[] };
    expect(provider.providers[0]?.folder).toBe('Bookings');
    expect(readdirSync(path.join(out, 'grafana/provisioning/alerting')).sort()).toEqual(['uuid-lookup-alerts.yml', 'uuid-lookup-notifications.yml']);

    // Rendered again without Grafana-managed alerting: its files go, nothing else of the user's is touched.
    writeFileSync(path.join(out, 'grafana/provisioning/alerting/mine.yml'), 'apiVersion: 1\n');
    const again = await runCliProcess(['mixin', 'render', '--config', file('plain.json', '{"lookupJob": "booking-web"}'), '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('removed');
    expect(readdirSync(path.join(out, 'grafana/provisioning/alerting'))).toEqual(['mine.yml']);
  });

  it.each([
    ['a key that does not exist', 'lookupjob: x\n', /unknown key lookupjob/],
    ['a relative runbook URL', 'runbookUrl: docs/runbook.md\n', /runbookUrl must be an absolute http\(s\) URL/],
    ['warning above critical', 'thresholds: { lookup_failure_rate: { warning: 20, critical: 10 } }\n', /warning \(20\) must be below critical \(10\)/],
    ['text that is not YAML', 'lookupJob: [unclosed\n', /neither JSON nor YAML/],
  ])('refuses %s with one line and exit 1, writing nothing', async (_what, text, message) => {
    const out = path.join(dir, `refused-${Math.random().toString(36).slice(2)}`);
    const result = await runCliProcess(['mixin', 'render', '--config', file('bad.yml', text), '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(() => readdirSync(out)).toThrow(/ENOENT/);
  });

  it('says which file it cannot read, and needs --out', async () => {
    const missing = await runCliProcess(['mixin', 'render', '--config', path.join(dir, 'nope.yml'), '--out', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read --config');
    expect(missing.stderr).toContain('ENOENT');
    const usage = await runCliProcess(['mixin', 'render']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--out <dir>'");
  });

  it('prints the defaults as a configuration render accepts', async () => {
    const printed = await runCliProcess(['mixin', 'config']);
    expect(printed.code).toBe(0);
    const config = JSON.parse(printed.stdout) as { lookupJob: string; thresholds: Record<string, { critical: number }> };
    expect(config.lookupJob).toBe('uuid-lookup');
    expect(config.thresholds.lookup_latency?.critical).toBe(100);
    const out = path.join(dir, 'from-defaults');
    const rendered = await runCliProcess(['mixin', 'render', '--config', file('defaults.json', printed.stdout), '--out', out]);
    expect(rendered.code, rendered.stderr).toBe(0);
    // The defaults render the repository's own files.
    const repo = path.resolve(import.meta.dirname, '../..');
    for (const name of ['prometheus/rules/uuid-lookup.rules.yml', 'grafana/dashboards/uuid-migration-progress.json']) {
      expect(readFileSync(path.join(out, name), 'utf8')).toBe(readFileSync(path.join(repo, name), 'utf8'));
    }
  });

  it('renders the prometheus-operator objects with --format operator, with the labels asked for, and refuses a bad label', async () => {
    const out = path.join(dir, 'k8s');
    const config = file('k8s.yml', 'lookupJob: booking-web\noperator:\n  namespace: observability\n  ruleLabels: { prometheus: k8s, role: alert-rules }\n');
    const result = await runCliProcess(['mixin', 'render', '--format', 'operator', '--config', config, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['dashboards', 'prometheus-rule.yaml', 'service-monitors.yaml']);
    const rule = parse(readFileSync(path.join(out, 'prometheus-rule.yaml'), 'utf8')) as { kind: string; metadata: { namespace: string; labels: Record<string, string> }; spec: { groups: { rules: { expr: string }[] }[] } };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.metadata.namespace).toBe('observability');
    expect(rule.metadata.labels).toMatchObject({ prometheus: 'k8s', role: 'alert-rules' });
    expect(rule.spec.groups.flatMap((g) => g.rules).some((r) => r.expr.includes('job="booking-web"'))).toBe(true);
    const bad = await runCliProcess(['mixin', 'render', '--format', 'operator', '--config', file('k8s-bad.yml', 'operator: { ruleLabels: { release: "two words" } }\n'), '--out', path.join(dir, 'k8s-bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/operator\.ruleLabels\.release must be a Kubernetes label value/);
    const format = await runCliProcess(['mixin', 'render', '--format', 'helm', '--out', path.join(dir, 'k8s-bad')]);
    expect(format.code).toBe(2);
  });
});
