import type { Attributes, Counter, Histogram, Meter, MeterProvider } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import type { DropReason } from '../../contract/metrics.ts';
import { EVENTS_DROPPED, LOOKUP_DURATION, LOOKUP_DURATION_BUCKETS_SECONDS, LOOKUPS, UNKNOWN_SLUG_LABEL } from '../../contract/metrics.ts';

/** Options of {@link createLookupInstruments}. */
export interface LookupInstrumentsOptions {
  /** Default: the global MeterProvider's meter, resolved at the first recording. */
  meter?: Meter | undefined;
  /** Slugs known to be services: metric labels from the start. */
  knownSlugs?: Iterable<string> | undefined;
  /** Slugs labelled at most (known and learned from successes); others are `__unknown__`. */
  maxSlugLabels: number;
  /** Regions labelled as they are; any other is `other`, none `unknown`. */
  knownRegions?: Iterable<string> | undefined;
}

/** The SDK's OpenTelemetry instruments, with the label policy that keeps their cardinality bounded. */
export interface LookupInstruments {
  /** One lookup: its duration in the histogram, one more in the lookup counter. */
  recordLookup(slug: string, success: boolean, fallbackUsed: boolean, region: string | undefined, lookupTimeMs: number): void;
  /** Events that were not recorded or not delivered, by reason. */
  recordDrop(reason: DropReason, count: number): void;
}

interface Instruments {
  duration: Histogram;
  dropped: Counter;
}

/**
 * The histogram `uuid.lookup.duration` (seconds), the counter `uuid.lookups` and
 * the counter `uuid.lookup.events.dropped` (docs/architecture.md, "Metrics").
 *
 * uuid.lookups is an asynchronous counter over counts kept here (per cached
 * attributes object): a synchronous counter.add would hash the same attributes a
 * second time on every lookup, which is most of the cost of recording (OTel JS
 * hashAttributes). Prometheus sees the same monotonic sum.
 */
export function createLookupInstruments(options: LookupInstrumentsOptions): LookupInstruments {
  const lookupCounts = new Map<Attributes, number>();
  const create = (meter: Meter): Instruments => {
    const lookups = meter.createObservableCounter(LOOKUPS.name, {
      unit: LOOKUPS.unit,
      description: 'Slug lookups, by outcome and whether a fallback was used.',
    });
    lookups.addCallback((result) => {
      for (const [attributes, count] of lookupCounts) result.observe(count, attributes);
    });
    return {
      duration: meter.createHistogram(LOOKUP_DURATION.name, {
        unit: LOOKUP_DURATION.unit,
        description: 'Time to resolve a micro-service slug to its UUID.',
        advice: { explicitBucketBoundaries: [...LOOKUP_DURATION_BUCKETS_SECONDS] },
      }),
      dropped: meter.createCounter(EVENTS_DROPPED.name, {
        unit: EVENTS_DROPPED.unit,
        description: 'Lookup events not recorded or not delivered to analytics, by reason.',
      }),
    };
  };
  // Given a meter: its instruments, once. Given none: the global provider's, made again
  // whenever the application registers another (a provider set after the first lookup,
  // as a Node service's telemetry may be, still gets every later lookup).
  const given = options.meter === undefined ? undefined : create(options.meter);
  let globalProvider: MeterProvider | undefined;
  let globalInstruments: Instruments | undefined;
  const get = (): Instruments => {
    if (given !== undefined) return given;
    const provider = metrics.getMeterProvider();
    if (provider !== globalProvider || globalInstruments === undefined) {
      globalProvider = provider;
      globalInstruments = create(provider.getMeter('uuid-lookup-observability'));
    }
    return globalInstruments;
  };

  // Bounded label cardinality: slugs seen resolving, up to maxSlugLabels.
  const knownSlugs = new Set<string>();
  for (const slug of options.knownSlugs ?? []) if (knownSlugs.size < options.maxSlugLabels) knownSlugs.add(slug);
  // Regions as a bounded label too (Phase 6 geography): a known list, else `other`.
  const knownRegions = new Set(options.knownRegions ?? []);
  const regionLabel = (region: string | undefined): string =>
    region === undefined ? 'unknown' : knownRegions.has(region) ? region : 'other';

  // One attributes object per label combination, made once: no allocation and
  // no string building per lookup. Index: outcome * 2 + fallback.
  const attributeCache = new Map<string, Attributes[]>();
  const attributesFor = (slug: string, success: boolean, fallback: boolean, region: string | undefined): Attributes => {
    if (success && !knownSlugs.has(slug) && knownSlugs.size < options.maxSlugLabels) knownSlugs.add(slug);
    const label = knownSlugs.has(slug) ? slug : UNKNOWN_SLUG_LABEL;
    const regionValue = regionLabel(region);
    const key = regionValue === 'unknown' ? label : `${label}\u0000${regionValue}`;
    let variants = attributeCache.get(key);
    if (variants === undefined) {
      variants = [false, true].flatMap((ok) =>
        [false, true].map((fb) => ({
          outcome: ok ? 'success' : 'failure',
          fallback: fb ? 'true' : 'false',
          micro_slug: label,
          region: regionValue,
        })),
      );
      attributeCache.set(key, variants);
    }
    return variants[(success ? 2 : 0) + (fallback ? 1 : 0)] as Attributes;
  };

  const dropAttributes = new Map<DropReason, Attributes>();
  return {
    recordLookup(slug, success, fallbackUsed, region, lookupTimeMs) {
      const attributes = attributesFor(slug, success, fallbackUsed, region);
      get().duration.record(lookupTimeMs / 1000, attributes);
      lookupCounts.set(attributes, (lookupCounts.get(attributes) ?? 0) + 1);
    },
    recordDrop(reason, count) {
      let attributes = dropAttributes.get(reason);
      if (attributes === undefined) dropAttributes.set(reason, (attributes = { reason }));
      get().dropped.add(count, attributes);
    },
  };
}
