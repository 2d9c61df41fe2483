// npm run bench:telemetry: the browsers' metrics path, measured on the collector built
// from otel-collector/builder-config.yaml running the shipped otel-collector/config.yaml.
//
// Tabs phase: TABS tabs of the booking wizard in Chromium, each with its own clock
// (skewed up to MAX_SKEW_MS either way), opening STAGGER_MS apart, closing early (the
// page-hide flush) or late, make known lookups through the browser preset. Then the
// collector's Prometheus endpoint (what Prometheus scrapes) is compared with what the
// tabs did: lookups lost or counted twice, per figure (count, sum, every bucket), the
// series it exposes, what deltatocumulative dropped and why.
//
// Load phase: LOAD_TABS browser presets in this process send LOAD_RATE lookups/s for
// LOAD_SECONDS; the collector's CPU per 1,000 lookups/s, and whether every one counted.
//
// Prints JSON. TABS=50 MAX_SKEW_MS=120000 LOAD_TABS=200 LOAD_RATE=1000 npm run bench:telemetry
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROMETHEUS_NAMES } from '../src/contract/metrics.ts';
import type { LookupTruth, TabsPlan } from '../test/support/browser-tabs.ts';
import { runTabs, startTabServer, truthKey } from '../test/support/browser-tabs.ts';
import { parsePrometheusText } from '../test/support/prometheus-text.ts';
import type { Sample } from '../test/support/prometheus-text.ts';
import { startCollector } from '../test/support/stack.ts';
import type { RunningCollector } from '../test/support/stack.ts';
import { createBrowserTelemetry } from '../src/browser/browser-telemetry.ts';
import { createUuidLookupLogger } from '../src/core/uuid-lookup-logger.ts';
import { nearestRank } from './support/quantiles.ts';

const plan: TabsPlan = {
  tabs: Number(process.env.TABS ?? 50),
  maxSkewMillis: Number(process.env.MAX_SKEW_MS ?? 120_000),
  exportIntervalMillis: Number(process.env.EXPORT_INTERVAL_MS ?? 2_000),
  staggerMillis: Number(process.env.STAGGER_MS ?? 100),
  rounds: Number(process.env.ROUNDS ?? 3),
  roundMillis: Number(process.env.ROUND_MS ?? 1_500),
  slugs: ['wall-painting', 'tiling', 'plumbing'],
  closeEarlyEvery: Number(process.env.CLOSE_EARLY_EVERY ?? 3),
};

// The load phase: LOAD_TABS browser presets in this process (Node's fetch stands in for the
// browser's), LOAD_RATE lookups/s among them for LOAD_SECONDS, exporting every second.
const load = { tabs: Number(process.env.LOAD_TABS ?? 200), lookupsPerSecond: Number(process.env.LOAD_RATE ?? 1_000), seconds: Number(process.env.LOAD_SECONDS ?? 20) };

async function loadPhase(collector: RunningCollector, cpuSeconds: () => number): Promise<Record<string, number>> {
  const tabs = Array.from({ length: load.tabs }, () => {
    const telemetry = createBrowserTelemetry({ serviceName: 'booking-wizard', otlpUrl: collector.otlpHttpUrl, exportIntervalMillis: 1_000, onExportError: () => (exportErrors += 1) });
    return { telemetry, logger: createUuidLookupLogger({ meter: telemetry.meter }) };
  });
  let exportErrors = 0;
  const before = await countedLookups(collector);
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  let made = 0;
  while (performance.now() - started < load.seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * load.lookupsPerSecond);
    for (; made < due; made += 1) {
      const tab = tabs[made % tabs.length];
      if (made % 10 === 0) tab?.logger.logFailure('retired-service', 20, 'Service not found');
      else tab?.logger.logSuccess(['wall-painting', 'tiling', 'plumbing'][made % 3] ?? 'tiling', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 5 + (made % 90), made % 7 === 0);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(tabs.map((t) => t.telemetry.shutdown({ timeoutMillis: 5_000 })));
  let counted = 0;
  for (let still = 0, last = -1; still < 3; last = counted) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    counted = (await countedLookups(collector)) - before;
    still = counted === last ? still + 1 : 0;
  }
  const cpu = cpuSeconds() - cpuBefore;
  const rate = made / elapsed;
  return {
    tabs: load.tabs,
    lookups_per_second: Math.round(rate),
    lookups_made: made,
    lookups_counted: counted,
    export_errors: exportErrors,
    collector_cpu_cores: Number((cpu / elapsed).toFixed(3)),
    collector_cpu_cores_per_1000_lookups_per_second: Number(((cpu / elapsed / rate) * 1000).toFixed(3)),
  };
}

async function countedLookups(collector: RunningCollector, slug?: string): Promise<number> {
  const samples = parsePrometheusText(await (await fetch(`http://${collector.address}/metrics`)).text());
  return samples.filter((s) => s.name === PROMETHEUS_NAMES.lookups && (slug === undefined || s.labels.micro_slug === slug)).reduce((n, s) => n + s.value, 0);
}

/**
 * The collector's share of the delay from logSuccess to Prometheus: one lookup, the
 * tab's export sent at once (forceFlush), until the collector's endpoint counts it.
 * The rest of the delay is waiting: for the tab's next export (0 to its interval,
 * 30 s by default) and for Prometheus's next scrape (0 to 15 s shipped).
 */
async function pipelineDelays(collector: RunningCollector, probes: number): Promise<{ p50_ms: number; p99_ms: number; max_ms: number }> {
  const telemetry = createBrowserTelemetry({ serviceName: 'booking-wizard', otlpUrl: collector.otlpHttpUrl, exportIntervalMillis: 600_000 });
  const logger = createUuidLookupLogger({ meter: telemetry.meter, knownSlugs: ['delay-probe'] });
  const delays: number[] = [];
  try {
    for (let i = 0; i < probes; i += 1) {
      const before = await countedLookups(collector, 'delay-probe');
      const started = performance.now();
      logger.logSuccess('delay-probe', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 10);
      await telemetry.forceFlush();
      while ((await countedLookups(collector, 'delay-probe')) <= before) await new Promise((resolve) => setTimeout(resolve, 10));
      delays.push(performance.now() - started);
    }
  } finally {
    await telemetry.shutdown();
  }
  delays.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(nearestRank(delays, q) ?? 0);
  return { p50_ms: at(0.5), p99_ms: at(0.99), max_ms: Math.round(delays.at(-1) ?? 0) };
}

const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-bench-telemetry-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true })); // interrupted too (Ctrl-C)
const tabServer = await startTabServer();
const scrape = async (address: string): Promise<Sample[]> => parsePrometheusText(await (await fetch(`http://${address}/metrics`)).text());

/** One collector, one tabs phase (and the load phase if asked): its figures. */
async function measure(variant: string, options: { withoutProcessors?: string[]; load?: boolean }): Promise<Record<string, unknown>> {
  const collector = await startCollector(dir, { corsOrigin: tabServer.origin, ...(options.withoutProcessors ? { withoutProcessors: options.withoutProcessors } : {}) });
  const cpuSeconds = (): number => {
    const stat = readFileSync(`/proc/${collector.process.child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  };
  const peakRssMb = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${collector.process.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  try {
    const cpuBefore = cpuSeconds();
    const started = performance.now();
    const run = await runTabs(tabServer.origin, collector.otlpHttpUrl, plan);
    const seconds = (performance.now() - started) / 1000;
    // Settled: the collector's figures have not moved for three seconds.
    let samples = await scrape(collector.address);
    for (let still = 0; still < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const next = await scrape(collector.address);
      still = JSON.stringify(next) === JSON.stringify(samples) ? still + 1 : 0;
      samples = next;
    }
    const cpu = cpuSeconds() - cpuBefore;

    // What the collector exposes, summed over everything but the contract's labels.
    const seen = new Map<string, LookupTruth>();
    const at = (labels: Record<string, string>): LookupTruth => {
      const key = truthKey(labels.micro_slug ?? '', labels.outcome ?? '', labels.fallback === 'true');
      let t = seen.get(key);
      if (t === undefined) {
        t = { count: 0, sumSeconds: 0, buckets: new Map() };
        seen.set(key, t);
      }
      return t;
    };
    let counterTotal = 0;
    for (const s of samples) {
      if (s.name === PROMETHEUS_NAMES.lookups) counterTotal += s.value;
      if (s.name === `${PROMETHEUS_NAMES.lookupDuration}_count`) at(s.labels).count += s.value;
      if (s.name === `${PROMETHEUS_NAMES.lookupDuration}_sum`) at(s.labels).sumSeconds += s.value;
      if (s.name === `${PROMETHEUS_NAMES.lookupDuration}_bucket`) {
        const t = at(s.labels);
        const le = s.labels.le === '+Inf' ? '+Inf' : String(Number(s.labels.le));
        t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value);
      }
    }
    const truthTotal = [...run.truth.values()].reduce((n, t) => n + t.count, 0);
    const seenTotal = [...seen.values()].reduce((n, t) => n + t.count, 0);
    let over = 0;
    let under = 0;
    let bucketsWrong = 0;
    for (const [key, t] of run.truth) {
      const s = seen.get(key);
      const diff = (s?.count ?? 0) - t.count;
      if (diff > 0) over += diff;
      else under -= diff;
      for (const [le, n] of t.buckets) if ((s?.buckets.get(le) ?? 0) !== n) bucketsWrong += 1;
    }
    const loadFigures = options.load === true && load.tabs > 0 ? await loadPhase(collector, cpuSeconds) : undefined;
    const delays = options.load === true ? await pipelineDelays(collector, Number(process.env.DELAY_PROBES ?? 40)) : undefined;
    const collectorOwn = await scrape(collector.telemetryAddress);
    // deltatocumulative counts every point it takes, with an `error` label on those it drops.
    const deltaErrors: Record<string, number> = {};
    let deltaPoints = 0;
    for (const s of collectorOwn) {
      if (!/deltatocumulative_datapoints/.test(s.name)) continue;
      deltaPoints += s.value;
      if (s.labels.error !== undefined) deltaErrors[s.labels.error] = (deltaErrors[s.labels.error] ?? 0) + s.value;
    }
    return {
      variant,
      tabs_closed_early: run.closedEarly,
      lookups_made: run.lookups,
      lookups_in_histogram_count: seenTotal,
      lookups_in_counter: counterTotal,
      lost_fraction: Number(((truthTotal - seenTotal) / truthTotal).toFixed(4)),
      lookups_lost: under,
      lookups_counted_twice: over,
      histogram_buckets_wrong: bucketsWrong,
      lookup_series_exposed: samples.filter((s) => s.name.startsWith('uuid_lookup')).length,
      deltatocumulative_points: deltaPoints,
      deltatocumulative_dropped_by_error: deltaErrors,
      collector_cpu_seconds: Number(cpu.toFixed(2)),
      collector_peak_rss_mb: Number(peakRssMb().toFixed(1)),
      tabs_run_seconds: Number(seconds.toFixed(1)),
      export_errors_in_tabs: run.exportErrors.length,
      export_requests_answered: run.exportRequests.finished,
      export_requests_failed: run.exportRequests.failed,
      ...(loadFigures === undefined ? {} : { load: loadFigures }),
      ...(delays === undefined ? {} : { collector_pipeline_delay: delays }),
    };
  } finally {
    await collector.process.stop();
  }
}

try {
  // The baseline in the same run: the shipped pipeline without the stamping of deltas (the design before it).
  const results = [];
  if (process.env.BASELINE !== '0') results.push(await measure('without transform/stamp_deltas (the earlier design)', { withoutProcessors: ['transform/stamp_deltas'] }));
  results.push(await measure('otel-collector/config.yaml as shipped', { load: true }));
  process.stdout.write(`${JSON.stringify({ benchmark: 'telemetry', plan, results }, null, 2)}\n`);
} finally {
  await tabServer.close();
  rmSync(dir, { recursive: true, force: true });
}
