import { expect } from 'vitest';
import type { Database } from '../../src/node/db/database.ts';
import { foldLookupRollups } from '../../src/node/reports/lookup-analytics.ts';

/**
 * Asserts that the journey rollups equal a recomputation from the raw events and
 * jobs (a session: its events; submitted at its first job, whatever the order),
 * per day and troubled or clean, with the submit-time buckets, and per day and
 * troubled slug, once the pending events are folded in. Returns how many rows of
 * each there are.
 */
export async function expectJourneysExact(db: Database): Promise<{ days: number; slugs: number }> {
  await foldLookupRollups(db);
  const raw = `
    WITH s AS (
      SELECT e.session_id, min(e.created_at) AS first_at,
             bool_or(NOT (e.event_properties->>'success')::boolean OR (e.event_properties->>'fallback_used')::boolean) AS troubled,
             array_agg(DISTINCT e.event_properties->>'micro_slug')
               FILTER (WHERE NOT (e.event_properties->>'success')::boolean OR (e.event_properties->>'fallback_used')::boolean) AS slugs,
             -- A job's time counts when it is one a submission can have (migration 20261203000400).
             (SELECT min(j.created_at) FROM jobs j
              WHERE j.session_id = e.session_id AND j.created_at >= '2000-01-01T00:00:00Z' AND j.created_at < '2200-01-01T00:00:00Z') AS submitted_at
      FROM analytics_events e WHERE e.event_name = 'uuid_lookup' AND e.session_id IS NOT NULL GROUP BY e.session_id),
    b AS (SELECT s.*, (s.first_at AT TIME ZONE 'UTC')::date AS day,
                 CASE WHEN submitted_at IS NULL THEN NULL
                      ELSE 1 + (SELECT count(*)::int FROM unnest(ARRAY[10, 30, 60, 120, 300, 600, 1800, 3600]) x
                                WHERE extract(epoch FROM submitted_at - first_at) > x) END AS bucket
          FROM s)`;
  const daily = await db.query(
    `${raw}
     SELECT day::text, troubled, count(*)::int AS sessions, count(submitted_at)::int AS submitted,
            array_agg(bucket) FILTER (WHERE bucket IS NOT NULL) AS buckets
     FROM b GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const rolled = await db.query<{ day: string; troubled: boolean; sessions: number; submitted: number; submit_buckets: string[] }>(
    `SELECT day::text, troubled, sessions::int, submitted::int, submit_buckets::text[] FROM analytics_journey_daily
     WHERE sessions <> 0 OR submitted <> 0 ORDER BY 1, 2`,
  );
  const bucketCounts = (buckets: number[] | null) => Array.from({ length: 9 }, (_, i) => String((buckets ?? []).filter((b) => b === i + 1).length));
  expect(rolled.rows).toEqual(
    daily.rows.map((r) => ({
      day: r.day,
      troubled: r.troubled,
      sessions: r.sessions,
      submitted: r.submitted,
      submit_buckets: bucketCounts(r.buckets as number[] | null),
    })),
  );
  const slugs = await db.query(
    `${raw}
     SELECT day::text, slug AS micro_slug, count(*)::int AS sessions, count(submitted_at)::int AS submitted
     FROM b, unnest(b.slugs) slug GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const rolledSlugs = await db.query(
    `SELECT day::text, micro_slug, sessions::int, submitted::int FROM analytics_journey_slug_daily
     WHERE sessions <> 0 OR submitted <> 0 ORDER BY 1, 2`,
  );
  expect(rolledSlugs.rows).toEqual(slugs.rows);
  return { days: rolled.rows.length, slugs: rolledSlugs.rows.length };
}
