import { describe, expect, it } from 'vitest';
import { createLookupInstruments } from '../../src/core/logging/lookup-instruments.ts';
import { createLookupStats } from '../../src/core/logging/lookup-stats.ts';
import { createRecentEvents } from '../../src/core/logging/recent-events.ts';
import type { UuidLookupEvent } from '../../src/core/lookup-event.ts';
import { collectMetrics, counterValue, createTestMeter } from '../support/metric-collection.ts';

// The logger's parts, each on its own: in-process stats, the recent-events
// buffer, the instruments with their bounded labels.

const event = (n: number): UuidLookupEvent => ({
  microSlug: `slug-${n}`,
  microUuid: null,
  lookupTimeMs: n,
  success: false,
  fallbackUsed: false,
  createdAtMillis: 0,
});

describe('the lookup stats', () => {
  it("give the spec's five figures over all lookups, failures included", () => {
    const stats = createLookupStats();
    expect(stats.snapshot()).toEqual({ totalLookups: 0, successfulLookups: 0, failedLookups: 0, averageLookupTime: 0, fallbackRate: 0 });
    stats.add(true, false, 25);
    stats.add(true, true, 35);
    stats.add(false, false, 15);
    stats.add(false, true, 5);
    expect(stats.snapshot()).toEqual({ totalLookups: 4, successfulLookups: 2, failedLookups: 2, averageLookupTime: 20, fallbackRate: 50 });
  });
});

describe('the recent events', () => {
  it('keep the last ones, oldest first, each with an id; none with size 0', () => {
    const recent = createRecentEvents(3);
    for (const n of [1, 2, 3, 4, 5]) recent.add(event(n));
    const listed = recent.list();
    expect(listed.map((e) => e.microSlug)).toEqual(['slug-3', 'slug-4', 'slug-5']);
    expect(listed.every((e) => typeof e.id === 'string')).toBe(true);
    const none = createRecentEvents(0);
    none.add(event(1));
    expect(none.list()).toEqual([]);
  });
});

describe('the lookup instruments', () => {
  it('label known and learned slugs as they are, up to the bound, and the rest as __unknown__', async () => {
    const { provider, reader } = createTestMeter();
    const instruments = createLookupInstruments({ meter: provider.getMeter('test'), knownSlugs: ['wall-painting'], maxSlugLabels: 2, knownRegions: ['DE'] });
    instruments.recordLookup('wall-painting', true, false, 'DE', 20);
    instruments.recordLookup('tiling', true, false, 'FR', 30); // learned: the second label
    instruments.recordLookup('roofing', true, false, undefined, 40); // over the bound
    instruments.recordLookup('never-seen', false, false, undefined, 10); // a failure teaches nothing
    instruments.recordDrop('queue_full', 3);
    const collected = await collectMetrics(reader);
    const lookups = collected.get('uuid.lookups');
    expect(counterValue(lookups, { micro_slug: 'wall-painting', region: 'DE' })).toBe(1);
    expect(counterValue(lookups, { micro_slug: 'tiling', region: 'other' })).toBe(1);
    expect(counterValue(lookups, { micro_slug: '__unknown__', region: 'unknown' })).toBe(2);
    expect(counterValue(collected.get('uuid.lookup.events.dropped'), { reason: 'queue_full' })).toBe(3);
  });
});
