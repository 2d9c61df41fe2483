import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import { runJobUuidMigration } from '../../src/node/migration/run-job-uuid-migration.ts';
import type { NodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';
import { createNodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';
import { analyticsDashboard, lookupDashboard, migrationDashboard } from '../../src/mixin/grafana-dashboards.ts';
import { grafanaAlertRules } from '../../src/mixin/grafana-alerts.ts';
import { EXPORTER_QUERIES } from '../../src/contract/exporter-queries.ts';
import { defaultMixinConfig, resolveMixinConfig } from '../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../src/mixin/prometheus-rules.ts';
import { expandPromQL, expandSqlMacros } from '../support/grafana-macros.ts';
import { runCliProcess } from '../support/processes.ts';
import { createLogin } from '../../src/node/db/logins.ts';
import { startJsonWebhook } from '../support/json-webhook.ts';
import type { RunningProcess } from '../support/processes.ts';
import { freePort, waitFor } from '../support/processes.ts';
import type { RunningCollector, RunningPrometheus } from '../support/stack.ts';
import { repo, startAlertmanager, startCollector, startPostgresExporter, startPrometheus, writeImmediateRules } from '../support/stack.ts';
import { toolBinary } from '../support/tools.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { dropServerRoles, serverTestDatabase } from '../support/test-databases.ts';
import type { MigrationWorker } from '../../src/node/worker/migration-worker.ts';
import { createMigrationWorker } from '../../src/node/worker/migration-worker.ts';

// The monitoring stack on this machine, real servers on loopback, each running the
// shipped file: the OpenTelemetry Collector, Prometheus 3, Alertmanager and
// postgres_exporter at the versions docker-compose.yml pins (npm run tools builds
// them), the real PostgreSQL, and the SDK exporting over OTLP to the collector.

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('configuration checks with the real tools', () => {
  it('promtool accepts prometheus.yml and the generated rules', () => {
    const config = run(toolBinary('promtool'), ['check', 'config', '--syntax-only', repo('prometheus/prometheus.yml')]);
    expect(config.status, config.output).toBe(0);
    const rules = run(toolBinary('promtool'), ['check', 'rules', repo('prometheus/rules/uuid-lookup.rules.yml')]);
    expect(rules.status, rules.output).toBe(0);
    expect(rules.output).toContain('SUCCESS: 54 rules found');
  });

  it('promtool test rules: every alert fires above its thresholds and stays quiet below, without traffic, and so on', () => {
    const result = run(toolBinary('promtool'), ['test', 'rules', repo('prometheus/tests/uuid-lookup.test.yml')]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  }, 180_000);

  it("promtool test rules, written by hand: the spec's four thresholds at literal values and annotations", () => {
    const result = run(toolBinary('promtool'), ['test', 'rules', repo('test/promtool/spec-thresholds.test.yml')]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  /** promtool passes `testsFile` on the rendered rules and fails it once they are replaced by the default rules. */
  function expectPassOnlyOnRenderedRules(testsFile: string, rulesFile: string): void {
    const tests = run(toolBinary('promtool'), ['test', 'rules', testsFile]);
    expect(tests.status, tests.output).toBe(0);
    writeFileSync(rulesFile, readFileSync(repo('prometheus/rules/uuid-lookup.rules.yml'), 'utf8'));
    const mismatched = run(toolBinary('promtool'), ['test', 'rules', testsFile]);
    expect(mismatched.status).not.toBe(0);
    expect(mismatched.output).toMatch(/FAILED/);
  }

  it('uuid-lookup mixin render: a configuration with other jobs, limits and durations renders rules whose promtool tests pass', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-mixin-'));
    try {
      const config = path.join(out, 'mixin.yml');
      writeFileSync(
        config,
        stringify({
          lookupJob: 'booking-web',
          migrationJob: 'supabase-exporter',
          workerJob: 'backfill',
          window: '10m',
          stalledAfter: '45m',
          minLookups: 100,
          thresholds: { lookup_latency: { warning: 80, critical: 250 }, lookup_failure_rate: { warning: 2, critical: 7.5 }, migration_failure_rate: { critical: 60 } },
          forDuration: { warning: '20m', critical: '2m' },
          runbookUrl: 'https://wiki.example.com/ops/uuid-lookup',
          grafana: { folder: 'Bookings', prometheusUid: 'prom-main' },
          alerts: {
            UuidMigrationStalled: { enabled: false },
            UuidLookupMetricsTargetDown: { severity: 'warning', labels: { team: 'bookings' }, dashboardUrl: 'https://grafana.example.com/d/uuid-lookup-performance' },
            UuidLookupLatencyHigh: { labels: { team: 'bookings' } },
          },
        }),
      );
      const rendered = await runCliProcess(['mixin', 'render', '--config', config, '--out', path.join(out, 'files')]);
      expect(rendered.code, rendered.stderr).toBe(0);
      const rulesFile = path.join(out, 'files/prometheus/rules/uuid-lookup.rules.yml');
      const testsFile = path.join(out, 'files/prometheus/tests/uuid-lookup.test.yml');
      const rules = readFileSync(rulesFile, 'utf8');
      expect(rules).toContain('job="booking-web"');
      expect(rules).not.toContain('job="uuid-lookup"');
      const check = run(toolBinary('promtool'), ['check', 'rules', rulesFile]);
      expect(check.status, check.output).toBe(0);
      expect(readFileSync(testsFile, 'utf8')).toContain('above the critical limit of 250 ms');
      // The alerts as configured: one gone, one a warning with a team and a dashboard link, one with a team.
      expect(rules).not.toContain('UuidMigrationStalled');
      expect(rules).toContain('dashboard_url: https://grafana.example.com/d/uuid-lookup-performance');
      expect(readFileSync(testsFile, 'utf8')).toContain('team: bookings');
      // They test the configuration, not any rules.
      expectPassOnlyOnRenderedRules(testsFile, rulesFile);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    // Two promtool runs of a test file with the SLO cases: about 30 s each here, more on a busy machine.
  }, 300_000);

  it('uuid-lookup mixin render, selectors and clusters: the hand-written multi-cluster tests pass on its rules and fail on the default rules', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-clusters-'));
    try {
      const rendered = await runCliProcess(['mixin', 'render', '--config', repo('test/promtool/multi-cluster.mixin.yml'), '--out', out]);
      expect(rendered.code, rendered.stderr).toBe(0);
      const testsFile = path.join(out, 'multi-cluster.test.yml');
      writeFileSync(testsFile, readFileSync(repo('test/promtool/multi-cluster.test.yml'), 'utf8'));
      // Rules that sum over clusters and read every namespace answer otherwise.
      expectPassOnlyOnRenderedRules(testsFile, path.join(out, 'prometheus/rules/uuid-lookup.rules.yml'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('amtool accepts alertmanager.yml', () => {
    const result = run(toolBinary('amtool'), ['check-config', repo('prometheus/alertmanager.yml')]);
    expect(result.status, result.output).toBe(0);
  });
});

describe('the stack on loopback', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-stack-'));
  const processes: RunningProcess[] = [];
  type Notification = { receiver: string; status: string; alerts: { labels: Record<string, string> }[] };
  let notifications: Notification[] = [];
  let t: TestDatabase;
  let telemetry: NodeTelemetry;
  let webhook: Awaited<ReturnType<typeof startJsonWebhook<Notification>>>;
  let traffic: ReturnType<typeof setInterval>;
  let worker: MigrationWorker | undefined;
  let prometheusUrl: string;
  let prometheus: RunningPrometheus | undefined;
  let collector: RunningCollector;

  let exporterRole: string | undefined;

  beforeAll(async () => {
    // PostgreSQL: our migrations, sample data, a migration run where 20 % of jobs fail.
    t = await serverTestDatabase();
    await t.db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 10) g;
      INSERT INTO jobs (micro_id) SELECT CASE WHEN g % 5 = 0 THEN 'poison' ELSE 'service-' || (g % 10 + 1) END FROM generate_series(1, 500) g;
      INSERT INTO micro_services (slug) VALUES ('poison');
      CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.micro_id = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER reject_poison BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION reject_poison();
    `);
    await runJobUuidMigration(t.db, { batchSize: 100 });
    exporterRole = `uuid_exporter_${Math.random().toString(36).slice(2, 10)}`;
    await createLogin(t.db, exporterRole, 'uuid_migration_monitor', 'not-used-under-trust-auth');
    await createLogin(t.db, `${exporterRole}_gf`, 'uuid_lookup_reader', 'not-used-under-trust-auth');

    // The Postgres exporter, as the least-privilege login.
    const dbUrl = new URL(t.url ?? '');
    const exporter = await startPostgresExporter(`postgresql://${exporterRole}@${dbUrl.host}${dbUrl.pathname}?sslmode=disable`);
    processes.push(exporter.process);

    // The scheduled worker, serving its metrics: new jobs since the run above for it to take.
    await t.db.exec("INSERT INTO jobs (micro_id) SELECT 'service-1' FROM generate_series(1, 50)");
    const workerPort = await freePort();
    worker = createMigrationWorker({ db: t.db, metricsPort: workerPort, intervalMillis: 60_000, retryIntervalMillis: 3_600_000, log: () => {} });
    await worker.start();

    // The collector as shipped; the SDK exports to it over OTLP, as a Node service does.
    collector = await startCollector(dir);
    processes.push(collector.process);
    telemetry = createNodeTelemetry({ serviceName: 'stack-test', otlp: { url: collector.otlpHttpUrl, exportIntervalMillis: 1_000 } });
    const logger = createUuidLookupLogger({ meter: telemetry.meter });
    const uuid = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';
    const burst = (): void => {
      for (let i = 0; i < 20; i += 1) {
        if (i % 4 === 0) logger.logFailure('service-1', 150, 'Service not found'); // 25 % failures
        else logger.logSuccess('service-1', uuid, 150, i % 2 === 1); // 50 % fallbacks, 150 ms
      }
      logger.logSuccess('service-1', uuid, Number.NaN); // not a duration: dropped and counted
    };
    burst();
    traffic = setInterval(burst, 250);

    // A webhook receiver standing in for the pager; Alertmanager as shipped, sending to it.
    webhook = await startJsonWebhook<Notification>();
    notifications = webhook.received;
    const alertmanager = await startAlertmanager(dir, webhook.url);
    processes.push(alertmanager.process);

    // Prometheus as shipped, scraping all of them and evaluating the generated rules.
    prometheus = await startPrometheus(dir, {
      targets: {
        [defaultMixinConfig.lookupJob]: [collector.address],
        [defaultMixinConfig.migrationJob]: [exporter.address],
        [defaultMixinConfig.workerJob]: [`127.0.0.1:${workerPort}`],
        'otel-collector': [collector.telemetryAddress],
      },
      rulesFile: writeImmediateRules(dir),
      alertmanager: alertmanager.address,
    });
    prometheusUrl = prometheus.url;
  }, 120_000);

  afterAll(async () => {
    clearInterval(traffic);
    await worker?.stop();
    await telemetry?.shutdown();
    await Promise.all([...processes, ...(prometheus ? [prometheus.process] : [])].map((p) => p.stop()));
    await webhook?.close();
    await t?.dispose();
    if (exporterRole !== undefined) await dropServerRoles(exporterRole, `${exporterRole}_gf`);
    rmSync(dir, { recursive: true, force: true });
  });

  const query = async (expr: string): Promise<{ status: string; data: { result: unknown[] }; error?: string }> => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as { status: string; data: { result: unknown[] }; error?: string };
  };

  it('scrapes the migration statistics from the exporter under the contract\'s names', async () => {
    const result = await waitFor('uuid_migration_failed_migrations', async () => {
      const r = await query('uuid_migration_failed_migrations');
      return r.data.result.length > 0 ? r : undefined;
    });
    expect((result.data.result[0] as { value: [number, string] }).value[1]).toBe('100');
    // Every gauge of the contract's queries (queries.yml is rendered from it) comes out of the real exporter under its name.
    const names = EXPORTER_QUERIES.flatMap((q) => q.metrics.filter((m) => m.usage === 'GAUGE').map((m) => `${q.namespace}_${m.column}`));
    const missing = await waitFor('every exporter metric', async () => {
      const absent: string[] = [];
      for (const name of names) if ((await query(name)).data.result.length === 0) absent.push(name);
      return absent.length === 0 ? absent : undefined;
    });
    expect(missing).toEqual([]);
    expect(names.length).toBeGreaterThan(15);
  });

  it('folds the pending lookup events into the rollups on every exporter scrape', async () => {
    const pending = async () => Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_rollup_pending')).rows[0]?.n);
    // Statements of 10 events: most leave them pending (one in 32 folds).
    const statement = `INSERT INTO analytics_events (event_name, event_category, event_properties, session_id)
      SELECT 'uuid_lookup', 'wizard_flow', '{"micro_slug": "service-1", "micro_uuid": "3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90", "lookup_time_ms": 4, "success": true, "fallback_used": false}', 'scrape-' || g
      FROM generate_series(1, 10) g`;
    for (let i = 0; i < 3 || (await pending()) === 0; i += 1) await t.db.exec(statement);
    expect(await pending()).toBeGreaterThan(0);
    await waitFor('a scrape that folds', async () => ((await pending()) === 0 ? true : undefined));
    const metric = await waitFor('uuid_lookup_rollups_folded_events', async () => {
      const r = await query('uuid_lookup_rollups_folded_events');
      return r.data.result.length > 0 ? r : undefined;
    });
    expect(metric.status).toBe('success');
    // A transaction that folded and stays open holds the fold lock: the scrape skips its
    // fold (fold_skipped 1) instead of waiting, so the migration metrics keep coming.
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT public.fold_lookup_analytics_rollups()');
      await waitFor('a scrape that skips its fold', async () => {
        const r = await query('uuid_lookup_rollups_fold_skipped == 1 and on() uuid_migration_total_jobs > 0');
        return r.data.result.length > 0 ? r : undefined;
      });
      await holder.query('COMMIT');
      await waitFor('a scrape that folds again', async () => {
        const r = await query('uuid_lookup_rollups_fold_skipped == 0');
        return r.data.result.length > 0 ? r : undefined;
      });
    } finally {
      await holder.end();
    }
  });

  it('delivers a critical alert through Alertmanager to the webhook', async () => {
    const critical = await waitFor(
      'a critical notification',
      async () => notifications.find((n) => n.receiver === 'critical-page' && n.status === 'firing'),
      60_000,
    );
    expect(critical.alerts.every((a) => a.labels.severity === 'critical')).toBe(true);
  });

  const allThresholdAlertsFiring = (): Promise<boolean> =>
    waitFor('all threshold alerts', async () => {
      const response = await fetch(`${prometheusUrl}/api/v1/alerts`);
      const { data } = (await response.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      const firing = new Set(data.alerts.filter((a) => a.state === 'firing').map((a) => `${a.labels.alertname}/${a.labels.severity}`));
      const wanted = ['UuidLookupLatencyHigh', 'UuidLookupFailureRateHigh', 'UuidLookupFallbackRateHigh', 'UuidMigrationFailureRateHigh']
        .flatMap((name) => [`${name}/warning`, `${name}/critical`]);
      return wanted.every((w) => firing.has(w)) ? true : undefined;
    }, 60_000);

  it('fires every threshold alert at both severities on this traffic', async () => {
    expect(await allThresholdAlertsFiring()).toBe(true);
  });

  it('returns data for every PromQL query of every dashboard (variables as Grafana expands them), rule and Grafana alert rule', async () => {
    const exprs = new Map<string, string>();
    const c = defaultMixinConfig;
    // And as a multi-cluster configuration renders them: a $cluster matcher everywhere, extra matchers on the raw series.
    // This stack's series carry no cluster or namespace label: $cluster as .* and namespace!="staging" take them.
    const clusters = resolveMixinConfig({ selectors: { lookup: 'namespace!="staging"', migration: 'namespace!="staging"', worker: 'namespace!="staging"' }, showMultiCluster: true });
    const dashboards = [c, clusters].flatMap((config) => [
      { dashboard: lookupDashboard(config), job: [c.lookupJob] },
      { dashboard: migrationDashboard(config), job: [c.migrationJob, c.workerJob] },
      { dashboard: analyticsDashboard(config), job: [c.lookupJob] },
    ]);
    for (const { dashboard, job } of dashboards) {
      for (const panel of dashboard.panels ?? []) {
        for (const target of (panel as { targets?: { expr?: string }[] }).targets ?? []) {
          if (target.expr === undefined) continue;
          // The dashboards' defaults: the configured jobs, every instance; a 1 s scrape interval makes $__rate_interval 4 s, taken wider here.
          const expr = expandPromQL(target.expr, { job, instance: 'All', rateInterval: '15s', range: '1m' }).replace(/\$cluster\b/g, '.*');
          exprs.set(expr, `${dashboard.title} / ${(panel as { title?: string }).title}`);
        }
      }
    }
    for (const config of [c, clusters]) {
      const rules = prometheusRules(config) as { groups: { rules: { expr: string; record?: string; alert?: string }[] }[] };
      for (const rule of rules.groups.flatMap((g) => g.rules)) exprs.set(rule.expr, rule.record ?? rule.alert ?? '');
    }
    const grafana = grafanaAlertRules(resolveMixinConfig({ grafana: { managedAlerts: true } })) as { groups: { rules: { title: string; data: { model: { expr?: string } }[] }[] }[] };
    for (const rule of grafana.groups[0]?.rules ?? []) {
      const expr = rule.data[0]?.model.expr;
      if (expr !== undefined) exprs.set(expr, `grafana: ${rule.title}`);
    }
    // Absence alerts have no data while every target is up: they must evaluate, not return series.
    const absence = /absent\(|up\{.*\} == 0|unless on\(/;
    // Alerts whose condition is false here (the worker makes progress, scrapes fold, the collector takes every point, no
    // back-fill run is held or silent: the "Back-fill runs" panels read the same series; the SLO burn-rate alerts fire or
    // not with this run's failure ratio and latency, their recording rules have data either way) must only evaluate.
    const quiet = new Set([
      'UuidMigrationStalled', 'UuidLookupRollupsFoldHeld', 'UuidLookupMetricsRefused', 'UuidMigrationRunHeldLong', 'UuidMigrationRunSilent',
      'UuidLookupLatencyBudgetBurn', 'UuidLookupAvailabilityBudgetBurn', 'UUID lookups / SLO burn-rate alerts firing',
    ]);
    const empty: string[] = [];
    await waitFor('recording rules to have data', async () => ((await query('job:uuid_migration_failed_jobs:ratio')).data.result.length > 0 ? true : undefined));
    // The SLO group runs each minute: its budget rules read the ratios it recorded in its first run.
    await waitFor(
      'the SLO group to have run',
      async () => ((await query('job:uuid_lookup_availability_slo_errors:ratio_rate30d')).data.result.length > 0 ? true : undefined),
      90_000,
    );
    for (const [expr, where] of exprs) {
      const result = await query(expr);
      expect(result.status, `${where}: ${expr}: ${result.error ?? ''}`).toBe('success');
      if (!absence.test(expr) && !quiet.has(where) && result.data.result.length === 0) empty.push(`${where}: ${expr}`);
    }
    expect(empty).toEqual([]);
    expect(exprs.size).toBeGreaterThan(40);
  }, 210_000);

  it('keeps job and instance on the per-target recording rules, and job on the alerts', async () => {
    const perTarget = await query('job_instance:uuid_lookups:rate5m');
    const labels = (perTarget.data.result as { metric: Record<string, string> }[]).map((r) => r.metric);
    expect(labels.length).toBeGreaterThan(0);
    for (const metric of labels) expect(Object.keys(metric).sort()).toEqual(['__name__', 'instance', 'job']);
    const response = await fetch(`${prometheusUrl}/api/v1/alerts`);
    const { data } = (await response.json()) as { data: { alerts: { labels: Record<string, string> }[] } };
    const latency = data.alerts.find((a) => a.labels.alertname === 'UuidLookupLatencyHigh');
    expect(latency?.labels.job).toBe(defaultMixinConfig.lookupJob);
  });

  it('runs every SQL panel of every dashboard on PostgreSQL as the read-only dashboard role, the time macros expanded as Grafana does', async () => {
    const range = { from: new Date(Date.now() - 7 * 86_400_000), to: new Date() };
    let count = 0;
    for (const dashboard of [lookupDashboard(defaultMixinConfig), migrationDashboard(defaultMixinConfig), analyticsDashboard(defaultMixinConfig)]) {
      for (const panel of dashboard.panels ?? []) {
        for (const target of (panel as { targets?: { rawSql?: string }[] }).targets ?? []) {
          if (target.rawSql === undefined) continue;
          const sql = expandSqlMacros(target.rawSql, range);
          expect(sql).not.toContain('$__');
          const rows = await t.db.transaction(async (tx) => {
            await tx.query('SET LOCAL ROLE uuid_lookup_reader');
            return (await tx.query(sql)).rows;
          });
          count += 1;
          const title = (panel as { title?: string }).title ?? '';
          if (title === 'Failed migrations by error') expect(rows).toEqual([expect.objectContaining({ error_message: 'poisoned' })]);
        }
      }
    }
    expect(count).toBe(14);
  });

  it('evaluates the rules again and resumes the alerts after Prometheus restarts', async () => {
    await prometheus?.stop();
    const down = await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined);
    expect(down).toBeUndefined();
    await prometheus?.restart();
    const before = Date.now() / 1000;
    // Fresh evaluations after the restart, not the state restored from before it.
    await waitFor('a recording rule evaluated after the restart', async () => {
      const { data } = (await (await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent('job:uuid_lookup_failures:ratio_rate5m')}`)).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      const sample = data.result[0]?.value;
      return sample !== undefined && sample[0] > before ? true : undefined;
    }, 60_000);
    expect(await allThresholdAlertsFiring()).toBe(true);
  });
});
