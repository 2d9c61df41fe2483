import type { SlugSource } from './slug-source.ts';
import type { UuidLookupLogger } from './uuid-lookup-logger.ts';

/** Options of {@link createSlugResolver}. */
export interface SlugResolverOptions {
  source: SlugSource;
  /** Where lookups are logged. Cache hits are not lookups and are not logged. */
  logger: UuidLookupLogger;
  /** How long a found UUID is cached. Default 5 minutes. */
  cacheTtlMillis?: number;
  /** Entries cached at most (the least recently stored go first). Default 1000. */
  maxCacheSize?: number;
  /** How long "no such slug" is cached, so a typo does not hit the database per keystroke. Default 30 s. */
  negativeCacheTtlMillis?: number;
  /** Used when the database has no answer (not found, or an error): marks the lookup `fallback_used`. */
  fallback?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | ((slug: string) => string | undefined);
  /** Clock, for tests. */
  now?: () => number;
}

/** Resolves service slugs to UUIDs, with a cache, shared in-flight queries, batches and preload. */
export interface SlugResolver {
  /** The UUID of a slug, or null when there is none (logged as a failure). Rejects only when the lookup failed and no fallback had the slug. */
  resolve(slug: string): Promise<string | null>;
  /** Several slugs in one query (cache misses only). */
  resolveMany(slugs: Iterable<string>): Promise<Map<string, string | null>>;
  /** Warms the cache: the given slugs, or every service when the source can list them. */
  preload(slugs?: Iterable<string>): Promise<void>;
  /** A cached answer without a query: a UUID, null (known missing), or undefined (not cached). */
  peek(slug: string): string | null | undefined;
  clear(): void;
  stats(): { hits: number; misses: number; size: number };
}

interface Entry {
  uuid: string | null;
  expires: number;
}

function fallbackLookup(fallback: SlugResolverOptions['fallback']): (slug: string) => string | undefined {
  if (fallback === undefined) return () => undefined;
  if (typeof fallback === 'function') return fallback;
  if (fallback instanceof Map) return (slug) => fallback.get(slug);
  const record = fallback as Readonly<Record<string, string>>;
  return (slug) => (Object.hasOwn(record, slug) ? record[slug] : undefined);
}

/**
 * @example
 * ```ts
 * const resolver = createSlugResolver({ source: createSupabaseSlugSource(supabase), logger: uuidLookupLogger });
 * await resolver.preload();
 * const uuid = await resolver.resolve('wall-painting');
 * ```
 */
export function createSlugResolver(options: SlugResolverOptions): SlugResolver {
  const ttl = options.cacheTtlMillis ?? 5 * 60_000;
  const negativeTtl = options.negativeCacheTtlMillis ?? 30_000;
  const maxSize = options.maxCacheSize ?? 1000;
  for (const [name, value] of [['cacheTtlMillis', ttl], ['negativeCacheTtlMillis', negativeTtl], ['maxCacheSize', maxSize]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`uuid-lookup: ${name} must be >= 0, got ${String(value)}`);
  }
  const now = options.now ?? Date.now;
  const { source, logger } = options;
  const fallbackFor = fallbackLookup(options.fallback);
  const cache = createSlugCache({ ttl, negativeTtl, maxSize, now });
  const inFlight = new Map<string, Promise<string | null>>();
  let hits = 0;
  let misses = 0;

  // One query for all given slugs; each is logged with the query's time.
  const query = async (slugs: string[]): Promise<Map<string, string | null>> => {
    const started = performance.now();
    let found: Map<string, string> | undefined;
    let failure: unknown;
    try {
      found = await source.lookup(slugs);
    } catch (error) {
      failure = error;
    }
    const elapsed = performance.now() - started;
    const result = new Map<string, string | null>();
    let unresolved = false;
    for (const slug of slugs) {
      const uuid = found?.get(slug);
      if (uuid !== undefined) {
        logger.logSuccess(slug, uuid, elapsed, false);
        cache.remember(slug, uuid);
        result.set(slug, uuid);
        continue;
      }
      const fallback = fallbackFor(slug);
      if (fallback !== undefined) {
        logger.logSuccess(slug, fallback, elapsed, true);
        result.set(slug, fallback);
        continue;
      }
      if (failure !== undefined) {
        logger.logFailure(slug, elapsed, failure instanceof Error ? failure : String(failure));
        unresolved = true;
        continue;
      }
      logger.logFailure(slug, elapsed, 'Service not found');
      cache.remember(slug, null);
      result.set(slug, null);
    }
    // Every slug is logged first; then the lookup error reaches the caller.
    if (unresolved) throw failure;
    return result;
  };

  const resolveMany = async (input: Iterable<string>): Promise<Map<string, string | null>> => {
    const result = new Map<string, string | null>();
    const waiting: Promise<void>[] = [];
    const toQuery: string[] = [];
    for (const slug of new Set(input)) {
      const entry = cache.fresh(slug);
      if (entry !== undefined) {
        hits += 1;
        result.set(slug, entry.uuid);
        continue;
      }
      const pending = inFlight.get(slug);
      if (pending !== undefined) {
        waiting.push(pending.then((uuid) => void result.set(slug, uuid)));
        continue;
      }
      misses += 1;
      toQuery.push(slug);
    }
    if (toQuery.length > 0) {
      const queried = query(toQuery);
      for (const slug of toQuery) {
        const one = queried.then((map) => map.get(slug) ?? null);
        one.catch(() => {});
        inFlight.set(slug, one);
        void one.finally(() => inFlight.delete(slug)).catch(() => {});
      }
      for (const [slug, uuid] of await queried) result.set(slug, uuid);
    }
    await Promise.all(waiting);
    return result;
  };

  return {
    resolve(slug: string): Promise<string | null> {
      // The hit path stays synchronous up to one resolved promise: no async frame, no query.
      const entry = cache.peekFresh(slug);
      if (entry !== undefined) {
        hits += 1;
        return Promise.resolve(entry.uuid);
      }
      return resolveMany([slug]).then((map) => map.get(slug) ?? null);
    },
    resolveMany,
    async preload(slugs?: Iterable<string>): Promise<void> {
      if (slugs !== undefined) {
        await resolveMany(slugs);
        return;
      }
      if (source.lookupAll === undefined) return;
      const all = await source.lookupAll();
      for (const [slug, uuid] of all) cache.remember(slug, uuid);
    },
    peek(slug: string): string | null | undefined {
      return cache.fresh(slug)?.uuid;
    },
    clear(): void {
      cache.clear();
    },
    stats() {
      return { hits, misses, size: cache.size };
    },
  };
}

/**
 * The resolver's cache: found slugs for `ttl`, unknown ones for `negativeTtl`,
 * at most `maxSize` entries (the oldest written goes first).
 */
function createSlugCache(limits: { ttl: number; negativeTtl: number; maxSize: number; now: () => number }) {
  const { ttl, negativeTtl, maxSize, now } = limits;
  const entries = new Map<string, Entry>();
  return {
    remember(slug: string, uuid: string | null): void {
      const lifetime = uuid === null ? negativeTtl : ttl;
      if (lifetime === 0 || maxSize === 0) return;
      entries.delete(slug);
      entries.set(slug, { uuid, expires: now() + lifetime });
      if (entries.size > maxSize) entries.delete(entries.keys().next().value as string);
    },
    /** The entry while it is fresh; an expired one is dropped. */
    fresh(slug: string): Entry | undefined {
      const entry = entries.get(slug);
      if (entry === undefined) return undefined;
      if (entry.expires <= now()) {
        entries.delete(slug);
        return undefined;
      }
      return entry;
    },
    /** The entry while it is fresh, without dropping an expired one: the resolver's synchronous hit path. */
    peekFresh(slug: string): Entry | undefined {
      const entry = entries.get(slug);
      return entry !== undefined && entry.expires > now() ? entry : undefined;
    },
    clear(): void {
      entries.clear();
    },
    get size(): number {
      return entries.size;
    },
  };
}
