import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { PlannedLookup } from '../browser/telemetry-tab.ts';
import { bundlePageScript, launchChromium } from '../support/chromium.ts';

/** An OTLP/HTTP JSON metrics export, as much of it as the test reads. */
interface OtlpJson {
  resourceMetrics: { scopeMetrics: { metrics: { name: string; sum?: { dataPoints: { asInt?: string | number; asDouble?: number }[] } }[] }[] }[];
}

/** Lookups counted in `exports` (the `uuid.lookups` counter's deltas, added up). */
const lookupsIn = (exports: OtlpJson[]): number =>
  exports
    .flatMap((e) => e.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)))
    .filter((m) => m.name === 'uuid.lookups')
    .flatMap((m) => m.sum?.dataPoints ?? [])
    .reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? 0), 0);

// Debian's Chromium, driven by playwright-core: a page using the bundled SDK logs
// lookups, the page goes away, and the pending batch must reach the endpoint.

describe('browser page-hide flush (real Chromium)', () => {
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  const inserts: { rows: { id: string; event_properties: Record<string, unknown>; session_id?: string }[] }[] = [];
  // The OTLP exports of the metrics page (test/browser/telemetry-tab.ts), same-origin as
  // the README's snippet sends them; the first one's answer is held until released.
  const metricExports: OtlpJson[] = [];
  const held: http.ServerResponse[] = [];
  const releaseHeldExports = (): void => {
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  beforeAll(async () => {
    const script = await bundlePageScript(new URL('../browser/wizard-page.ts', import.meta.url));
    const tabScript = await bundlePageScript(new URL('../browser/telemetry-tab.ts', import.meta.url));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/') {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!doctype html><title>wizard</title><script type="module" src="/app.js"></script>');
        } else if (req.url === '/app.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' });
          res.end(script);
        } else if (req.url?.startsWith('/tab?')) {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!doctype html><title>wizard tab</title><script type="module" src="/tab.js"></script>');
        } else if (req.url === '/tab.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' });
          res.end(tabScript);
        } else if (req.method === 'POST' && req.url === '/otel/v1/metrics') {
          metricExports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson);
          if (metricExports.length === 1) held.push(res);
          else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else if (req.method === 'POST' && req.url?.startsWith('/rest/v1/analytics_events')) {
          inserts.push({ rows: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          res.writeHead(201);
          res.end();
        } else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    releaseHeldExports();
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('delivers the pending batch when the user navigates away', async () => {
    const page = await browser.newPage();
    await page.goto(origin);
    const metrics = await page.waitForFunction(() => (window as unknown as { wizardReady?: unknown }).wizardReady).then((h) => h.jsonValue());
    expect(metrics).toMatchObject({ totalLookups: 3, failedLookups: 1 });
    expect(inserts).toHaveLength(0); // pending: the flush interval is ten minutes
    await page.goto('about:blank');
    await expect.poll(() => inserts.flatMap((i) => i.rows).length, { timeout: 10_000 }).toBe(3);
    const rows = inserts.flatMap((i) => i.rows);
    // visibilitychange and pagehide both fire; each event is sent once.
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
    expect(rows.map((r) => r.event_properties.micro_slug).sort()).toEqual(['tiling', 'unknown-service', 'wall-painting']);
    expect(rows.every((r) => r.session_id === 'browser-session')).toBe(true);
    await page.close();
  });

  it('does not send again what the hidden page delivered, once the user comes back to the tab', async () => {
    inserts.length = 0;
    const page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { wizardReady?: unknown }).wizardReady);
    // The tab goes to the background (headless Chromium keeps it visible: the
    // state is set and the event dispatched by hand), then comes back.
    const setVisibility = (state: string) =>
      page.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    await expect.poll(() => inserts.flatMap((i) => i.rows).length, { timeout: 10_000 }).toBe(3);
    await setVisibility('visible');
    await page.waitForTimeout(200); // the keepalive request's reply reaches the page
    await page.evaluate(() => (window as unknown as { wizardFlush: () => Promise<void> }).wizardFlush());
    expect(inserts).toHaveLength(1);
    await page.close();
  });

  it('sends the lookups of a tab closed while an earlier metrics export is still unanswered', async () => {
    // The page's periodic export is in flight (its answer held back, as a slow
    // collector does) when the user makes more lookups and closes the tab. The
    // page-hide export must go at once: a page that waits for the earlier answer
    // first is gone before it sends (OpenTelemetry's reader awaits the ongoing
    // export in forceFlush), and its last lookups are lost.
    metricExports.length = 0;
    const page = await browser.newPage();
    await page.goto(`${origin}/tab?${new URLSearchParams({ otlp: '/otel/v1/metrics', interval: '1000' }).toString()}`);
    await page.waitForFunction(() => (window as unknown as { tabReady?: boolean }).tabReady === true);
    const lookups = (plan: PlannedLookup[]) => page.evaluate((p) => (window as unknown as { lookups: (l: PlannedLookup[]) => number }).lookups(p), plan);
    await lookups([
      { slug: 'wall-painting', ms: 20, outcome: 'success', fallback: false },
      { slug: 'tiling', ms: 40, outcome: 'success', fallback: true },
    ]);
    await expect.poll(() => metricExports.length, { timeout: 10_000 }).toBe(1); // the periodic export, held
    expect(lookupsIn(metricExports)).toBe(2);
    await lookups([
      { slug: 'wall-painting', ms: 30, outcome: 'success', fallback: false },
      { slug: 'retired-service', ms: 15, outcome: 'failure', fallback: false },
      { slug: 'tiling', ms: 60, outcome: 'success', fallback: false },
    ]);
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => lookupsIn(metricExports), { timeout: 10_000 }).toBe(5);
    releaseHeldExports();
  });

  it('delivers the pending batch when the tab is closed', async () => {
    inserts.length = 0;
    const page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { wizardReady?: unknown }).wizardReady);
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => inserts.flatMap((i) => i.rows).length, { timeout: 10_000 }).toBe(3);
  });
});
