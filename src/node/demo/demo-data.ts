import type { Queryable } from '../db/database.ts';

/** Sizes of the demo's data set. */
export interface DemoDataOptions {
  /** Jobs to create (default 100,000). */
  jobs?: number;
}

// Trades and the variants a marketplace splits them into: with supabase/seed.sql's
// 60 services, a catalogue of several hundred slugs.
const TRADES = ['painting', 'plastering', 'tiling', 'flooring', 'carpentry', 'plumbing', 'electrics', 'roofing', 'gardening', 'cleaning', 'insulation', 'glazing'];
const VARIANTS = ['interior', 'exterior', 'repair', 'installation', 'commercial', 'emergency', 'small-job', 'full-renovation', 'consultation', 'inspection', 'maintenance', 'removal', 'eco', 'premium', 'express', 'weekend', 'rental-property', 'new-build', 'listed-building', 'accessibility'];

/**
 * Realistic demo data on top of supabase/seed.sql: a few hundred services and
 * `jobs` old jobs without micro_uuid, 4 % with legacy or misspelt slugs that match
 * no service and 1 % with no slug. Deterministic ids: running it twice adds nothing.
 */
export async function loadDemoData(db: Queryable, options: DemoDataOptions = {}): Promise<{ services: number; jobs: number }> {
  const jobs = options.jobs ?? 100_000;
  await db.query(
    `INSERT INTO public.micro_services (id, slug, name)
     SELECT md5('micro-service:' || t || '-' || v)::uuid, t || '-' || v, initcap(replace(t || ' ' || v, '-', ' '))
     FROM unnest($1::text[]) AS t, unnest($2::text[]) AS v
     ON CONFLICT DO NOTHING`,
    [TRADES, VARIANTS],
  );
  await db.query(
    `WITH catalogue AS (SELECT array_agg(slug ORDER BY slug) AS slugs FROM public.micro_services)
     INSERT INTO public.jobs (id, micro_id, title, created_at)
     SELECT md5('demo-job:' || g)::uuid,
            CASE
              WHEN g % 100 = 0 THEN NULL
              WHEN g % 25 = 0 THEN (ARRAY['wall_painting', 'Wall-Painting', 'painting', 'handyman', 'electrician', 'tiler', 'garden', 'paint-walls'])[1 + (g / 25) % 8]
              ELSE c.slugs[1 + (g::bigint * 7919) % cardinality(c.slugs)]
            END,
            'Demo job ' || g,
            now() - make_interval(mins => g % 525600)
     FROM generate_series(1, $1::int) AS g, catalogue c
     ON CONFLICT DO NOTHING`,
    [jobs],
  );
  const { rows } = await db.query<{ services: string; jobs: string }>(
    'SELECT (SELECT count(*) FROM public.micro_services) AS services, (SELECT count(*) FROM public.jobs) AS jobs',
  );
  return { services: Number(rows[0]?.services), jobs: Number(rows[0]?.jobs) };
}
