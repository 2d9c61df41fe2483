import { metrics as otelMetrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
// The spec imports `uuidLookupLogger` from '@/lib/monitoring/uuidLookupLogger'; in
// this package that is `import { uuidLookupLogger } from 'uuid-lookup-observability'`,
// the core entry point, src/core/index.ts.
import { createMemorySink, uuidLookupLogger } from '../../src/core/index.ts';
import { collectMetrics, counterValue, createTestMeter, histogramPoints } from '../support/metric-collection.ts';

// The spec's "Usage" block (section 1), copied verbatim: its own literal values,
// 'uuid-123' included, which is not a UUID. The spec counts it as a lookup.
function specUsage(): void {
  // Log successful lookup
  uuidLookupLogger.logSuccess(
    'wall-painting',
    'uuid-123',
    25, // lookup time in ms
    false // fallback used?
  );

  // Log failed lookup
  uuidLookupLogger.logFailure(
    'unknown-service',
    15,
    'Service not found'
  );

  // Get current metrics
  const metrics = uuidLookupLogger.getMetrics();
  console.log({
    totalLookups: metrics.totalLookups,
    successRate: (metrics.successfulLookups / metrics.totalLookups) * 100,
    avgTime: metrics.averageLookupTime,
    fallbackRate: metrics.fallbackRate
  });
}

describe("the spec's usage example, as written", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    otelMetrics.disable();
  });

  it('counts both lookups (the literal uuid-123 included) in getMetrics, the histogram and the counters, and keeps both events', async () => {
    const { provider, reader } = createTestMeter();
    otelMetrics.setGlobalMeterProvider(provider); // before the first lookup, as the README says
    const sink = createMemorySink();
    uuidLookupLogger.setSink(sink);
    const printed: unknown[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(...args));

    specUsage();

    expect(printed).toEqual([{ totalLookups: 2, successRate: 50, avgTime: 20, fallbackRate: 0 }]);
    expect(uuidLookupLogger.getMetrics()).toEqual({
      totalLookups: 2,
      successfulLookups: 1,
      failedLookups: 1,
      averageLookupTime: 20,
      fallbackRate: 0,
    });
    expect(Object.values(uuidLookupLogger.getDroppedCounts()).reduce((a, b) => a + b, 0)).toBe(0);

    const collected = await collectMetrics(reader);
    const lookups = collected.get('uuid.lookups');
    expect(counterValue(lookups, { outcome: 'success', micro_slug: 'wall-painting', fallback: 'false' })).toBe(1);
    expect(counterValue(lookups, { outcome: 'failure' })).toBe(1);
    const points = histogramPoints(collected.get('uuid.lookup.duration'));
    expect(points.reduce((n, p) => n + p.value.count, 0)).toBe(2);
    expect(points.reduce((s, p) => s + (p.value.sum ?? 0), 0)).toBeCloseTo(0.04); // 25 ms + 15 ms, in seconds
    expect(counterValue(collected.get('uuid.lookup.events.dropped'))).toBe(0);

    await uuidLookupLogger.flush();
    expect(sink.rows.map((row) => row.event_properties)).toEqual([
      // Not a UUID: micro_uuid stays a UUID column (null), the app's text is kept beside it.
      { micro_slug: 'wall-painting', micro_uuid: null, micro_uuid_raw: 'uuid-123', lookup_time_ms: 25, success: true, fallback_used: false },
      { micro_slug: 'unknown-service', micro_uuid: null, lookup_time_ms: 15, success: false, fallback_used: false, error_message: 'Service not found' },
    ]);
  });
});
