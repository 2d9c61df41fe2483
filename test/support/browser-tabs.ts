import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { LOOKUP_DURATION_BUCKETS_SECONDS, UNKNOWN_SLUG_LABEL } from '../../src/contract/metrics.ts';
import type { PlannedLookup } from '../browser/telemetry-tab.ts';
import { bundlePageScript, launchChromium } from './chromium.ts';

// Many tabs of the booking wizard in Debian's Chromium (driven by playwright-core),
// each with its own clock, opening late and closing early, each making a known
// set of lookups through the browser preset. What they did is the truth that the
// metrics path (collector, Prometheus) must add up to.

/** The page server: the tab page and its bundle, on an origin the collector allows by CORS. */
export interface TabServer {
  origin: string;
  close(): Promise<void>;
}

export async function startTabServer(): Promise<TabServer> {
  const script = await bundlePageScript(new URL('../browser/telemetry-tab.ts', import.meta.url));
  const server = http.createServer((req, res) => {
    if (req.url === '/tab.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
    } else if (req.url?.startsWith('/tab?')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>wizard tab</title><script type="module" src="/tab.js"></script>');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What the tabs did, per (slug label, outcome, fallback): the figures Prometheus must show. */
export interface LookupTruth {
  count: number;
  sumSeconds: number;
  /** Cumulative count per bucket bound (seconds, as Prometheus's `le`), +Inf included. */
  buckets: Map<string, number>;
}

export const truthKey = (slug: string, outcome: string, fallback: boolean): string => `${slug}|${outcome}|${fallback}`;

/** The slug every failed lookup asks for: it never resolves, so its label is `__unknown__` (a slug is a label once it resolved). */
export const MISSING_SLUG = 'retired-service';

function addToTruth(truth: Map<string, LookupTruth>, l: PlannedLookup): void {
  const key = truthKey(l.slug === MISSING_SLUG ? UNKNOWN_SLUG_LABEL : l.slug, l.outcome, l.outcome === 'success' && l.fallback);
  let t = truth.get(key);
  if (t === undefined) {
    t = { count: 0, sumSeconds: 0, buckets: new Map([...LOOKUP_DURATION_BUCKETS_SECONDS.map((b) => [String(b), 0] as const), ['+Inf', 0]]) };
    truth.set(key, t);
  }
  t.count += 1;
  t.sumSeconds += l.ms / 1000;
  for (const bound of LOOKUP_DURATION_BUCKETS_SECONDS) if (l.ms / 1000 <= bound) t.buckets.set(String(bound), (t.buckets.get(String(bound)) ?? 0) + 1);
  t.buckets.set('+Inf', (t.buckets.get('+Inf') ?? 0) + 1);
}

/** How many tabs, how skewed, how long each lives. Everything is derived from the tab's index: runs repeat. */
export interface TabsPlan {
  tabs: number;
  /** Each tab's clock is off by up to this much, either way (spread evenly over the tabs). */
  maxSkewMillis: number;
  /** The browser preset's export interval in each tab. */
  exportIntervalMillis: number;
  /** Tab i opens i × this after the first. */
  staggerMillis: number;
  /** Rounds of lookups per tab, `roundMillis` apart. */
  rounds: number;
  roundMillis: number;
  slugs: string[];
  /**
   * Every n-th tab closes right after its last round (the page-hide flush must deliver);
   * the others after one more export. Default 3; 0: none closes early.
   */
  closeEarlyEvery?: number;
}

/** The lookups tab `tab` makes in round `round`: a mix of outcomes, fallbacks and durations across every bucket. */
export function plannedLookups(plan: TabsPlan, tab: number, round: number): PlannedLookup[] {
  const lookups: PlannedLookup[] = [];
  const n = 3 + ((tab + round) % 4);
  for (let k = 0; k < n; k += 1) {
    const i = tab * 31 + round * 7 + k;
    const outcome = i % 5 === 0 ? 'failure' : 'success';
    const slug = outcome === 'failure' ? MISSING_SLUG : (plan.slugs[i % plan.slugs.length] ?? MISSING_SLUG);
    // Durations over the buckets' range, bounds included: 5, 50, 100 ms land on a bound exactly.
    const ms = [3, 5, 12, 40, 50, 80, 100, 180, 400, 900, 2000][i % 11] ?? 10;
    lookups.push({ slug, ms, outcome, fallback: outcome === 'success' && i % 3 === 0 });
  }
  return lookups;
}

/** The skew of tab `tab`: evenly from −max to +max over the tabs. */
export function tabSkewMillis(plan: TabsPlan, tab: number): number {
  if (plan.tabs <= 1) return 0;
  return Math.round(-plan.maxSkewMillis + (2 * plan.maxSkewMillis * ((tab * 7) % plan.tabs)) / (plan.tabs - 1));
}

/** What a run did: the truth, and what the tabs saw go wrong (export errors). */
export interface TabsRun {
  truth: Map<string, LookupTruth>;
  lookups: number;
  exportErrors: string[];
  /** Tabs closed early (the page-hide flush delivered their last lookups) and tabs closed after an export. */
  closedEarly: number;
  /** The export requests as the browser saw them end: answered, or failed (and why); the slowest answer's time. */
  exportRequests: { finished: number; failed: string[]; slowestMillis: number };
}

/**
 * Opens `plan.tabs` tabs of `origin`'s tab page in one Chromium (each its own
 * browser context, its own clock), runs every tab's rounds of lookups, and closes
 * them: every `closeEarlyEvery`-th tab right after its last round (the page-hide
 * flush must deliver), the others after one more export interval.
 */
export async function runTabs(origin: string, otlpUrl: string, plan: TabsPlan): Promise<TabsRun> {
  // Each tab its own renderer process, as each user's tab is: Chromium otherwise puts
  // many of them in one, and they share its budget of pending keepalive requests (9),
  // past which the OTLP exporter sends without keepalive and a closing tab loses its
  // last export.
  const browser: Browser = await launchChromium({ extraArgs: ['--renderer-process-limit=1000'] });
  const truth = new Map<string, LookupTruth>();
  const exportErrors: string[] = [];
  let lookups = 0;
  let closedEarly = 0;
  const exports = { finished: 0, failed: [] as string[], slowestMillis: 0 };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    const runTab = async (tab: number): Promise<void> => {
      await sleep(tab * plan.staggerMillis);
      const context = await browser.newContext();
      // Every export request the tab makes, as the browser saw it end.
      context.on('requestfinished', (request) => {
        if (request.url() !== otlpUrl || request.method() !== 'POST') return;
        exports.finished += 1;
        const timing = request.timing();
        exports.slowestMillis = Math.max(exports.slowestMillis, timing.responseEnd);
        // The answer's status; a tab closed by then has no answer to read (it finished all the same).
        request.response().then(
          (response) => {
            if (response !== null && response.status() !== 200) exports.failed.push(`tab ${tab}: HTTP ${response.status()}`);
          },
          () => {},
        );
      });
      context.on('requestfailed', (request) => {
        if (request.url() === otlpUrl && request.method() === 'POST') exports.failed.push(`tab ${tab}: ${request.failure()?.errorText ?? 'failed'}`);
      });
      const skew = tabSkewMillis(plan, tab);
      // The tab's clock: what the OpenTelemetry SDK reads (performance.timeOrigin) and Date.
      await context.addInitScript((skewMillis: number) => {
        const origin = performance.timeOrigin + skewMillis;
        Object.defineProperty(performance, 'timeOrigin', { configurable: true, get: () => origin });
        const realNow = Date.now.bind(Date);
        Date.now = () => realNow() + skewMillis;
      }, skew);
      const page: Page = await context.newPage();
      const query = new URLSearchParams({ otlp: otlpUrl, interval: String(plan.exportIntervalMillis) });
      await page.goto(`${origin}/tab?${query.toString()}`);
      await page.waitForFunction(() => (window as unknown as { tabReady?: boolean }).tabReady === true, undefined, { timeout: 120_000 });
      for (let round = 0; round < plan.rounds; round += 1) {
        if (round > 0) await sleep(plan.roundMillis);
        const planned = plannedLookups(plan, tab, round);
        await page.evaluate((p) => (window as unknown as { lookups: (l: unknown) => number }).lookups(p), planned);
        for (const l of planned) addToTruth(truth, l);
        lookups += planned.length;
      }
      const every = plan.closeEarlyEvery ?? 3;
      if (every > 0 && tab % every === 0) {
        closedEarly += 1;
      } else {
        await sleep(plan.exportIntervalMillis + 500);
      }
      exportErrors.push(...(await page.evaluate(() => (window as unknown as { exportErrors?: string[] }).exportErrors ?? [])));
      await page.close({ runBeforeUnload: true });
      // The page-hide export is in flight when the page goes: the browser, not the page, finishes it.
      await sleep(1_000);
      await context.close();
    };
    await Promise.all(Array.from({ length: plan.tabs }, (_, tab) => runTab(tab)));
  } finally {
    await browser.close();
  }
  return { truth, lookups, exportErrors, closedEarly, exportRequests: exports };
}
