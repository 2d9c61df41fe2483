import type { Meter } from '@opentelemetry/api';
import type { DropReason } from '../contract/metrics.ts';
import type { AnalyticsBatcher, AnalyticsBatcherOptions } from './analytics-batcher.ts';
import { createAnalyticsBatcher } from './analytics-batcher.ts';
import type { AnalyticsSink } from './analytics-sink.ts';
import type { UuidLookupEvent } from './lookup-event.ts';
import { createLookupInstruments } from './logging/lookup-instruments.ts';
import type { UUIDLookupMetrics } from './logging/lookup-stats.ts';
import { createLookupStats } from './logging/lookup-stats.ts';
import { createRecentEvents } from './logging/recent-events.ts';
import type { SanitizedLookup } from './sanitize-lookup.ts';
import { isRegionCode, LIMITS, sanitizeLookup } from './sanitize-lookup.ts';

export type { UUIDLookupMetrics } from './logging/lookup-stats.ts';

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
  const recentSize = wholeNumber('recentEventsSize', options.recentEventsSize, 50);
  const maxSlugLabels = wholeNumber('maxSlugLabels', options.maxSlugLabels, 500);
  // Decided once here, not per call: a disabled console costs nothing, not even
  // the formatting of its message.
  const log = options.consoleLogging === true ? console : options.consoleLogging || NOOP_CONSOLE;
  const debugEnabled = log !== NOOP_CONSOLE;
  const context = options.context;

  const instruments = createLookupInstruments({
    meter: options.meter,
    knownSlugs: options.knownSlugs,
    maxSlugLabels,
    knownRegions: options.knownRegions,
  });
  const stats = createLookupStats();
  const recent = createRecentEvents(recentSize);

  const { countDrop, stepFailed, droppedCounts } = createFailureAccounting(log, instruments);

  const batcher: AnalyticsBatcher = createAnalyticsBatcher({
    ...queueOptions(options),
    onDrop: countDrop,
    onRetry: (error, delay) => log.warn(`[uuid-lookup] analytics write failed, retrying in ${Math.round(delay)} ms: ${error.message}`),
  });

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
      const event = eventOf(checked, success, fallbackUsed);
      if (context !== undefined) {
        try {
          addContext(event, context());
        } catch (error) {
          stepFailed('the context() callback', error);
        }
      }

      // The exact record (the analytics event) first; then the figures, each on its own.
      try {
        batcher.enqueue(event);
      } catch (error) {
        stepFailed('queueing the analytics event', error);
      }
      stats.add(success, fallbackUsed, checked.lookupTimeMs);
      recent.add(event);
      try {
        instruments.recordLookup(checked.slug, success, fallbackUsed, event.region, checked.lookupTimeMs);
      } catch (error) {
        stepFailed('recording the lookup in the metrics', error);
      }
      if (debugEnabled) log.debug(describeLookup(event));
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
    getMetrics: stats.snapshot,
    getRecentEvents: recent.list,
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
    getDroppedCounts: droppedCounts,
  };
}

function wholeNumber(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`uuid-lookup: ${name} must be a whole number >= 0, got ${String(n)}`);
  return n;
}

/** The queue's options the logger passes on, those given only. */
function queueOptions(options: UuidLookupLoggerOptions): Omit<AnalyticsBatcherOptions, 'onDrop' | 'onRetry'> {
  return {
    sink: options.sink,
    ...(options.maxExportBatchSize === undefined ? {} : { maxExportBatchSize: options.maxExportBatchSize }),
    ...(options.scheduledDelayMillis === undefined ? {} : { scheduledDelayMillis: options.scheduledDelayMillis }),
    ...(options.maxQueueSize === undefined ? {} : { maxQueueSize: options.maxQueueSize }),
    ...(options.initialRetryDelayMillis === undefined ? {} : { initialRetryDelayMillis: options.initialRetryDelayMillis }),
    ...(options.maxRetryDelayMillis === undefined ? {} : { maxRetryDelayMillis: options.maxRetryDelayMillis }),
  };
}

/** The analytics event of a lookup that passed the checks. */
function eventOf(checked: Extract<SanitizedLookup, { ok: true }>, success: boolean, fallbackUsed: boolean): UuidLookupEvent {
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
  return event;
}

/** The app's session and region, where they are well-formed. */
function addContext(event: UuidLookupEvent, ctx: ReturnType<NonNullable<UuidLookupLoggerOptions['context']>>): void {
  if (typeof ctx.sessionId === 'string' && ctx.sessionId !== '') event.sessionId = ctx.sessionId.slice(0, LIMITS.sessionIdLength);
  if (isRegionCode(ctx.region)) event.region = ctx.region;
}

function describeLookup(event: UuidLookupEvent): string {
  const fallback = event.fallbackUsed ? ' (fallback)' : '';
  const raw = event.microUuidRaw === undefined ? '' : ` (not a UUID: ${JSON.stringify(event.microUuidRaw)})`;
  return `[uuid-lookup] ${event.success ? 'success' : 'failure'} ${event.microSlug} ${event.lookupTimeMs.toFixed(1)} ms${fallback}${raw}`;
}

/**
 * What the logger drops, counted and said; and a step of recording that failed (a
 * throwing meter, the app's context()), said once per kind of step while the other
 * steps go on. Recording never throws into the host app. (Inline try/catch at each
 * step, not a wrapper taking a closure: no allocation per lookup.)
 */
function createFailureAccounting(log: Pick<Console, 'debug' | 'warn'>, instruments: ReturnType<typeof createLookupInstruments>) {
  const dropped: Record<DropReason, number> = {
    invalid_slug: 0,
    invalid_duration: 0,
    invalid_uuid: 0,
    queue_full: 0,
    rejected: 0,
    shutdown: 0,
  };
  const failedSteps = new Set<string>();
  const stepFailed = (step: string, error: unknown): void => {
    if (failedSteps.has(step)) return;
    failedSteps.add(step);
    try {
      log.warn(`[uuid-lookup] ${step} failed (said once; the lookup is kept): ${error instanceof Error ? error.message : String(error)}`);
    } catch {
      // nothing left to do
    }
  };
  const countDrop = (reason: DropReason, count: number, error?: Error): void => {
    dropped[reason] += count;
    try {
      instruments.recordDrop(reason, count);
    } catch (failure) {
      stepFailed('recording a drop in the metrics', failure);
    }
    log.warn(`[uuid-lookup] dropped ${count} event(s): ${reason}${error ? ` (${error.message})` : ''}`);
  };
  return { countDrop, stepFailed, droppedCounts: (): Readonly<Record<DropReason, number>> => ({ ...dropped }) };
}
