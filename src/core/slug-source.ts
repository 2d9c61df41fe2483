import type { PostgrestInFilter, SupabaseClientLike } from './supabase-client.ts';

/** Where slugs are looked up: `micro_services` through supabase-js or node-postgres. */
export interface SlugSource {
  /** The UUIDs of the given slugs; slugs without a service are absent. Throws on infrastructure errors. */
  lookup(slugs: readonly string[]): Promise<Map<string, string>>;
  /** Every service (for preload). */
  lookupAll?(): Promise<Map<string, string>>;
}

/** An error of the lookup itself (network, database), not "no such slug". */
export class SlugLookupError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'SlugLookupError';
    this.code = code;
  }
}

// PostgREST puts `in.(…)` filters in the URL; keep each request well under URL limits.
const IN_FILTER_CHUNK = 100;

/**
 * Looks slugs up in `micro_services` with supabase-js (the anon role may read it).
 *
 * @example
 * ```ts
 * const resolver = createSlugResolver({ source: createSupabaseSlugSource(supabase) });
 * ```
 */
export function createSupabaseSlugSource(client: SupabaseClientLike, table = 'micro_services'): SlugSource {
  const toMap = (rows: { id: string; slug: string }[] | null, into: Map<string, string>): void => {
    for (const row of rows ?? []) into.set(row.slug, row.id);
  };
  return {
    async lookup(slugs) {
      const found = new Map<string, string>();
      for (let i = 0; i < slugs.length; i += IN_FILTER_CHUNK) {
        const query = client.from(table).select('id, slug');
        const { data, error } = await (query.in as PostgrestInFilter).call(query, 'slug', slugs.slice(i, i + IN_FILTER_CHUNK));
        if (error) throw new SlugLookupError(error.message, error.code);
        toMap(data as { id: string; slug: string }[] | null, found);
      }
      return found;
    },
    async lookupAll() {
      const found = new Map<string, string>();
      const page = 1000;
      for (let from = 0; ; from += page) {
        const { data, error } = await client.from(table).select('id, slug').order('slug').range(from, from + page - 1);
        if (error) throw new SlugLookupError(error.message, error.code);
        toMap(data as { id: string; slug: string }[] | null, found);
        if (((data as unknown[] | null)?.length ?? 0) < page) return found;
      }
    },
  };
}
