import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOKUP_DURATION_BUCKETS_MS as LOOKUP_BUCKET_BOUNDS_MS } from '../../src/contract/metrics.ts';
import { specQueries } from '../../src/contract/spec-queries.ts';
import { lookupJourneys, lookupPatterns, lookupRegions } from '../../src/node/reports/lookup-analytics.ts';
import { runReport } from '../../src/node/reports/run-report.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

// The Phase 6 reports read rollups kept by triggers; here they are compared with
// the same figures computed from the raw events, after inserts and deletes.
const EVENTS = `
  INSERT INTO analytics_events (event_name, event_category, event_properties, session_id, region, created_at)
  SELECT 'uuid_lookup', 'wizard_flow',
         jsonb_build_object(
           'micro_slug', 'service-' || (g % 7),
           'micro_uuid', CASE WHEN g % 9 = 0 THEN NULL ELSE '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90' END,
           'lookup_time_ms', (g * 37) % 700 + (g % 3) * 0.25,
           'success', g % 9 <> 0,
           'fallback_used', g % 11 = 0),
         'session-' || (g % 150),
         (ARRAY['DE', 'FR', 'eu-west', NULL])[1 + g % 4],
         now() - make_interval(mins => (g * 13) % (3 * 24 * 60))
  FROM generate_series(1, 3000) g`;

function nearestRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** The p95 reported as "at most bound" must hold the raw nearest-rank p95. */
function expectP95Within(reported: number | null, raw: number): void {
  if (reported === null) {
    expect(raw).toBeGreaterThan(LOOKUP_BUCKET_BOUNDS_MS.at(-1) ?? 0);
    return;
  }
  const index = LOOKUP_BUCKET_BOUNDS_MS.indexOf(reported);
  expect(index).toBeGreaterThanOrEqual(0);
  expect(raw).toBeLessThanOrEqual(reported);
  if (index > 0) expect(raw).toBeGreaterThan(LOOKUP_BUCKET_BOUNDS_MS[index - 1] ?? 0);
}

export function describeLookupAnalytics(label: string, factory: TestDatabaseFactory): void {
  describe(`Phase 6 analytics on ${label}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await factory();
      // Services for six of the seven slugs: service-6 stands for a slug no service has.
      await t.db.exec(`INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(0, 5) g`);
      await t.db.exec(EVENTS);
      // Jobs submitted in a third of the sessions, minutes after their first lookup.
      await t.db.exec(`INSERT INTO jobs (micro_id, session_id) SELECT 'service-1', 'session-' || s FROM generate_series(0, 149, 3) s`);
    });
    afterAll(async () => {
      await t.dispose();
    });

    const rawGroups = async (keySql: string) => {
      const { rows } = await t.db.query<{ key: string; lookups: string; avg_ms: string; failure_rate: string; fallback_rate: string; times: number[] }>(
        `SELECT ${keySql} AS key, count(*) AS lookups,
                round(avg((event_properties->>'lookup_time_ms')::numeric), 2) AS avg_ms,
                round(100.0 * count(*) FILTER (WHERE NOT (event_properties->>'success')::boolean) / count(*), 2) AS failure_rate,
                round(100.0 * count(*) FILTER (WHERE (event_properties->>'fallback_used')::boolean) / count(*), 2) AS fallback_rate,
                array_agg((event_properties->>'lookup_time_ms')::float8) AS times
         FROM analytics_events
         WHERE event_name = 'uuid_lookup' AND created_at >= date_trunc('hour', now() - interval '7 days')
         GROUP BY 1`,
      );
      return new Map(rows.map((r) => [r.key, r]));
    };

    /** The spec's lookup-performance query, verbatim on the raw events, against the report that reads the rollup. */
    const expectPerformanceAgrees = async (): Promise<void> => {
      const raw = (await t.db.query<Record<string, string>>(specQueries.lookupPerformance.sql)).rows;
      const served = await runReport(t.db, 'lookup-performance');
      const services = new Set(Array.from({ length: 6 }, (_, i) => `service-${i}`));
      const known = raw.filter((r) => services.has(r.service ?? ''));
      const unknown = raw.filter((r) => !services.has(r.service ?? ''));
      expect(served.rows).toHaveLength(known.length + (unknown.length > 0 ? 1 : 0));
      const bySlug = new Map(served.rows.map((r) => [String(r.service), r]));
      const totals = (rows: Record<string, unknown>[]) => ({
        lookups: rows.reduce((n, r) => n + Number(r.lookups), 0),
        successful: rows.reduce((n, r) => n + Number(r.successful), 0),
        fallbacks: rows.reduce((n, r) => n + Number(r.fallbacks), 0),
      });
      for (const row of known) {
        const got = bySlug.get(row.service ?? '');
        expect(got, row.service).toBeDefined();
        expect(totals([got!])).toEqual(totals([row]));
        expect(Number(got?.avg_time_ms)).toBeCloseTo(Number(row.avg_time_ms), 9);
      }
      if (unknown.length > 0) expect(totals([bySlug.get('__unknown__')!])).toEqual(totals(unknown));
    };

    it("serves the spec's lookup performance from the hourly rollup per service, as its query says on the raw events", async () => {
      await expectPerformanceAgrees();
      const week = await runReport(t.db, 'lookup-performance');
      expect(week.title).toMatch(/^Lookup performance by service \(last 7d, counted in whole hours: since \d{4}-\d\d-\d\d \d\d:00 UTC\)$/);
    });

    it('states the window the rollup report really covers: whole hours from the hour the asked window starts in', async () => {
      // A database of its own: the other cases share theirs.
      const own = await factory();
      try {
      // Events 2, 20 and 70 minutes ago, and 3 hours ago.
      await own.db.exec(`INSERT INTO analytics_events (event_name, event_category, event_properties, created_at)
        SELECT 'uuid_lookup', 'wizard_flow', '{"micro_slug": "tiling", "micro_uuid": null, "lookup_time_ms": 7, "success": false, "fallback_used": false}',
               now() - make_interval(mins => m)
        FROM unnest(ARRAY[2, 20, 70, 180]) m`);
      for (const minutes of [10, 90, 60]) {
        const report = await runReport(own.db, 'lookup-performance', { sinceMinutes: minutes });
        const from = (await own.db.query<{ from_hour: string }>(
          `SELECT to_char(date_trunc('hour', now() - make_interval(mins => $1::int)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS from_hour`,
          [minutes],
        )).rows[0]?.from_hour;
        expect(report.coversFrom).toBe(from);
        expect(report.title).toContain(`(last ${minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`}, counted in whole hours: since ${from?.replace('T', ' ').replace('Z', ' UTC')})`);
        // The figures are exactly the events since that hour.
        const counted = await own.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM analytics_events WHERE event_name = 'uuid_lookup' AND created_at >= $1::timestamptz",
          [from],
        );
        const lookups = report.rows.reduce((n, row) => n + Number(row.lookups), 0);
        expect(lookups, `--since ${minutes}m`).toBe(counted.rows[0]?.n);
      }
      } finally {
        await own.dispose();
      }
    });

    it('reports patterns by hour and day in a time zone exactly as the raw events say', async () => {
      const rows = await lookupPatterns(t.db, { timeZone: 'Europe/Berlin' });
      const raw = await rawGroups(
        "extract(isodow FROM created_at AT TIME ZONE 'Europe/Berlin') || '/' || extract(hour FROM created_at AT TIME ZONE 'Europe/Berlin')",
      );
      expect(rows.length).toBe(raw.size);
      expect(rows.reduce((n, r) => n + r.lookups, 0)).toBe(3000);
      for (const row of rows) {
        const r = raw.get(`${row.day_of_week}/${row.hour}`);
        expect(r, `${row.day_of_week}/${row.hour}`).toBeDefined();
        expect(row).toMatchObject({ lookups: Number(r?.lookups), avg_ms: Number(r?.avg_ms), failure_rate: Number(r?.failure_rate), fallback_rate: Number(r?.fallback_rate) });
        expectP95Within(row.p95_ms_at_most, nearestRank(r?.times ?? [], 0.95));
      }
    });

    it('reports regions exactly as the raw events say, slowest first', async () => {
      const rows = await lookupRegions(t.db);
      const raw = await rawGroups("coalesce(region, '(none)')");
      expect(rows.map((r) => r.region).sort()).toEqual([...raw.keys()].sort());
      for (const row of rows) {
        const r = raw.get(row.region);
        expect(row).toMatchObject({ lookups: Number(r?.lookups), avg_ms: Number(r?.avg_ms), failure_rate: Number(r?.failure_rate) });
        expectP95Within(row.p95_ms_at_most, nearestRank(r?.times ?? [], 0.95));
      }
      const averages = rows.map((r) => r.avg_ms);
      expect(averages).toEqual([...averages].sort((a, b) => b - a));
    });

    it('joins sessions to submissions as the raw events and jobs say', async () => {
      const { comparison, costliest } = await lookupJourneys(t.db);
      const raw = await t.db.query<{ kind: string; sessions: string; submitted: string }>(
        `WITH s AS (
           SELECT session_id, bool_or(NOT (event_properties->>'success')::boolean OR (event_properties->>'fallback_used')::boolean) AS troubled
           FROM analytics_events WHERE event_name = 'uuid_lookup' GROUP BY session_id)
         SELECT CASE WHEN troubled THEN 'saw a failure or fallback' ELSE 'clean' END AS kind, count(*) AS sessions,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.session_id = s.session_id)) AS submitted
         FROM s GROUP BY 1 ORDER BY 1`,
      );
      expect(comparison.map((c) => [c.sessions_kind, c.sessions, c.submitted])).toEqual(
        raw.rows.map((r) => [r.kind, Number(r.sessions), Number(r.submitted)]),
      );
      expect(comparison.every((c) => c.median_seconds_to_submit_at_most === null || c.median_seconds_to_submit_at_most >= 10)).toBe(true);
      expect(costliest.length).toBeGreaterThan(0);
      const first = costliest[0];
      expect(first?.troubled_sessions).toBeGreaterThan(0);
    });

    it('moves a session between clean and troubled as later events arrive', async () => {
      const event = (properties: string) =>
        t.db.query(
          `INSERT INTO analytics_events (event_name, event_category, event_properties, session_id)
           VALUES ('uuid_lookup', 'wizard_flow', $1::jsonb, 'fresh-session')`,
          [properties],
        );
      const clean = (r: Awaited<ReturnType<typeof lookupJourneys>>) => r.comparison.find((c) => c.sessions_kind === 'clean')?.sessions ?? 0;
      const troubled = (r: Awaited<ReturnType<typeof lookupJourneys>>) => r.comparison.find((c) => c.sessions_kind !== 'clean')?.sessions ?? 0;
      const start = await lookupJourneys(t.db);
      await event('{"micro_slug": "tiling", "micro_uuid": "3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90", "lookup_time_ms": 3, "success": true, "fallback_used": false}');
      const before = await lookupJourneys(t.db);
      expect(clean(before)).toBe(clean(start) + 1);
      await event('{"micro_slug": "late-failure", "micro_uuid": null, "lookup_time_ms": 3, "success": false, "fallback_used": false}');
      const after = await lookupJourneys(t.db);
      expect(clean(after)).toBe(clean(before) - 1);
      expect(troubled(after)).toBe(troubled(before) + 1);
      expect(after.costliest.find((c) => c.micro_slug === 'late-failure')?.troubled_sessions).toBe(1);
    });

    it('stays exact when events are deleted (retention)', async () => {
      await t.db.exec("DELETE FROM analytics_events WHERE region = 'FR'");
      await expectPerformanceAgrees();
      const rows = await lookupRegions(t.db);
      const raw = await rawGroups("coalesce(region, '(none)')");
      expect(rows.map((r) => r.region).sort()).toEqual([...raw.keys()].sort());
      expect(rows.map((r) => r.region)).not.toContain('FR');
      for (const row of rows) expect(row.lookups).toBe(Number(raw.get(row.region)?.lookups));
    });
  });
}
