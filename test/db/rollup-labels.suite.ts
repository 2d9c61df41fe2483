import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/node/reports/doctor.ts';
import { foldLookupRollups, lookupRegions } from '../../src/node/reports/lookup-analytics.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

// Labels a client chooses (its region, the slug it asks for) reach the lookup
// rollups. Each must be bounded, and a delete must take out what the fold put in,
// whatever changed between the two (a service added by the runbook's fix).

const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';

/** `count` lookups in one statement, one per row of generate_series(1, count) as g; `slug`, `region`, `session` and `ok` are SQL of g. */
function lookups(count: number, columns: { slug: string; region?: string; session?: string; ok?: string }): string {
  const ok = columns.ok ?? 'true';
  return `
    INSERT INTO analytics_events (event_name, event_category, event_properties, session_id, region)
    SELECT 'uuid_lookup', 'wizard_flow',
           jsonb_build_object('micro_slug', ${columns.slug}, 'micro_uuid', CASE WHEN ${ok} THEN '${UUID}' END,
                              'lookup_time_ms', 4 + g % 40, 'success', ${ok}, 'fallback_used', false),
           ${columns.session ?? 'NULL'}, ${columns.region ?? 'NULL'}
    FROM generate_series(1, ${count}) g`;
}

export function describeRollupLabels(label: string, factory: TestDatabaseFactory): void {
  describe(`client-chosen labels in the lookup rollups on ${label}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await factory();
    });
    afterEach(async () => {
      await t.dispose();
    });

    const check = async (name: string) => (await runDoctor(t.db)).find((c) => c.name === name);

    it('keeps at most regions_per_hour regions an hour and counts the rest under (other), in order and through deletes', async () => {
      await t.db.exec("INSERT INTO micro_services (slug) VALUES ('wall-painting')");
      // 1,000 distinct regions in one hour (a hostile client's), 30 lookups without one.
      await t.db.exec(lookups(1000, { slug: "'wall-painting'", region: "'r-' || lpad(g::text, 4, '0')" }));
      await t.db.exec(lookups(30, { slug: "'wall-painting'" }));
      await foldLookupRollups(t.db);
      const rows = await t.db.query<{ region: string; lookups: string }>(
        "SELECT region, lookups::text FROM analytics_lookup_hourly WHERE bucket = date_trunc('hour', now()) ORDER BY region",
      );
      // 200 regions (the first in name order), the lookups without a region, and (other).
      expect(rows.rows).toHaveLength(202);
      expect(rows.rows.find((r) => r.region === '(other)')?.lookups).toBe('800');
      expect(rows.rows.find((r) => r.region === '')?.lookups).toBe('30');
      expect(rows.rows.filter((r) => r.region.startsWith('r-')).map((r) => r.region).at(-1)).toBe('r-0200');
      // A region the hour has keeps counting; a new one goes to (other).
      await t.db.exec(lookups(2, { slug: "'wall-painting'", region: "(ARRAY['r-0007', 'r-2000'])[g]" }));
      await foldLookupRollups(t.db);
      const after = await t.db.query<{ region: string; lookups: string }>(
        "SELECT region, lookups::text FROM analytics_lookup_hourly WHERE region IN ('r-0007', 'r-2000', '(other)') ORDER BY region",
      );
      expect(after.rows).toEqual([
        { region: '(other)', lookups: '801' },
        { region: 'r-0007', lookups: '2' },
      ]);
      // The report stays whole: 200 regions, (other) and the lookups without one.
      expect(await lookupRegions(t.db)).toHaveLength(202);
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
      expect(await check('regions within the rollup bound')).toMatchObject({ ok: false, detail: expect.stringContaining('801 lookups in 1 hours') });
      // Retention deletes a kept region's events and some of (other)'s: each under the label it was counted under.
      await t.db.exec("DELETE FROM analytics_events WHERE region IN ('r-0007', 'r-0500', 'r-0501')");
      const deleted = await t.db.query<{ region: string; lookups: string }>(
        "SELECT region, lookups::text FROM analytics_lookup_hourly WHERE region IN ('r-0007', '(other)') ORDER BY region",
      );
      expect(deleted.rows).toEqual([
        { region: '(other)', lookups: '799' },
        { region: 'r-0007', lookups: '0' },
      ]);
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
      const relabelled = await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM analytics_rollup_relabelled');
      expect(relabelled.rows[0]?.n).toBe('799');
    });

    it('takes the bound from analytics_rollup_limits, and a rebuild counts again under the bound as it is now', async () => {
      await t.db.exec('UPDATE analytics_rollup_limits SET regions_per_hour = 3');
      await t.db.exec(lookups(5, { slug: "'tiling'", region: "'zone-' || g" }));
      await foldLookupRollups(t.db);
      const regions = async () =>
        (await t.db.query<{ region: string; lookups: string }>('SELECT region, lookups::text FROM analytics_lookup_hourly WHERE lookups <> 0 ORDER BY region')).rows;
      expect(await regions()).toEqual([
        { region: '(other)', lookups: '2' },
        { region: 'zone-1', lookups: '1' },
        { region: 'zone-2', lookups: '1' },
        { region: 'zone-3', lookups: '1' },
      ]);
      await t.db.exec('UPDATE analytics_rollup_limits SET regions_per_hour = 10');
      await t.db.exec('SELECT rebuild_lookup_analytics_rollups()');
      expect((await regions()).map((r) => r.region)).toEqual(['zone-1', 'zone-2', 'zone-3', 'zone-4', 'zone-5']);
      expect(await check('regions within the rollup bound')).toMatchObject({ ok: true });
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
    });

    it("subtracts a deleted event under the slug it was counted under, after the runbook's fix added its service", async () => {
      await t.db.exec(lookups(5, { slug: "'late-service'", ok: 'false' }));
      await foldLookupRollups(t.db);
      await t.db.exec("INSERT INTO micro_services (slug) VALUES ('late-service')");
      await t.db.exec(lookups(2, { slug: "'late-service'" }));
      await foldLookupRollups(t.db);
      const bySlug = async () =>
        (await t.db.query<{ micro_slug: string; lookups: string }>(
          'SELECT micro_slug, sum(lookups)::text AS lookups FROM analytics_lookup_service_hourly GROUP BY 1 ORDER BY 1',
        )).rows;
      expect(await bySlug()).toEqual([
        { micro_slug: '__unknown__', lookups: '5' },
        { micro_slug: 'late-service', lookups: '2' },
      ]);
      // Retention deletes the five counted while the slug had no service.
      await t.db.exec("DELETE FROM analytics_events WHERE NOT (event_properties->>'success')::boolean");
      expect(await bySlug()).toEqual([
        { micro_slug: '__unknown__', lookups: '0' },
        { micro_slug: 'late-service', lookups: '2' },
      ]);
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
    });

    it('doctor compares the rollups per hour and slug, not only in total', async () => {
      await t.db.exec("INSERT INTO micro_services (slug) VALUES ('wall-painting'), ('tiling')");
      await t.db.exec(lookups(6, { slug: "(ARRAY['wall-painting', 'tiling'])[1 + g % 2]" }));
      await foldLookupRollups(t.db);
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
      // One lookup moved from one slug to another: the totals still agree.
      await t.db.exec(`UPDATE analytics_lookup_service_hourly SET lookups = lookups + CASE micro_slug WHEN 'tiling' THEN 1 ELSE -1 END`);
      const found = await check('lookup rollups agree with the events');
      expect(found?.ok).toBe(false);
      expect(found?.detail).toContain('6 events; the hourly rollups count 6 by region, 6 by service; 0 (hour, region) and 2 (hour, slug) rollup rows differ from the events');
      expect(found?.detail).toMatch(/first: tiling at \d{4}-\d\d-\d\d \d\d:00 UTC: 3 events, the rollup says 4/);
      await t.db.exec('SELECT rebuild_lookup_analytics_rollups()');
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
    });

    it('leaves a job whose session id no session can have out of the journeys: the insert, every fold and the rebuild go on', async () => {
      // 12,800 characters of hashes (incompressible): too long for the sessions' key; the app's column takes it.
      await t.db.exec("INSERT INTO jobs (micro_id, session_id) SELECT 'tiling', string_agg(md5(g::text), '') FROM generate_series(1, 400) g");
      await t.db.exec(lookups(3, { slug: "'tiling'", session: "'s-ok'" }));
      await t.db.exec("INSERT INTO jobs (micro_id, session_id) VALUES ('tiling', 's-ok')");
      await foldLookupRollups(t.db);
      const submitted = async () =>
        (await t.db.query<{ session_id: string; submitted: boolean }>('SELECT session_id, submitted_at IS NOT NULL AS submitted FROM analytics_lookup_sessions')).rows;
      expect(await submitted()).toEqual([{ session_id: 's-ok', submitted: true }]);
      await t.db.exec('SELECT rebuild_lookup_analytics_rollups()');
      expect(await submitted()).toEqual([{ session_id: 's-ok', submitted: true }]);
    });

    it('counts hours in UTC whatever the time zone of the session that folds or deletes', async () => {
      await t.db.exec(lookups(120, { slug: "'tiling'", region: "'DE'" })); // 100 or more: folded at once, here in UTC
      await t.db.exec("SET TimeZone = 'Asia/Kolkata'");
      try {
        await t.db.exec(lookups(120, { slug: "'tiling'", region: "'DE'" }));
        await t.db.exec('DELETE FROM analytics_events');
      } finally {
        await t.db.exec('RESET TimeZone');
      }
      const rows = await t.db.query<{ minute: number; lookups: string }>(
        "SELECT extract(minute FROM bucket AT TIME ZONE 'UTC')::int AS minute, lookups::text FROM analytics_lookup_hourly",
      );
      expect(rows.rows.every((r) => r.minute === 0 && r.lookups === '0'), JSON.stringify(rows.rows)).toBe(true);
      expect(await check('lookup rollups agree with the events')).toMatchObject({ ok: true });
    });

    it("bounds the journeys' troubled slugs per day: services and other_slugs_per_day others (200), the rest as __unknown__, through submissions", async () => {
      await t.db.exec("INSERT INTO micro_services (slug) VALUES ('wall-painting')");
      // 250 sessions, each failing on a slug of its own, and on wall-painting.
      await t.db.exec(lookups(250, { slug: "'nope-' || lpad(g::text, 3, '0')", session: "'s-' || g", ok: 'false' }));
      await t.db.exec(lookups(250, { slug: "'wall-painting'", session: "'s-' || g", ok: 'false' }));
      await foldLookupRollups(t.db);
      const slugs = async () =>
        (await t.db.query<{ micro_slug: string; sessions: string; submitted: string }>(
          'SELECT micro_slug, sum(sessions)::text AS sessions, sum(submitted)::text AS submitted FROM analytics_journey_slug_daily GROUP BY 1 ORDER BY 1',
        )).rows;
      const before = await slugs();
      expect(before).toHaveLength(202);
      expect(before.find((r) => r.micro_slug === '__unknown__')).toEqual({ micro_slug: '__unknown__', sessions: '50', submitted: '0' });
      expect(before.find((r) => r.micro_slug === 'wall-painting')).toEqual({ micro_slug: 'wall-painting', sessions: '250', submitted: '0' });
      expect(before.find((r) => r.micro_slug === 'nope-200')).toEqual({ micro_slug: 'nope-200', sessions: '1', submitted: '0' });
      // Every session submits; more failures arrive after: each session moves under the labels it has.
      await t.db.exec("INSERT INTO jobs (micro_id, session_id) SELECT 'wall-painting', 's-' || g FROM generate_series(1, 250) g");
      await t.db.exec(lookups(250, { slug: "'late-' || g", session: "'s-' || g", ok: 'false' }));
      await foldLookupRollups(t.db);
      const after = await slugs();
      expect(after).toHaveLength(202);
      expect(after.find((r) => r.micro_slug === '__unknown__')).toEqual({ micro_slug: '__unknown__', sessions: '250', submitted: '250' });
      expect(after.find((r) => r.micro_slug === 'nope-200')).toEqual({ micro_slug: 'nope-200', sessions: '1', submitted: '1' });
      expect(after.every((r) => Number(r.sessions) >= 0 && Number(r.submitted) >= 0)).toBe(true);
    });
  });
}
