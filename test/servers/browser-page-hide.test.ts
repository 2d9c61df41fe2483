import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { bundlePageScript, launchChromium } from '../support/chromium.ts';

// Debian's Chromium, driven by playwright-core: a page using the bundled SDK logs
// lookups, the page goes away, and the pending batch must reach the endpoint.

describe('browser page-hide flush (real Chromium)', () => {
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  const inserts: { rows: { id: string; event_properties: Record<string, unknown>; session_id?: string }[] }[] = [];

  beforeAll(async () => {
    const script = await bundlePageScript(new URL('../browser/wizard-page.ts', import.meta.url));
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

  it('delivers the pending batch when the tab is closed', async () => {
    inserts.length = 0;
    const page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { wizardReady?: unknown }).wizardReady);
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => inserts.flatMap((i) => i.rows).length, { timeout: 10_000 }).toBe(3);
  });
});
