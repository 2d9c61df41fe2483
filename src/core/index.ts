// The isomorphic SDK (browser and Node). Runtime dependency: @opentelemetry/api only;
// supabase-js is used through the client the application passes in.
import { createUuidLookupLogger } from './uuid-lookup-logger.ts';
import type { UuidLookupLogger } from './uuid-lookup-logger.ts';

export type { AnalyticsBatcher, AnalyticsBatcherOptions, FlushResult } from './analytics-batcher.ts';
export { createAnalyticsBatcher } from './analytics-batcher.ts';
export type { AnalyticsSink, SinkResult } from './analytics-sink.ts';
export type { AnalyticsEventRow, UuidLookupEvent } from './lookup-event.ts';
export { toAnalyticsRow } from './lookup-event.ts';
export type { MemorySink } from './memory-sink.ts';
export { createMemorySink } from './memory-sink.ts';
export type { DropReason, PrometheusKind } from '../contract/metrics.ts';
export {
  EVENTS_DROPPED,
  LOOKUP_DURATION,
  LOOKUP_DURATION_BUCKETS_SECONDS,
  LOOKUPS,
  prometheusName,
  UNKNOWN_SLUG_LABEL,
} from '../contract/metrics.ts';
export { isUuid, randomUuid } from './random-uuid.ts';
export { LIMITS, sanitizeLookup } from './sanitize-lookup.ts';
export type { SlugResolver, SlugResolverOptions } from './slug-resolver.ts';
export { createSlugResolver } from './slug-resolver.ts';
export type { SlugSource } from './slug-source.ts';
export { createSupabaseSlugSource, SlugLookupError } from './slug-source.ts';
export type { SubmitJobOptions, SubmitJobResult } from './submit-job.ts';
export type {
  PostgrestErrorLike,
  PostgrestInFilter,
  PostgrestResponseLike,
  PostgrestSelectLike,
  PostgrestTableLike,
  SupabaseClientLike,
} from './supabase-client.ts';
export { submitJob } from './submit-job.ts';
export type { SupabaseAnalyticsSinkOptions } from './supabase-analytics-sink.ts';
export { classifyPostgrestResult, createSupabaseAnalyticsSink, KEEPALIVE_BODY_BUDGET, withKeepalive } from './supabase-analytics-sink.ts';
export { isRefusedRowCode } from './analytics-sink.ts';
export type { Severity, Threshold, ThresholdState } from '../contract/thresholds.ts';
export { thresholdFor, thresholds, thresholdState } from '../contract/thresholds.ts';
export type { LookupContext, UUIDLookupMetrics, UuidLookupLogger, UuidLookupLoggerOptions } from './uuid-lookup-logger.ts';
export { createUuidLookupLogger } from './uuid-lookup-logger.ts';

/**
 * The spec's singleton: `uuidLookupLogger.logSuccess('wall-painting', uuid, 25, false)`.
 * Metrics go to the global MeterProvider (resolved at the first lookup); events
 * queue until a sink is set with `uuidLookupLogger.setSink(...)`.
 */
export const uuidLookupLogger: UuidLookupLogger = createUuidLookupLogger();
