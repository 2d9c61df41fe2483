import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTOR_DELTA_POINTS, PROMETHEUS_NAMES } from '../../src/contract/metrics.ts';
import { defaultMixinConfig } from '../../src/mixin/mixin-config.ts';
import type { TabsPlan, TabsRun } from '../support/browser-tabs.ts';
import { runTabs, startTabServer, truthKey } from '../support/browser-tabs.ts';
import type { TabServer } from '../support/browser-tabs.ts';
import { startJsonWebhook } from '../support/json-webhook.ts';
import { startRoundRobinProxy } from '../support/round-robin-proxy.ts';
import type { RunningProcess } from '../support/processes.ts';
import { waitFor } from '../support/processes.ts';
import type { RunningCollector, RunningPrometheus } from '../support/stack.ts';
import { promQuery, startAlertmanager, startCollector, startPrometheus, writeImmediateRules } from '../support/stack.ts';

// The production telemetry path, for real: tabs of the booking wizard in Chromium
// (the browser preset as an app wires it) → OTLP/HTTP → the collector running the
// shipped otel-collector/config.yaml → Prometheus 3 running the shipped
// prometheus.yml and the generated rules → Alertmanager. Every tab has its own
// clock, skewed up to three minutes either way; tabs open late, and a third of them
// close right after their last lookups (the page-hide flush).
// What Prometheus holds must be what the tabs did: nothing lost, nothing twice.

const plan: TabsPlan = {
  tabs: 50,
  maxSkewMillis: 180_000,
  exportIntervalMillis: 2_000,
  staggerMillis: 100,
  rounds: 3,
  roundMillis: 1_500,
  slugs: ['wall-painting', 'tiling', 'plumbing'],
  // A third of the tabs close right after their last lookups: the page-hide export must
  // deliver them, even when the tab's periodic export is still unanswered.
  closeEarlyEvery: 3,
};

// One collector; then two replicas behind a load balancer that sends each request to the
// next replica, so one tab's exports land on both: no routing, each replica the one
// writer of its own sums, Prometheus adding them up.
describe.each([
  { replicas: 1, title: 'one collector' },
  { replicas: 2, title: 'two collector replicas behind a round-robin load balancer' },
])('browsers → $title → Prometheus 3 → Alertmanager, 50 tabs with skewed clocks', ({ replicas }) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-telemetry-'));
  const processes: RunningProcess[] = [];
  type Notification = { receiver: string; status: string; alerts: { labels: Record<string, string> }[] };
  let tabServer: TabServer;
  let collectors: RunningCollector[];
  let balancer: Awaited<ReturnType<typeof startRoundRobinProxy>> | undefined;
  let prometheus: RunningPrometheus;
  let webhook: Awaited<ReturnType<typeof startJsonWebhook<Notification>>>;
  let run: TabsRun;

  beforeAll(async () => {
    tabServer = await startTabServer();
    collectors = [];
    for (let i = 0; i < replicas; i += 1) collectors.push(await startCollector(dir, { corsOrigin: tabServer.origin }));
    processes.push(...collectors.map((c) => c.process));
    const otlpUrl = collectors.length === 1 ? (collectors[0]?.otlpHttpUrl ?? '') : await (async () => {
      balancer = await startRoundRobinProxy(collectors.map((c) => new URL(c.otlpHttpUrl).host));
      return `${balancer.url}/v1/metrics`;
    })();
    webhook = await startJsonWebhook<Notification>();
    const alertmanager = await startAlertmanager(dir, webhook.url);
    processes.push(alertmanager.process);
    const rulesFile = writeImmediateRules(dir);
    prometheus = await startPrometheus(dir, {
      targets: { [defaultMixinConfig.lookupJob]: collectors.map((c) => c.address), 'otel-collector': collectors.map((c) => c.telemetryAddress) },
      rulesFile,
      alertmanager: alertmanager.address,
    });
    processes.push(prometheus.process);
    run = await runTabs(tabServer.origin, otlpUrl, plan);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await webhook?.close();
    await balancer?.close();
    await tabServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sel = `job="${defaultMixinConfig.lookupJob}"`;
  /** Prometheus's current figure per (slug, outcome, fallback[, le]), summed over every other label. */
  const byKey = async (expr: string, extra: string[] = []): Promise<Map<string, number>> => {
    const result = await promQuery(prometheus.url, `sum by (micro_slug, outcome, fallback${extra.map((l) => `, ${l}`).join('')}) (${expr})`);
    const figures = new Map<string, number>();
    for (const r of result.data.result) {
      const key = truthKey(r.metric.micro_slug ?? '', r.metric.outcome ?? '', r.metric.fallback === 'true');
      figures.set(extra.length === 0 ? key : `${key}|${r.metric.le === '+Inf' ? Infinity : Number(r.metric.le)}`, Number(r.value[1]));
    }
    return figures;
  };
  const differences = (want: Map<string, number>, got: Map<string, number>): string[] =>
    [...new Set([...want.keys(), ...got.keys()])].filter((k) => Math.abs((want.get(k) ?? 0) - (got.get(k) ?? 0)) > 1e-9).map((k) => `${k}: made ${want.get(k) ?? 0}, Prometheus ${got.get(k) ?? 0}`);

  it('holds every lookup once: the counter, the histogram count and sum, and every bucket, per slug, outcome and fallback', async () => {
    expect(run.lookups).toBeGreaterThan(500);
    expect(run.closedEarly).toBe(Math.ceil(plan.tabs / 3)); // their last lookups went with the page-hide export
    // No export may fail, with one exception: on a swamped machine (50 renderers on two
    // cores), a tab's answer can be later than the exporter's timeout (10 s), which aborts
    // the request. The tab cannot know whether the collector took it; the counts below
    // must then say that it did. Any other error, and more than one export in 50
    // aborted, is a failure here.
    const aborted = run.exportErrors.filter((e) => e.includes('(AbortError:'));
    expect({
      errors: run.exportErrors.filter((e) => !aborted.includes(e)),
      failed: run.exportRequests.failed.filter((f) => !f.endsWith('net::ERR_ABORTED')),
      slowestMillis: run.exportRequests.slowestMillis,
    }).toEqual({ errors: [], failed: [], slowestMillis: run.exportRequests.slowestMillis });
    expect(aborted.length).toBeLessThanOrEqual(run.exportRequests.finished / 50);
    if (aborted.length > 0) console.warn(`${aborted.length} export(s) timed out in the tabs; the slowest answered one took ${Math.round(run.exportRequests.slowestMillis)} ms`);
    const counts = new Map([...run.truth].map(([k, t]) => [k, t.count]));
    // Exports, scrapes and rule evaluations every second or two: wait until the counter agrees, or show how it differs.
    let last: string[] = [];
    await waitFor(
      'Prometheus to hold every lookup',
      async () => {
        last = differences(counts, await byKey(`${PROMETHEUS_NAMES.lookups}{${sel}}`));
        return last.length === 0 ? true : undefined;
      },
      30_000,
    ).catch(() => expect({ differences: last, exportRequestsFailed: run.exportRequests.failed }).toEqual({ differences: [], exportRequestsFailed: [] }));
    expect(differences(counts, await byKey(`${PROMETHEUS_NAMES.lookupDuration}_count{${sel}}`))).toEqual([]);
    const sums = new Map([...run.truth].map(([k, t]) => [k, Number(t.sumSeconds.toFixed(9))]));
    const gotSums = new Map([...(await byKey(`${PROMETHEUS_NAMES.lookupDuration}_sum{${sel}}`))].map(([k, v]) => [k, Number(v.toFixed(9))]));
    expect(differences(sums, gotSums)).toEqual([]);
    const buckets = new Map([...run.truth].flatMap(([k, t]) => [...t.buckets].map(([le, n]) => [`${k}|${Number(le === '+Inf' ? Infinity : le)}`, n] as const)));
    expect(differences(buckets, await byKey(`${PROMETHEUS_NAMES.lookupDuration}_bucket{${sel}}`, ['le']))).toEqual([]);
    // The collector dropped no point on the way (deltatocumulative counts what it drops by error).
    const dropped = await promQuery(prometheus.url, `sum(${COLLECTOR_DELTA_POINTS}{error!=""}) or vector(0)`);
    expect(dropped.data.result[0]?.value[1]).toBe('0');
    // Behind the balancer, both replicas took exports, and both hold part of the sums.
    if (balancer !== undefined) {
      expect(balancer.forwarded.every((n) => n > 10)).toBe(true);
      const perReplica = await promQuery(prometheus.url, `sum by (instance) (${PROMETHEUS_NAMES.lookups}{${sel}})`);
      expect(perReplica.data.result.map((r) => Number(r.value[1]) > 0)).toEqual([true, true]);
    }
  });

  it('fires the failure and latency alerts as critical and the fallback alert as warning only (27 % of lookups), through Alertmanager', async () => {
    const firing = await waitFor(
      'the lookup alerts',
      async () => {
        const response = await fetch(`${prometheus.url}/api/v1/alerts`);
        const { data } = (await response.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
        const names = new Set(data.alerts.filter((a) => a.state === 'firing').map((a) => `${a.labels.alertname}/${a.labels.severity}`));
        return ['UuidLookupFailureRateHigh/critical', 'UuidLookupLatencyHigh/critical', 'UuidLookupFallbackRateHigh/warning'].every((n) => names.has(n)) ? names : undefined;
      },
      60_000,
    );
    expect(firing.has('UuidLookupFallbackRateHigh/critical')).toBe(false);
    const share = [...run.truth].filter(([k]) => k.endsWith('|success|true')).reduce((n, [, t]) => n + t.count, 0) / run.lookups;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    const paged = await waitFor('a page for the critical lookup alerts', async () =>
      webhook.received.find((n) => n.receiver === 'critical-page' && n.status === 'firing' && n.alerts.some((a) => a.labels.alertname?.startsWith('UuidLookup'))),
    );
    expect(paged.alerts.every((a) => a.labels.severity === 'critical')).toBe(true);
  });
});
