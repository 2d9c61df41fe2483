import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import { createNodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';
import { freePort } from '../support/processes.ts';

// The README's Node line: `createNodeTelemetry({ serviceName, prometheus: { port } })`, then
// lookups through a logger given no meter (the singleton is one): its metrics must reach
// the telemetry, as they do in a browser after setGlobalMeterProvider.

const scrape = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const total = (body: string, name: string): number =>
  body.split('\n').filter((l) => l.startsWith(`${name}{`)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);

describe('createNodeTelemetry and a logger given no meter', () => {
  afterEach(() => metrics.disable());

  it('counts the lookups of a logger created before the telemetry, as the README wires them', async () => {
    const logger = createUuidLookupLogger({ consoleLogging: false });
    logger.logSuccess('wall-painting', 'uuid-123', 25, false); // before any telemetry: nowhere to go
    const port = await freePort();
    const telemetry = createNodeTelemetry({ serviceName: 'readme-node-app', otlp: false, prometheus: { port, host: '127.0.0.1' } });
    await telemetry.ready;
    try {
      logger.logSuccess('wall-painting', 'uuid-123', 25, false);
      logger.logFailure('tiling', 40, 'Service not found');
      const body = await scrape(port);
      // The histogram records from the telemetry on; the lookups counter observes what the
      // logger counted since it began, the lookup before the telemetry included.
      expect(total(body, 'uuid_lookup_duration_seconds_count'), body).toBe(2);
      expect(total(body, 'uuid_lookups_total'), body).toBe(3);
    } finally {
      await telemetry.shutdown();
      await logger.shutdown({ timeoutMillis: 100 });
    }
  });

  it('leaves an application its own global meter provider when told (global: false), and gives it back on shutdown', async () => {
    const port = await freePort();
    const telemetry = createNodeTelemetry({ serviceName: 'readme-node-app', otlp: false, prometheus: { port, host: '127.0.0.1' } });
    await telemetry.ready;
    expect(metrics.getMeterProvider()).toBe(telemetry.meterProvider);
    await telemetry.shutdown();
    expect(metrics.getMeterProvider()).not.toBe(telemetry.meterProvider);
    const own = createNodeTelemetry({ serviceName: 'own', otlp: false, global: false });
    expect(metrics.getMeterProvider()).not.toBe(own.meterProvider);
    await own.shutdown();
  });
});
