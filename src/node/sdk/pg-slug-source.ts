import type { SlugSource } from '../../core/slug-source.ts';
import { SlugLookupError } from '../../core/slug-source.ts';
import type { Queryable } from '../db/database.ts';
import { toDatabaseError } from '../db/database.ts';

/**
 * Looks slugs up in `micro_services` with node-postgres (or PGlite): one query
 * for any number of slugs, served by the unique index on slug.
 */
export function createPgSlugSource(db: Queryable): SlugSource {
  const run = async (sql: string, params: unknown[]): Promise<Map<string, string>> => {
    try {
      const { rows } = await db.query<{ id: string; slug: string }>(sql, params);
      return new Map(rows.map((row) => [row.slug, row.id]));
    } catch (error) {
      const failure = toDatabaseError(error);
      throw new SlugLookupError(failure.message, failure.code);
    }
  };
  return {
    lookup: (slugs) => run('SELECT id, slug FROM public.micro_services WHERE slug = ANY($1::text[])', [slugs]),
    lookupAll: () => run('SELECT id, slug FROM public.micro_services', []),
  };
}
