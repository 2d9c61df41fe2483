import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXPORTER_QUERIES, exporterMetricName } from '../../../src/contract/exporter-queries.ts';
import { MIGRATION_STATS_FIELDS, WORKER_METRIC_NAMES } from '../../../src/contract/migration.ts';
import { analyticsDashboard, lookupDashboard, migrationDashboard } from '../../../src/mixin/grafana-dashboards.ts';
import { resolveMixinConfig } from '../../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../../src/mixin/prometheus-rules.ts';
import { renderExporterQueries } from '../../../src/mixin/render-monitoring-files.ts';
import { renderRuleTests } from '../../../src/mixin/rule-tests.ts';

const repo = (file: string) => path.resolve(import.meta.dirname, '../../..', file);

describe("the Postgres exporter's queries, from the contract", () => {
  it('are what prometheus/postgres-exporter/queries.yml holds, and postgres_exporter reads them as its custom queries', () => {
    const file = readFileSync(repo('prometheus/postgres-exporter/queries.yml'), 'utf8');
    expect(file).toBe(renderExporterQueries());
    const parsed = parse(file) as Record<string, { query: string; master: boolean; metrics: Record<string, { usage: string; description: string }>[] }>;
    expect(Object.keys(parsed)).toEqual(EXPORTER_QUERIES.map((q) => q.namespace));
    for (const q of EXPORTER_QUERIES) {
      const entry = parsed[q.namespace];
      expect(entry?.master).toBe(true);
      expect(entry?.metrics.map((m) => Object.keys(m)[0])).toEqual(q.metrics.map((m) => m.column));
    }
  });

  it('select every column they name, the stats query the spec\'s seven fields in order', () => {
    expect(EXPORTER_QUERIES[0].metrics.map((m) => m.column)).toEqual([...MIGRATION_STATS_FIELDS]);
    for (const q of EXPORTER_QUERIES) {
      for (const m of q.metrics) expect(q.sql, `${q.namespace}.${m.column}`).toMatch(new RegExp(`(AS |[a-z]\\.)${m.column}\\b`));
    }
  });

  it('give the only exporter names the rules, their tests and the dashboards use', () => {
    // @ts-expect-error a column no query has does not compile
    expect(exporterMetricName('uuid_migration_runs', 'held_jobs')).toBe('uuid_migration_runs_held_jobs');
    const known = new Set(EXPORTER_QUERIES.flatMap((q) => q.metrics.map((m) => `${q.namespace}_${m.column}`)));
    const config = resolveMixinConfig({});
    // PromQL only: the SQL panels name tables (uuid_migration_log) that are no metrics.
    const promql = [lookupDashboard(config), migrationDashboard(config), analyticsDashboard(config)].flatMap((d) =>
      (d.panels ?? []).flatMap((p) => ((p as { targets?: { expr?: string }[] }).targets ?? []).map((t) => t.expr ?? '')),
    );
    const text = [JSON.stringify(prometheusRules(config)), renderRuleTests(config), ...promql].join('\n');
    const worker = new Set<string>(Object.values(WORKER_METRIC_NAMES));
    const used = new Set([...text.matchAll(/(?<![:\w])(uuid_migration|uuid_lookup_rollups)_[a-z_]+(?![:\w])/g)].map((m) => m[0]).filter((n) => ![...worker].some((w) => n.startsWith(w))));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(known, name).toContain(name);
  });
});
