import type { Attributes, Counter, Histogram, Meter, ObservableCounter } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import type { AnalyticsBatcher } from './analytics-batcher.ts';
import { createAnalyticsBatcher } from './analytics-batcher.ts';
import type { AnalyticsSink } from './analytics-sink.ts';
import type { UuidLookupEvent } from './lookup-event.ts';
import { eventId } from './lookup-event.ts';
import type { DropReason } from '../contract/metrics.ts';
import {
  EVENTS_DROPPED,
  LOOKUP_DURATION,
  LOOKUP_DURATION_BUCKETS_SECONDS,
  LOOKUPS,
  UNKNOWN_SLUG_LABEL,
} from '../contract/metrics.ts';
import { isRegionCode, LIMITS, sanitizeLookup } from './sanitize-lookup.ts';

/** The spec's metrics (section 1, "Metrics Tracked"). */
export interface UUIDLookupMetrics {
  totalLookups: number;
  successfulLookups: number;
  failedLookups: number;
  /** Milliseconds, over all lookups, failures included (the alert's average is the same). */
  averageLookupTime: number;
  /** Percentage of all lookups that used a fallback. */
  fallbackRate: number;
}

/** Per-lookup context: the wizard session and a coarse region, both optional. */
export interface LookupContext {
  sessionId?: string;
  region?: string;
}

/** Options of {@link createUuidLookupLogger}. Configuration errors throw here; recording never throws. */
export interface UuidLookupLoggerOptions {
  /** Where events go (`analytics_events`); can be set later with `setSink`. */
  sink?: AnalyticsSink;
  /** Events per analytics write (OpenTelemetry's BatchProcessor name). Default 10 (the spec's). */
  maxExportBatchSize?: number;
  /** A partial batch is written after this long (OpenTelemetry's name). Default 5000. */
  scheduledDelayMillis?: number;
  /** Events held for the sink at most; beyond, new events are dropped and counted. Default 1000. */
  maxQueueSize?: number;
  /** Meter for the histogram and counters. Default: the global MeterProvider's, resolved at first use. */
  meter?: Meter;
  /** Development console logging: `true` for `console`, or a logger. Default off. */
  consoleLogging?: boolean | Pick<Console, 'debug' | 'warn'>;
  /** Size of the recent-events buffer for debugging. Default 50; 0 turns it off. */
  recentEventsSize?: number;
  /** Slugs known to be services, used as metric labels from the start. */
  knownSlugs?: Iterable<string>;
  /** Slugs learned from successful lookups, at most. Others are `__unknown__` in metrics. Default 500. */
  maxSlugLabels?: number;
  /** Called for each event: the session and region to attach. */
  context?: () => LookupContext;
  /**
   * Regions that become a metric label as they are; any other region is `other`,
   * none is `unknown`. The analytics row keeps the region as given (if well-formed).
   */
  knownRegions?: Iterable<string>;
  initialRetryDelayMillis?: number;
  maxRetryDelayMillis?: number;
}

/** The logger: the spec's API plus lifecycle. */
export interface UuidLookupLogger {
  /**
   * Records a successful lookup (`lookupTimeMs` in milliseconds). Never throws.
   * It counts whatever `microUuid` is: a value that is not a UUID is kept as
   * text in the event (`micro_uuid_raw`, with `micro_uuid` null).
   */
  logSuccess(microSlug: string, microUuid: string, lookupTimeMs: number, fallbackUsed?: boolean): void;
  /** Records a failed lookup. Never throws. */
  logFailure(microSlug: string, lookupTimeMs: number, errorMessage?: string | Error): void;
  getMetrics(): UUIDLookupMetrics;
  /** The most recent events, oldest first, for debugging. */
  getRecentEvents(): UuidLookupEvent[];
  /** Writes queued events now. Never rejects. */
  flush(): Promise<void>;
  /** Flushes what it can within `timeoutMillis` and stops. Safe to call twice. */
  shutdown(options?: { timeoutMillis?: number }): Promise<void>;
  /** Hands queued events to the sink's page-hide path (browsers; see the browser entry point). */
  flushOnPageHide(): void;
  setSink(sink: AnalyticsSink): void;
  /** Events dropped so far, by reason. */
  getDroppedCounts(): Readonly<Record<DropReason, number>>;
}

interface Instruments {
  duration: Histogram;
  lookups: ObservableCounter;
  dropped: Counter;
}

// uuid.lookups is an asynchronous counter over counts the logger keeps anyway
// (per cached attributes object): a synchronous counter.add would hash the same
// attributes a second time on every lookup, which is most of the cost of
// recording (OTel JS hashAttributes). Prometheus sees the same monotonic sum.
function createInstruments(meter: Meter, lookupCounts: ReadonlyMap<Attributes, number>): Instruments {
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
    lookups,
    dropped: meter.createCounter(EVENTS_DROPPED.name, {
      unit: EVENTS_DROPPED.unit,
      description: 'Lookup events not recorded or not delivered to analytics, by reason.',
    }),
  };
}

const NOOP_CONSOLE: Pick<Console, 'debug' | 'warn'> = { debug: () => {}, warn: () => {} };

/**
 * Creates a lookup logger.
 *
 * @example
 * ```ts
 * const logger = createUuidLookupLogger({ sink: createSupabaseAnalyticsSink({ client: supabase }) });
 * logger.logSuccess('wall-painting', uuid, 25, false);
 * ```
 */
export function createUuidLookupLogger(options: UuidLookupLoggerOptions = {}): UuidLookupLogger {
  const recentSize = options.recentEventsSize ?? 50;
  if (!Number.isInteger(recentSize) || recentSize < 0) {
    throw new RangeError(`uuid-lookup: recentEventsSize must be a whole number >= 0, got ${String(recentSize)}`);
  }
  const maxSlugLabels = options.maxSlugLabels ?? 500;
  if (!Number.isInteger(maxSlugLabels) || maxSlugLabels < 0) {
    throw new RangeError(`uuid-lookup: maxSlugLabels must be a whole number >= 0, got ${String(maxSlugLabels)}`);
  }
  // Decided once here, not per call: a disabled console costs nothing, not even
  // the formatting of its message.
  const log = options.consoleLogging === true ? console : options.consoleLogging || NOOP_CONSOLE;
  const debugEnabled = log !== NOOP_CONSOLE;
  const context = options.context;

  // Cumulative lookup counts by attribute set, observed by the uuid.lookups counter.
  const lookupCounts = new Map<Attributes, number>();
  let instruments: Instruments | undefined =
    options.meter === undefined ? undefined : createInstruments(options.meter, lookupCounts);
  const getInstruments = (): Instruments =>
    (instruments ??= createInstruments(metrics.getMeter('uuid-lookup-observability'), lookupCounts));

  const dropped: Record<DropReason, number> = {
    invalid_slug: 0,
    invalid_duration: 0,
    invalid_uuid: 0,
    queue_full: 0,
    rejected: 0,
    shutdown: 0,
  };
  const dropAttributes = new Map<DropReason, Attributes>();
  const countDrop = (reason: DropReason, count: number, error?: Error): void => {
    dropped[reason] += count;
    let attributes = dropAttributes.get(reason);
    if (attributes === undefined) dropAttributes.set(reason, (attributes = { reason }));
    getInstruments().dropped.add(count, attributes);
    log.warn(`[uuid-lookup] dropped ${count} event(s): ${reason}${error ? ` (${error.message})` : ''}`);
  };

  const batcher: AnalyticsBatcher = createAnalyticsBatcher({
    sink: options.sink,
    ...(options.maxExportBatchSize === undefined ? {} : { maxExportBatchSize: options.maxExportBatchSize }),
    ...(options.scheduledDelayMillis === undefined ? {} : { scheduledDelayMillis: options.scheduledDelayMillis }),
    ...(options.maxQueueSize === undefined ? {} : { maxQueueSize: options.maxQueueSize }),
    ...(options.initialRetryDelayMillis === undefined ? {} : { initialRetryDelayMillis: options.initialRetryDelayMillis }),
    ...(options.maxRetryDelayMillis === undefined ? {} : { maxRetryDelayMillis: options.maxRetryDelayMillis }),
    onDrop: countDrop,
    onRetry: (error, delay) => log.warn(`[uuid-lookup] analytics write failed, retrying in ${Math.round(delay)} ms: ${error.message}`),
  });

  // Bounded label cardinality: slugs seen resolving, up to maxSlugLabels.
  const knownSlugs = new Set<string>();
  for (const slug of options.knownSlugs ?? []) if (knownSlugs.size < maxSlugLabels) knownSlugs.add(slug);
  // Regions as a bounded label too (Phase 6 geography): a known list, else `other`.
  const knownRegions = new Set(options.knownRegions ?? []);
  const regionLabel = (region: string | undefined): string =>
    region === undefined ? 'unknown' : knownRegions.has(region) ? region : 'other';

  // One attributes object per label combination, made once: no allocation and
  // no string building per lookup. Index: outcome * 2 + fallback.
  const attributeCache = new Map<string, Attributes[]>();
  const attributesFor = (slug: string, success: boolean, fallback: boolean, region: string | undefined): Attributes => {
    if (success && !knownSlugs.has(slug) && knownSlugs.size < maxSlugLabels) knownSlugs.add(slug);
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

  let total = 0;
  let successes = 0;
  let fallbacks = 0;
  let totalTimeMs = 0;
  const recent: UuidLookupEvent[] = [];
  let recentNext = 0;

  const record = (
    slugInput: unknown,
    uuidInput: unknown,
    msInput: unknown,
    success: boolean,
    fallbackInput: unknown,
    errorInput?: unknown,
  ): void => {
    try {
      const checked = sanitizeLookup({ slug: slugInput, uuid: uuidInput, lookupTimeMs: msInput, success, errorMessage: errorInput });
      if (!checked.ok) {
        countDrop(checked.reason, 1);
        return;
      }
      const fallbackUsed = fallbackInput === true;
      const event: UuidLookupEvent = {
        microSlug: checked.slug,
        microUuid: checked.uuid,
        lookupTimeMs: checked.lookupTimeMs,
        success,
        fallbackUsed,
        createdAtMillis: Date.now(),
      };
      if (checked.uuidRaw !== undefined) event.microUuidRaw = checked.uuidRaw;
      if (checked.errorMessage !== undefined) event.errorMessage = checked.errorMessage;
      if (context !== undefined) {
        const ctx = context();
        if (typeof ctx.sessionId === 'string' && ctx.sessionId !== '') event.sessionId = ctx.sessionId.slice(0, LIMITS.sessionIdLength);
        if (isRegionCode(ctx.region)) event.region = ctx.region;
      }

      const attributes = attributesFor(checked.slug, success, fallbackUsed, event.region);
      getInstruments().duration.record(checked.lookupTimeMs / 1000, attributes);
      lookupCounts.set(attributes, (lookupCounts.get(attributes) ?? 0) + 1);

      total += 1;
      if (success) successes += 1;
      if (fallbackUsed) fallbacks += 1;
      totalTimeMs += checked.lookupTimeMs;
      if (recentSize > 0) {
        recent[recentNext] = event;
        recentNext = (recentNext + 1) % recentSize;
      }
      batcher.enqueue(event);
      if (debugEnabled) {
        log.debug(
          `[uuid-lookup] ${success ? 'success' : 'failure'} ${checked.slug} ${checked.lookupTimeMs.toFixed(1)} ms${fallbackUsed ? ' (fallback)' : ''}${
            checked.uuidRaw === undefined ? '' : ` (not a UUID: ${JSON.stringify(checked.uuidRaw)})`
          }`,
        );
      }
    } catch (error) {
      // Recording never throws into the host app.
      try {
        log.warn(`[uuid-lookup] could not record a lookup: ${error instanceof Error ? error.message : String(error)}`);
      } catch {
        // nothing left to do
      }
    }
  };

  return {
    logSuccess(microSlug, microUuid, lookupTimeMs, fallbackUsed = false): void {
      record(microSlug, microUuid, lookupTimeMs, true, fallbackUsed);
    },
    logFailure(microSlug, lookupTimeMs, errorMessage): void {
      record(microSlug, null, lookupTimeMs, false, false, errorMessage);
    },
    getMetrics(): UUIDLookupMetrics {
      return {
        totalLookups: total,
        successfulLookups: successes,
        failedLookups: total - successes,
        averageLookupTime: total === 0 ? 0 : totalTimeMs / total,
        fallbackRate: total === 0 ? 0 : (100 * fallbacks) / total,
      };
    },
    getRecentEvents(): UuidLookupEvent[] {
      const ordered = recent.length < recentSize ? recent.slice() : [...recent.slice(recentNext), ...recent.slice(0, recentNext)];
      for (const event of ordered) eventId(event);
      return ordered;
    },
    async flush(): Promise<void> {
      await batcher.flush();
    },
    shutdown(shutdownOptions): Promise<void> {
      return batcher.shutdown(shutdownOptions);
    },
    flushOnPageHide(): void {
      batcher.flushOnPageHide();
    },
    setSink(sink: AnalyticsSink): void {
      batcher.setSink(sink);
    },
    getDroppedCounts() {
      return { ...dropped };
    },
  };
}
