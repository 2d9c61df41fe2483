import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Meter } from '@opentelemetry/api';
import type { UuidLookupEvent } from '../../src/core/lookup-event.ts';
import { createMemorySink } from '../../src/core/memory-sink.ts';
import { UNKNOWN_SLUG_LABEL } from '../../src/contract/metrics.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import type { TestMetricReader } from '../support/metric-collection.ts';
import { collectMetrics, counterValue, createTestMeter, histogramPoints } from '../support/metric-collection.ts';

const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';

describe('uuid lookup logger', () => {
  let reader: TestMetricReader;
  let meter: Meter;
  beforeEach(() => {
    const test = createTestMeter();
    reader = test.reader;
    meter = test.provider.getMeter('test');
  });

  it('works as the spec shows it, with the spec\'s metric definitions', () => {
    const logger = createUuidLookupLogger({ meter });
    logger.logSuccess('wall-painting', UUID, 25, false);
    logger.logSuccess('tiling', UUID, 35, true);
    logger.logFailure('unknown-service', 15, 'Service not found');
    logger.logSuccess('wall-painting', UUID, 45);
    const metrics = logger.getMetrics();
    expect(metrics).toEqual({
      totalLookups: 4,
      successfulLookups: 3,
      failedLookups: 1,
      averageLookupTime: 30, // (25 + 35 + 15 + 45) / 4: failures included
      fallbackRate: 25, // 1 of 4 lookups, as a percentage
    });
    expect((metrics.successfulLookups / metrics.totalLookups) * 100).toBe(75);
  });

  it('reports zeros, not NaN, before any lookup', () => {
    expect(createUuidLookupLogger({ meter }).getMetrics()).toEqual({
      totalLookups: 0,
      successfulLookups: 0,
      failedLookups: 0,
      averageLookupTime: 0,
      fallbackRate: 0,
    });
  });

  it('records durations in seconds into buckets that include 0.05 and 0.1, and counts lookups by outcome', async () => {
    const logger = createUuidLookupLogger({ meter });
    logger.logSuccess('wall-painting', UUID, 50, false); // exactly the warning threshold: in the le=0.05 bucket
    logger.logSuccess('wall-painting', UUID, 100, true);
    logger.logFailure('wall-painting', 250, 'timeout');
    const metrics = await collectMetrics(reader);
    const duration = metrics.get('uuid.lookup.duration');
    expect(duration?.descriptor.unit).toBe('s');
    const points = histogramPoints(duration);
    const success = points.find((p) => p.attributes.outcome === 'success' && p.attributes.fallback === 'false');
    // The boundaries as the architecture states them, written out: 0.05 and 0.1 are the spec's limits.
    expect(success?.value.buckets.boundaries).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(success?.value.sum).toBeCloseTo(0.05);
    // Bucket 3 is (0.025, 0.05]: the 50 ms lookup and nothing else.
    expect(success?.value.buckets.counts).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const lookups = metrics.get('uuid.lookups');
    expect(counterValue(lookups, { outcome: 'success' })).toBe(2);
    expect(counterValue(lookups, { outcome: 'failure', micro_slug: 'wall-painting' })).toBe(1);
    expect(counterValue(lookups, { fallback: 'true' })).toBe(1);
  });

  it('labels slugs that never resolved, and any beyond the label budget, as __unknown__', async () => {
    const logger = createUuidLookupLogger({ meter, maxSlugLabels: 2 });
    logger.logFailure('typo-service', 5, 'Service not found');
    logger.logSuccess('a', UUID, 5);
    logger.logSuccess('b', UUID, 5);
    logger.logSuccess('c', UUID, 5);
    logger.logFailure('a', 5, 'timeout');
    const lookups = (await collectMetrics(reader)).get('uuid.lookups');
    const labels = new Set(lookups?.dataPoints.map((p) => p.attributes.micro_slug));
    expect(labels).toEqual(new Set(['a', 'b', UNKNOWN_SLUG_LABEL]));
    expect(counterValue(lookups, { micro_slug: UNKNOWN_SLUG_LABEL })).toBe(2);
    // The real slug stays in the analytics row.
    expect(logger.getRecentEvents().map((e) => e.microSlug)).toEqual(['typo-service', 'a', 'b', 'c', 'a']);
  });

  it('labels regions from a known list, others as other, none as unknown', async () => {
    let region: string | undefined = 'DE';
    const logger = createUuidLookupLogger({ meter, knownRegions: ['DE', 'FR'], context: () => (region === undefined ? {} : { region }) });
    logger.logSuccess('a', UUID, 5);
    region = 'FR';
    logger.logSuccess('a', UUID, 5);
    region = 'atlantis-9';
    logger.logSuccess('a', UUID, 5);
    region = undefined;
    logger.logSuccess('a', UUID, 5);
    const lookups = (await collectMetrics(reader)).get('uuid.lookups');
    expect(new Set(lookups?.dataPoints.map((p) => p.attributes.region))).toEqual(new Set(['DE', 'FR', 'other', 'unknown']));
    // The analytics row keeps what the app gave.
    expect(logger.getRecentEvents().map((e) => e.region)).toEqual(['DE', 'FR', 'atlantis-9', undefined]);
  });

  // Bad input: clamped, truncated or dropped, counted, never thrown.
  const badInputs: { name: string; act: (l: ReturnType<typeof createUuidLookupLogger>) => void; dropped?: string; check?: (e: UuidLookupEvent) => void }[] = [
    { name: 'NaN duration', act: (l) => l.logSuccess('a', UUID, Number.NaN), dropped: 'invalid_duration' },
    { name: 'negative duration', act: (l) => l.logSuccess('a', UUID, -1), dropped: 'invalid_duration' },
    { name: 'Infinity duration', act: (l) => l.logFailure('a', Number.POSITIVE_INFINITY, 'x'), dropped: 'invalid_duration' },
    { name: 'a duration given as a string', act: (l) => l.logSuccess('a', UUID, '25' as unknown as number), dropped: 'invalid_duration' },
    { name: 'an absurd duration', act: (l) => l.logSuccess('a', UUID, 1e12), check: (e) => expect(e.lookupTimeMs).toBe(600_000) },
    { name: 'a numeric slug', act: (l) => l.logSuccess(42 as unknown as string, UUID, 5), dropped: 'invalid_slug' },
    { name: 'a null slug', act: (l) => l.logFailure(null as unknown as string, 5, 'x'), dropped: 'invalid_slug' },
    { name: 'an object slug', act: (l) => l.logFailure({ toString: () => { throw new Error('boom'); } } as unknown as string, 5, 'x'), dropped: 'invalid_slug' },
    { name: 'an empty slug', act: (l) => l.logSuccess('   ', UUID, 5), dropped: 'invalid_slug' },
    { name: 'a 100 KB slug', act: (l) => l.logFailure('x'.repeat(100_000), 5, 'x'), check: (e) => expect(e.microSlug).toHaveLength(200) },
    { name: 'a 100 KB error message', act: (l) => l.logFailure('a', 5, 'e'.repeat(100_000)), check: (e) => expect(e.errorMessage).toHaveLength(1000) },
    { name: 'a lone surrogate', act: (l) => l.logFailure('wall\uD800painting', 5, 'x'), check: (e) => expect(e.microSlug).toBe('wall\uFFFDpainting') },
    { name: 'control characters', act: (l) => l.logFailure('wall\u0000-\u001bpainting', 5, 'x'), check: (e) => expect(e.microSlug).toBe('wall-painting') },
    { name: 'emoji and accents', act: (l) => l.logFailure('peinture-murale-é🎨', 5, 'x'), check: (e) => expect(e.microSlug).toBe('peinture-murale-é🎨') },
    { name: 'SQL metacharacters, kept verbatim', act: (l) => l.logFailure("x'; DROP TABLE jobs; --", 5, 'x'), check: (e) => expect(e.microSlug).toBe("x'; DROP TABLE jobs; --") },
    // A success whose UUID is not one still counts (the spec's own example passes 'uuid-123'); the text is kept apart.
    { name: 'a success whose UUID is not one', act: (l) => l.logSuccess('a', 'uuid-123', 5), check: (e) => expect([e.microUuid, e.microUuidRaw, e.success]).toEqual([null, 'uuid-123', true]) },
    { name: 'a success with a 100 KB UUID', act: (l) => l.logSuccess('a', 'u'.repeat(100_000), 5), check: (e) => expect(e.microUuidRaw).toHaveLength(128) },
    { name: 'a success with control characters in its UUID', act: (l) => l.logSuccess('a', 'id\u0000\u001b-7', 5), check: (e) => expect(e.microUuidRaw).toBe('id-7') },
    { name: 'a success with no UUID', act: (l) => l.logSuccess('a', undefined as unknown as string, 5), check: (e) => expect([e.microUuid, e.microUuidRaw]).toEqual([null, 'undefined']) },
    { name: 'a success with a numeric UUID', act: (l) => l.logSuccess('a', 42 as unknown as string, 5), check: (e) => expect(e.microUuidRaw).toBe('42') },
    { name: 'a success with an object as UUID', act: (l) => l.logSuccess('a', { toString: () => { throw new Error('boom'); } } as unknown as string, 5), check: (e) => expect(e.microUuidRaw).toBe('[object]') },
    { name: 'a success with an upper-case UUID', act: (l) => l.logSuccess('a', UUID.toUpperCase(), 5), check: (e) => expect([e.microUuid, e.microUuidRaw]).toEqual([UUID, undefined]) },
    { name: 'an Error as the failure message', act: (l) => l.logFailure('a', 5, new Error('connection reset')), check: (e) => expect(e.errorMessage).toBe('connection reset') },
  ];

  it.each(badInputs)('handles $name without throwing', async ({ act, dropped, check }) => {
    const logger = createUuidLookupLogger({ meter });
    expect(() => act(logger)).not.toThrow();
    const droppedCounter = (await collectMetrics(reader)).get('uuid.lookup.events.dropped');
    if (dropped !== undefined) {
      expect(logger.getMetrics().totalLookups).toBe(0);
      expect(logger.getDroppedCounts()[dropped as 'invalid_slug']).toBe(1);
      expect(counterValue(droppedCounter, { reason: dropped })).toBe(1);
    } else {
      expect(logger.getMetrics().totalLookups).toBe(1);
      const [event] = logger.getRecentEvents();
      expect(event).toBeDefined();
      check?.(event!);
    }
  });

  it('never throws into the host app, even when the meter does', () => {
    const throwing = {
      createHistogram: () => ({ record: () => { throw new Error('exporter bug'); } }),
      createCounter: () => ({ add: () => { throw new Error('exporter bug'); } }),
      createObservableCounter: () => ({ addCallback: () => {} }),
    } as unknown as Meter;
    const logger = createUuidLookupLogger({ meter: throwing });
    expect(() => logger.logSuccess('a', UUID, 5)).not.toThrow();
    expect(() => logger.logFailure('a', Number.NaN, 'x')).not.toThrow();
  });

  it('keeps the analytics event and the stats when the meter or the context() callback throws: each step fails alone', async () => {
    const throwing = {
      createHistogram: () => ({ record: () => { throw new Error('exporter bug'); } }),
      createCounter: () => ({ add: () => { throw new Error('exporter bug'); } }),
      createObservableCounter: () => ({ addCallback: () => {} }),
    } as unknown as Meter;
    const sink = createMemorySink();
    let calls = 0;
    const logger = createUuidLookupLogger({
      meter: throwing,
      sink,
      consoleLogging: false,
      context: () => {
        calls += 1;
        if (calls === 2) throw new Error('app bug in context()');
        return { sessionId: `session-${calls}` };
      },
    });
    logger.logSuccess('wall-painting', UUID, 25); // the meter throws
    logger.logSuccess('tiling', UUID, 30); // the meter and context() throw
    logger.logFailure('retired-service', Number.NaN, 'x'); // dropped and counted (the meter throws there too)
    await logger.flush();
    expect(sink.rows.map((r) => [r.event_properties.micro_slug, r.session_id])).toEqual([
      ['wall-painting', 'session-1'],
      ['tiling', undefined],
    ]);
    expect(logger.getMetrics()).toMatchObject({ totalLookups: 2, successfulLookups: 2 });
    expect(logger.getRecentEvents()).toHaveLength(2);
    expect(logger.getDroppedCounts().invalid_duration).toBe(1);
  });

  it('keeps a bounded buffer of recent events, oldest first', () => {
    const logger = createUuidLookupLogger({ meter, recentEventsSize: 3 });
    for (const slug of ['a', 'b', 'c', 'd', 'e']) logger.logFailure(slug, 1, 'x');
    expect(logger.getRecentEvents().map((e) => e.microSlug)).toEqual(['c', 'd', 'e']);
  });

  it('writes batches of 10 to the sink with the analytics event contract, each with its own id', async () => {
    const sink = createMemorySink();
    const logger = createUuidLookupLogger({ meter, sink, context: () => ({ sessionId: 'session-1', region: 'eu-west' }) });
    for (let i = 0; i < 10; i += 1) logger.logSuccess('wall-painting', UUID, 25, i === 0);
    logger.logFailure('unknown-service', 15, 'Service not found');
    await logger.flush();
    expect(sink.rows).toHaveLength(11);
    expect(new Set(sink.rows.map((r) => r.id)).size).toBe(11);
    expect(sink.rows[10]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      event_name: 'uuid_lookup',
      event_category: 'wizard_flow',
      event_properties: {
        micro_slug: 'unknown-service',
        micro_uuid: null,
        lookup_time_ms: 15,
        success: false,
        fallback_used: false,
        error_message: 'Service not found',
      },
      session_id: 'session-1',
      region: 'eu-west',
      client_created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(Object.keys(sink.rows[0]!.event_properties).sort()).toEqual(
      ['fallback_used', 'lookup_time_ms', 'micro_slug', 'micro_uuid', 'success'],
    );
  });

  describe('console logging', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });
    it('is off unless asked for', () => {
      const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
      createUuidLookupLogger({ meter }).logSuccess('a', UUID, 5);
      expect(debug).not.toHaveBeenCalled();
      createUuidLookupLogger({ meter, consoleLogging: true }).logSuccess('a', UUID, 5);
      expect(debug).toHaveBeenCalledWith('[uuid-lookup] success a 5.0 ms');
    });
  });

  it('rejects configuration errors at construction with a prefixed message', () => {
    expect(() => createUuidLookupLogger({ recentEventsSize: -1 })).toThrow('uuid-lookup: recentEventsSize must be a whole number >= 0, got -1');
    expect(() => createUuidLookupLogger({ maxExportBatchSize: 0 })).toThrow('uuid-lookup: maxExportBatchSize must be a positive number, got 0');
  });
});
