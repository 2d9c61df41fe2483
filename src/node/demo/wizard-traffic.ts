import type { Meter } from '@opentelemetry/api';
import type { UUIDLookupMetrics } from '../../core/uuid-lookup-logger.ts';
import { createSlugResolver } from '../../core/slug-resolver.ts';
import { createUuidLookupLogger } from '../../core/uuid-lookup-logger.ts';
import type { Database } from '../db/database.ts';
import { createPgAnalyticsSink } from '../sdk/pg-analytics-sink.ts';
import { createPgSlugSource } from '../sdk/pg-slug-source.ts';

/** Options of {@link runWizardTraffic}. */
export interface WizardTrafficOptions {
  /** Records the SDK's metrics here too (the traffic command's collector or pull endpoint). */
  meter?: Meter;
  /** Stop after this many lookups. Default: run until `signal` or `durationMillis`. */
  lookups?: number;
  /** Stop after this long. */
  durationMillis?: number;
  /** Lookups per second; as fast as the database answers when absent. */
  rate?: number;
  signal?: AbortSignal;
  /** Share of lookups for slugs that match no service. Default 0.04. */
  failureRatio?: number;
  /** Share of lookups for legacy slugs that only the fallback map resolves. Default 0.1. */
  fallbackRatio?: number;
  /** Regions the sessions come from. */
  regions?: readonly string[];
  /** Submit a job at the end of most sessions (fewer after a failure or fallback), as the wizard does. */
  submitJobs?: boolean;
  /** Source of randomness (tests and the demo pass a seeded one). */
  random?: () => number;
}

/** What a traffic run did: the SDK's own figures, and the jobs its sessions submitted. */
export interface WizardTrafficResult extends UUIDLookupMetrics {
  jobsSubmitted: number;
}

/**
 * Legacy slugs the wizard still sends, which only the fallback map knows, each with
 * the service it is an old name of (supabase/seed.sql). A legacy slug whose service
 * is not in micro_services gets no fallback: it fails, as it would in the wizard.
 */
const LEGACY_SLUGS: readonly (readonly [legacy: string, service: string])[] = [
  ['wall_painting', 'wall-painting'],
  ['paint-walls', 'wall-painting'],
  ['floor-tiling', 'tiling-floor'],
];
const SESSION_LOOKUPS = 5;

/**
 * Simulated booking-wizard traffic through the SDK, against the real
 * micro_services table: sessions of five lookups, each one a real query (no
 * cache, so each is timed and logged), unknown slugs that fail, legacy slugs
 * that only the fallback map resolves; events go to analytics_events. Used by
 * the demo (a fixed number of lookups, as fast as possible) and the traffic
 * command (a rate, until stopped).
 */
export async function runWizardTraffic(db: Database, options: WizardTrafficOptions = {}): Promise<WizardTrafficResult> {
  const random = options.random ?? Math.random;
  const failureRatio = options.failureRatio ?? 0.04;
  const fallbackRatio = options.fallbackRatio ?? 0.1;
  const regions = options.regions ?? ['DE', 'FR', 'ES', 'IT', 'NL'];
  const { rows: services } = await db.query<{ id: string; slug: string }>('SELECT id, slug FROM public.micro_services ORDER BY slug');
  if (services.length === 0) throw new Error('uuid-lookup: micro_services is empty: run `uuid-lookup db seed` first');
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  let session = { id: '', region: '' };
  const logger = createUuidLookupLogger({
    sink: createPgAnalyticsSink({ db }),
    knownSlugs: services.map((s) => s.slug),
    knownRegions: regions,
    maxQueueSize: 100_000,
    context: () => ({ sessionId: session.id, region: session.region }),
    ...(options.meter === undefined ? {} : { meter: options.meter }),
  });
  const byService = new Map(services.map((s) => [s.slug, s.id]));
  const fallback = new Map(
    LEGACY_SLUGS.flatMap(([legacy, service]) => {
      const id = byService.get(service);
      return id === undefined ? [] : [[legacy, id] as const];
    }),
  );
  const legacySlugs = LEGACY_SLUGS.map(([legacy]) => legacy);
  const resolver = createSlugResolver({ source: createPgSlugSource(db), logger, cacheTtlMillis: 0, negativeCacheTtlMillis: 0, fallback });

  const until = options.durationMillis === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.durationMillis;
  const limit = options.lookups ?? Number.POSITIVE_INFINITY;
  const run = crypto.randomUUID().slice(0, 8);
  const pause = options.rate === undefined ? 0 : 1000 / options.rate;
  let jobsSubmitted = 0;
  let troubled = false;
  for (let i = 0; i < limit && options.signal?.aborted !== true && Date.now() < until; i += 1) {
    if (i % SESSION_LOOKUPS === 0) {
      session = { id: `wizard-${run}-${i / SESSION_LOOKUPS}`, region: pick(regions) };
      troubled = false;
    }
    const dice = random();
    const slug =
      dice < failureRatio ? `unknown-service-${Math.floor(random() * 7)}` : dice < failureRatio + fallbackRatio ? pick(legacySlugs) : pick(services).slug;
    const uuid = await resolver.resolve(slug).catch(() => null);
    troubled ||= uuid === null || fallback.has(slug);
    // Most sessions end in a booking; fewer after a failure or a fallback.
    if (options.submitJobs === true && i % SESSION_LOOKUPS === SESSION_LOOKUPS - 1 && uuid !== null && random() < (troubled ? 0.3 : 0.8)) {
      await db.query('INSERT INTO public.jobs (micro_id, micro_uuid, session_id, title) VALUES ($1, $2, $3, $4)', [slug, uuid, session.id, 'Booking']);
      jobsSubmitted += 1;
    }
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  await logger.shutdown();
  return { ...logger.getMetrics(), jobsSubmitted };
}

/** A small seeded generator (mulberry32): the demo's traffic is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
