import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBrowserTelemetry } from '../../src/browser/browser-telemetry.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import { createNodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';

// What the presets put on the wire: OTLP/HTTP JSON as a collector receives it.
interface OtlpDataPoint {
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { aggregationTemporality: number; isMonotonic?: boolean; dataPoints: OtlpDataPoint[] };
  histogram?: { aggregationTemporality: number; dataPoints: OtlpDataPoint[] };
}
interface OtlpExport {
  resourceMetrics: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeMetrics: { metrics: OtlpMetric[] }[] }[];
}

const DELTA = 1;
const CUMULATIVE = 2;
const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';

describe('telemetry presets, as a collector receives them', () => {
  let server: http.Server;
  let url: string;
  const exports: OtlpExport[] = [];
  beforeEach(async () => {
    exports.length = 0;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        exports.push(JSON.parse(body) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const metric = (e: OtlpExport | undefined, name: string): OtlpMetric | undefined =>
    e?.resourceMetrics.flatMap((r) => r.scopeMetrics).flatMap((s) => s.metrics).find((m) => m.name === name);
  const total = (m: OtlpMetric | undefined): number => (m?.sum?.dataPoints ?? []).reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? 0), 0);

  it('browser: exports deltas, so many tabs add up instead of overwriting each other', async () => {
    const telemetry = createBrowserTelemetry({ serviceName: 'wizard', otlpUrl: url, exportIntervalMillis: 3_600_000 });
    const logger = createUuidLookupLogger({ meter: telemetry.meter });
    for (let i = 0; i < 3; i += 1) logger.logSuccess('wall-painting', UUID, 20);
    await telemetry.forceFlush();
    logger.logSuccess('wall-painting', UUID, 20);
    await telemetry.forceFlush();
    await telemetry.shutdown();
    const [first, second] = exports;
    expect(metric(first, 'uuid.lookups')?.sum?.aggregationTemporality).toBe(DELTA);
    expect(metric(first, 'uuid.lookup.duration')?.histogram?.aggregationTemporality).toBe(DELTA);
    expect(metric(first, 'uuid.lookup.duration')?.unit).toBe('s');
    expect(total(metric(first, 'uuid.lookups'))).toBe(3);
    expect(total(metric(second, 'uuid.lookups'))).toBe(1); // only what happened since the last export
  });

  it('node: exports cumulative series under a unique service.instance.id', async () => {
    const a = createNodeTelemetry({ serviceName: 'booking-api', otlp: { url, exportIntervalMillis: 3_600_000 } });
    const b = createNodeTelemetry({ serviceName: 'booking-api', otlp: { url, exportIntervalMillis: 3_600_000 } });
    const logger = createUuidLookupLogger({ meter: a.meter });
    logger.logSuccess('wall-painting', UUID, 20);
    await a.meterProvider.forceFlush();
    logger.logSuccess('wall-painting', UUID, 20);
    await a.meterProvider.forceFlush();
    createUuidLookupLogger({ meter: b.meter }).logFailure('x', 5, 'y');
    await b.meterProvider.forceFlush();
    await Promise.all([a.shutdown(), b.shutdown()]);
    expect(metric(exports[0], 'uuid.lookups')?.sum?.aggregationTemporality).toBe(CUMULATIVE);
    expect(total(metric(exports[1], 'uuid.lookups'))).toBe(2); // running total
    const instance = (e: OtlpExport | undefined) =>
      e?.resourceMetrics[0]?.resource.attributes.find((attr) => attr.key === 'service.instance.id')?.value.stringValue;
    expect(instance(exports[0])).toMatch(/^[0-9a-f-]{36}$/);
    expect(instance(exports[2])).toMatch(/^[0-9a-f-]{36}$/);
    expect(instance(exports[2])).not.toBe(instance(exports[0]));
  });
});

describe('browser preset with a slow collector', () => {
  it('sends a flush at once, while an earlier export is still unanswered (a closing page cannot wait)', async () => {
    const bodies: OtlpExport[] = [];
    const held: http.ServerResponse[] = [];
    let holding = true;
    const answer = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const slow = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as OtlpExport);
        if (holding) held.push(res); // answered only when the test says so
        else answer(res);
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const telemetry = createBrowserTelemetry({
      serviceName: 'wizard',
      otlpUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1/metrics`,
      exportIntervalMillis: 3_600_000,
    });
    const logger = createUuidLookupLogger({ meter: telemetry.meter });
    logger.logSuccess('wall-painting', UUID, 20);
    const first = telemetry.forceFlush();
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    logger.logSuccess('tiling', UUID, 30);
    logger.logFailure('retired-service', 10, 'Service not found');
    const second = telemetry.forceFlush();
    await vi.waitFor(() => expect(bodies).toHaveLength(2), { timeout: 2_000 });
    const lookups = (e: OtlpExport | undefined) =>
      (e?.resourceMetrics.flatMap((r) => r.scopeMetrics).flatMap((sm) => sm.metrics).find((m) => m.name === 'uuid.lookups')?.sum?.dataPoints ?? []).reduce(
        (n, p) => n + Number(p.asInt ?? p.asDouble ?? 0),
        0,
      );
    expect([lookups(bodies[0]), lookups(bodies[1])]).toEqual([1, 2]);
    holding = false;
    for (const res of held.splice(0)) answer(res);
    await Promise.all([first, second]);
    await telemetry.shutdown();
    expect(bodies.slice(2).map(lookups).reduce((n, x) => n + x, 0)).toBe(0); // nothing sent twice
    await new Promise<void>((resolve) => slow.close(() => resolve()));
  });
});

describe('browser preset without a collector', () => {
  it('reports a failing export once per outage and bounds shutdown', async () => {
    // A collector that accepts the connection and never answers.
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      held.add(socket);
      socket.on('error', () => {});
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const errors: string[] = [];
    const telemetry = createBrowserTelemetry({
      serviceName: 'wizard',
      otlpUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/metrics`,
      exportIntervalMillis: 3_600_000,
      timeoutMillis: 200,
      onExportError: (error) => errors.push(error.message),
    });
    createUuidLookupLogger({ meter: telemetry.meter }).logSuccess('wall-painting', UUID, 20);
    await telemetry.forceFlush();
    await telemetry.forceFlush();
    expect(errors).toHaveLength(1);
    const started = performance.now();
    await telemetry.shutdown({ timeoutMillis: 300 });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(errors).toHaveLength(1);
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
