import { beforeEach, describe, expect, it } from 'vitest';
import { createMemorySink } from '../../src/core/memory-sink.ts';
import { createSlugResolver } from '../../src/core/slug-resolver.ts';
import type { SlugSource } from '../../src/core/slug-source.ts';
import { SlugLookupError } from '../../src/core/slug-source.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import { createTestMeter } from '../support/metric-collection.ts';

const SERVICES = new Map([
  ['wall-painting', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90'],
  ['tiling', '6a1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b'],
]);

/** A source over a map that records each query, and can be made to fail or wait. */
function recordingSource() {
  const queries: string[][] = [];
  let failWith: Error | undefined;
  let gate: Promise<void> | undefined;
  const source: SlugSource = {
    async lookup(slugs) {
      queries.push([...slugs]);
      if (gate) await gate;
      if (failWith) throw failWith;
      return new Map([...SERVICES].filter(([slug]) => slugs.includes(slug)));
    },
    async lookupAll() {
      queries.push(['*']);
      return new Map(SERVICES);
    },
  };
  return {
    source,
    queries,
    fail(error: Error | undefined) {
      failWith = error;
    },
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('slug resolver', () => {
  let clock: number;
  let logger: ReturnType<typeof createUuidLookupLogger>;
  beforeEach(() => {
    clock = 1_000_000;
    logger = createUuidLookupLogger({ meter: createTestMeter().provider.getMeter('t'), sink: createMemorySink() });
  });
  const make = (source: SlugSource, extra: Partial<Parameters<typeof createSlugResolver>[0]> = {}) =>
    createSlugResolver({ source, logger, now: () => clock, ...extra });

  it('resolves from the source once, then from the cache until the TTL runs out', async () => {
    const s = recordingSource();
    const resolver = make(s.source, { cacheTtlMillis: 60_000 });
    expect(await resolver.resolve('wall-painting')).toBe(SERVICES.get('wall-painting'));
    expect(await resolver.resolve('wall-painting')).toBe(SERVICES.get('wall-painting'));
    expect(s.queries).toEqual([['wall-painting']]);
    clock += 60_000;
    await resolver.resolve('wall-painting');
    expect(s.queries).toHaveLength(2);
    expect(resolver.stats()).toMatchObject({ hits: 1, misses: 2 });
    // Cache hits are not lookups: only the two queries were logged.
    expect(logger.getMetrics().totalLookups).toBe(2);
  });

  it('returns null for an unknown slug, logs the failure, and caches that briefly', async () => {
    const s = recordingSource();
    const resolver = make(s.source, { negativeCacheTtlMillis: 1000 });
    expect(await resolver.resolve('unknown-service')).toBeNull();
    expect(await resolver.resolve('unknown-service')).toBeNull();
    expect(s.queries).toHaveLength(1);
    clock += 1000;
    await resolver.resolve('unknown-service');
    expect(s.queries).toHaveLength(2);
    expect(logger.getRecentEvents()[0]).toMatchObject({ success: false, errorMessage: 'Service not found' });
  });

  it('shares one query between concurrent requests for a slug', async () => {
    const s = recordingSource();
    const release = s.hold();
    const resolver = make(s.source);
    const all = Promise.all([resolver.resolve('tiling'), resolver.resolve('tiling'), resolver.resolve('tiling')]);
    release();
    expect(await all).toEqual(Array(3).fill(SERVICES.get('tiling')));
    expect(s.queries).toEqual([['tiling']]);
  });

  it('resolves many slugs in one query, asking only for cache misses', async () => {
    const s = recordingSource();
    const resolver = make(s.source);
    await resolver.resolve('tiling');
    const result = await resolver.resolveMany(['tiling', 'wall-painting', 'nope', 'wall-painting']);
    expect(result).toEqual(new Map([['tiling', SERVICES.get('tiling')], ['wall-painting', SERVICES.get('wall-painting')], ['nope', null]]));
    expect(s.queries).toEqual([['tiling'], ['wall-painting', 'nope']]);
  });

  it('preloads every service, so later resolves need no query', async () => {
    const s = recordingSource();
    const resolver = make(s.source);
    await resolver.preload();
    expect(resolver.peek('tiling')).toBe(SERVICES.get('tiling'));
    await resolver.resolve('wall-painting');
    expect(s.queries).toEqual([['*']]);
  });

  it('uses the fallback when the database has no answer and marks fallback_used', async () => {
    const s = recordingSource();
    const legacy = '11111111-2222-4333-8444-555555555555';
    const resolver = make(s.source, { fallback: { 'legacy-slug': legacy } });
    expect(await resolver.resolve('legacy-slug')).toBe(legacy);
    s.fail(new SlugLookupError('connection refused', '08006'));
    expect(await resolver.resolve('legacy-slug')).toBe(legacy);
    expect(logger.getMetrics()).toMatchObject({ totalLookups: 2, successfulLookups: 2, fallbackRate: 100 });
  });

  it('rejects with the lookup error when no fallback has the slug, after logging the failure', async () => {
    const s = recordingSource();
    s.fail(new SlugLookupError('connection refused', '08006'));
    const resolver = make(s.source);
    await expect(resolver.resolve('tiling')).rejects.toThrow('connection refused');
    expect(logger.getRecentEvents()[0]).toMatchObject({ success: false, errorMessage: 'connection refused' });
    // Errors are not cached.
    s.fail(undefined);
    expect(await resolver.resolve('tiling')).toBe(SERVICES.get('tiling'));
  });

  it('keeps the cache within its size bound', async () => {
    const s = recordingSource();
    const resolver = make(s.source, { maxCacheSize: 2 });
    await resolver.resolveMany(['a', 'b', 'c']);
    expect(resolver.stats().size).toBe(2);
    expect(resolver.peek('a')).toBeUndefined();
  });
});
