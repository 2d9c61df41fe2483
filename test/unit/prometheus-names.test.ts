import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_DROPPED, LOOKUP_DURATION, LOOKUPS, prometheusName } from '../../src/contract/metrics.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import type { NodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';
import { createNodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';

// docs/architecture.md, "Metrics": the names Prometheus stores, through both paths.
const CONTRACT = {
  duration: 'uuid_lookup_duration_seconds',
  lookups: 'uuid_lookups_total',
  dropped: 'uuid_lookup_events_dropped_total',
};

describe('Prometheus names of the metrics contract', () => {
  it('come out of the collector translation (OTLP -> prometheus exporter: unit word, _total)', () => {
    expect(prometheusName(LOOKUP_DURATION.name, LOOKUP_DURATION.unit, 'histogram')).toBe(CONTRACT.duration);
    expect(prometheusName(LOOKUPS.name, LOOKUPS.unit, 'counter')).toBe(CONTRACT.lookups);
    expect(prometheusName(EVENTS_DROPPED.name, EVENTS_DROPPED.unit, 'counter')).toBe(CONTRACT.dropped);
  });

  it('follow the translator\'s unit rules for other units', () => {
    expect(prometheusName('http.server.request.duration', 's', 'histogram')).toBe('http_server_request_duration_seconds');
    expect(prometheusName('process.memory', 'By', 'gauge')).toBe('process_memory_bytes');
    expect(prometheusName('queue.length', '1', 'gauge')).toBe('queue_length');
    expect(prometheusName('requests', '{request}', 'counter')).toBe('requests_total');
    expect(prometheusName('latency_seconds', 's', 'histogram')).toBe('latency_seconds');
  });

  describe('through the in-process pull exporter', () => {
    let telemetry: NodeTelemetry;
    let body: string;
    beforeAll(async () => {
      const port = 19_000 + Math.floor(Math.random() * 1000);
      telemetry = createNodeTelemetry({ serviceName: 'names-test', otlp: false, prometheus: { port, host: '127.0.0.1' } });
      await telemetry.prometheus?.startServer();
      const logger = createUuidLookupLogger({ meter: telemetry.meter });
      logger.logSuccess('wall-painting', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 42, false);
      logger.logFailure('wall-painting', Number.NaN, 'x'); // dropped: invalid_duration
      body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    });
    afterAll(async () => {
      await telemetry.shutdown();
    });

    it('serves the same names as the collector path', () => {
      const names = new Set(body.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
      expect(names).toContain(CONTRACT.duration);
      expect(names).toContain(CONTRACT.lookups);
      expect(names).toContain(CONTRACT.dropped);
      expect(body).toContain(`# TYPE ${CONTRACT.duration} histogram`);
      expect(body).toContain(`# TYPE ${CONTRACT.lookups} counter`);
    });

    it('has the 0.05 and 0.1 bucket boundaries and the contract labels', () => {
      expect(body).toMatch(/uuid_lookup_duration_seconds_bucket\{[^}]*le="0.05"[^}]*\} 1/);
      expect(body).toMatch(/uuid_lookup_duration_seconds_bucket\{[^}]*le="0.1"[^}]*\} 1/);
      expect(body).toMatch(/uuid_lookups_total\{[^}]*outcome="success"[^}]*fallback="false"[^}]*micro_slug="wall-painting"[^}]*\} 1/);
      expect(body).toMatch(/uuid_lookup_events_dropped_total\{[^}]*reason="invalid_duration"[^}]*\} 1/);
    });
  });
});
