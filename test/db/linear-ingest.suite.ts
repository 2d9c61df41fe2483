import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/node/db/database.ts';
import { applyMigrations } from '../../src/node/schema/apply-migrations.ts';
import { readMigrationFiles } from '../../src/node/schema/migration-files.ts';
import { runDoctor } from '../../src/node/reports/doctor.ts';
import { foldLookupRollups } from '../../src/node/reports/lookup-analytics.ts';
import { expectJourneysExact } from '../support/journeys.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

// Ingest must cost the same per event whatever the planner believes about the
// tables: never analysed, analysed while empty (what autovacuum or `doctor`'s
// advice does on a fresh project), or holding millions of rows. The measure is
// deterministic: the rows the statement's plans read (sequential scans' rows and
// index entries, from the backend's own statistics counters, diffed inside one
// transaction), not wall time. A plan that scans a table growing under it reads
// rows quadratically in the events; the insert path must read at most a few per
// event (its sessions' rollup rows), so the bound below is linear.

/** The tables the insert path of analytics_events and jobs writes or reads. */
const TABLES = [
  'analytics_events',
  'analytics_lookup_hourly',
  'analytics_lookup_sessions',
  'analytics_journey_daily',
  'analytics_journey_slug_daily',
  'jobs',
];

/** Rows the insert path may read per event (or job): its session's rollup rows, looked up by key. */
const ROWS_READ_PER_EVENT_MAX = 10;

/** Events `from`..`to`: well-formed uuid_lookup events, five per wizard session, over the last day. */
function eventsSql(from: number, to: number, prefix: string): string {
  return `
    INSERT INTO analytics_events (id, event_name, event_category, event_properties, session_id, region, created_at)
    SELECT gen_random_uuid(), 'uuid_lookup', 'wizard_flow',
           jsonb_build_object(
             'micro_slug', 'service-' || (g % 40),
             'micro_uuid', CASE WHEN g % 20 = 0 THEN NULL ELSE '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90' END,
             'lookup_time_ms', (g * 37) % 700,
             'success', g % 20 <> 0,
             'fallback_used', g % 9 = 0),
           '${prefix}-' || (g / 5),
           (ARRAY['DE', 'FR', NULL])[1 + g % 3],
           now() - make_interval(mins => (g * 7) % 1440)
    FROM generate_series(${from}, ${to}) g`;
}

/** Jobs submitted in the sessions `from`..`to` of `prefix`. */
function jobsSql(from: number, to: number, prefix: string): string {
  return `INSERT INTO jobs (micro_id, session_id) SELECT 'service-1', '${prefix}-' || s FROM generate_series(${from}, ${to}) s`;
}

/** The same range split into statements of `size`. */
function inStatements(sql: (from: number, to: number) => string, count: number, size: number, start = 1): string[] {
  const statements: string[] = [];
  for (let from = start; from < start + count; from += size) statements.push(sql(from, Math.min(start + count - 1, from + size - 1)));
  return statements;
}

async function rowsReadSoFar(tx: Queryable): Promise<Map<string, number>> {
  // Rows returned by sequential scans of each table and rows fetched from it
  // through an index, counted by this backend and not yet flushed (never flushed
  // inside a transaction block).
  const { rows } = await tx.query<{ relname: string; n: string }>(
    `SELECT relname, seq_tup_read + idx_tup_fetch AS n FROM pg_stat_xact_user_tables WHERE schemaname = 'public'`,
  );
  return new Map(rows.map((r) => [r.relname, Number(r.n)]));
}

/** Runs the statements in one transaction on one connection; the rows their plans read, per relation. */
async function rowsRead(db: Database, statements: string[]): Promise<{ total: number; byRelation: Record<string, number> }> {
  return db.transaction(async (tx) => {
    const before = await rowsReadSoFar(tx);
    for (const sql of statements) await tx.query(sql);
    const after = await rowsReadSoFar(tx);
    const byRelation: Record<string, number> = {};
    let total = 0;
    for (const [relation, n] of after) {
      const read = n - (before.get(relation) ?? 0);
      if (read > 0) byRelation[relation] = read;
      total += read;
    }
    return { total, byRelation };
  });
}

async function analyseEmpty(db: Database): Promise<void> {
  for (const table of TABLES) await db.exec(`VACUUM ANALYZE ${table}`);
}

/** Every rollup row that carries a figure, without the writers' bookkeeping (prev_*), in key order, once the pending events are folded. */
async function rollupSnapshot(db: Database): Promise<Record<string, unknown[]>> {
  await foldLookupRollups(db);
  const tables: Record<string, string> = {
    hourly: 'SELECT * FROM analytics_lookup_hourly WHERE lookups <> 0 ORDER BY bucket, region',
    service: 'SELECT * FROM analytics_lookup_service_hourly WHERE lookups <> 0 ORDER BY bucket, micro_slug',
    sessions: `SELECT session_id, first_lookup_at, last_lookup_at, lookups, failures, fallbacks, troubled_slugs, submitted_at
               FROM analytics_lookup_sessions ORDER BY session_id`,
    journeys: 'SELECT * FROM analytics_journey_daily WHERE sessions <> 0 OR submitted <> 0 ORDER BY day, troubled',
    journeySlugs: 'SELECT * FROM analytics_journey_slug_daily WHERE sessions <> 0 OR submitted <> 0 ORDER BY day, micro_slug',
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(tables)) snapshot[name] = (await db.query(sql)).rows;
  return snapshot;
}

/** The SDK's latency bucket bounds (ms), as the hourly rollup's histogram counts them; the last bucket is above 10,000. */
const BUCKET_BOUNDS = [5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Asserts that the hourly rollup per region, every figure and the histogram, equals a recomputation from the stored events. */
async function expectHourlyExact(db: Database): Promise<number> {
  const buckets = [...BUCKET_BOUNDS, Infinity]
    .map((upper, i) => {
      const lower = i === 0 ? null : BUCKET_BOUNDS[i - 1];
      const conditions = [lower === null ? null : `ms > ${lower}`, upper === Infinity ? null : `ms <= ${upper}`].filter((c) => c !== null);
      return `count(*) FILTER (WHERE ${conditions.join(' AND ')})`;
    })
    .join(', ');
  const raw = await db.query(
    `SELECT bucket, region, count(*)::int AS lookups, count(*) FILTER (WHERE NOT ok)::int AS failures,
            count(*) FILTER (WHERE fb)::int AS fallbacks, sum(ms)::text AS total_ms, ARRAY[${buckets}]::text AS histogram
     FROM (SELECT date_trunc('hour', created_at) AS bucket, COALESCE(region, '') AS region, (event_properties->>'success')::boolean AS ok,
                  (event_properties->>'fallback_used')::boolean AS fb, (event_properties->>'lookup_time_ms')::numeric AS ms
           FROM analytics_events WHERE event_name = 'uuid_lookup') e
     GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const rolled = await db.query(
    `SELECT bucket, region, lookups::int, failures::int, fallbacks::int, total_ms::text, duration_buckets::text AS histogram
     FROM analytics_lookup_hourly WHERE lookups <> 0 ORDER BY 1, 2`,
  );
  expect(rolled.rows).toEqual(raw.rows);
  return raw.rows.length;
}

export function describeLinearIngest(label: string, factory: TestDatabaseFactory): void {
  describe(`linear event ingest on ${label}`, () => {
    let t: TestDatabase;
    let db: Database;
    beforeEach(async () => {
      t = await factory();
      db = t.db;
    });
    afterEach(async () => {
      await t.dispose();
    });

    const states: [string, (db: Database) => Promise<void>][] = [
      ['never analysed', async () => {}],
      ['analysed while empty', analyseEmpty],
    ];

    for (const [state, prepare] of states) {
      it(`reads a bounded number of rows per event in one statement, tables ${state}`, async () => {
        await prepare(db);
        for (const [prefix, events] of [['one-a', 1000], ['one-b', 2000]] as const) {
          const read = await rowsRead(db, [eventsSql(1, events, prefix)]);
          expect(read.total, `${events} events read ${JSON.stringify(read.byRelation)}`).toBeLessThanOrEqual(
            ROWS_READ_PER_EVENT_MAX * events,
          );
        }
      });

      it(`reads a bounded number of rows per event in batches of 10 on one connection, tables ${state}`, async () => {
        await prepare(db);
        const events = 1500;
        const read = await rowsRead(db, inStatements((from, to) => eventsSql(from, to, 'batch'), events, 10));
        expect(read.total, `${events} events read ${JSON.stringify(read.byRelation)}`).toBeLessThanOrEqual(
          ROWS_READ_PER_EVENT_MAX * events,
        );
      });

      it(`reads a bounded number of rows per job submitted, one by one and all at once, tables ${state}`, async () => {
        await prepare(db);
        await db.exec(eventsSql(1, 3000, 'job'));
        const oneByOne = await rowsRead(db, inStatements((from, to) => jobsSql(from, to, 'job'), 300, 1));
        expect(oneByOne.total, `300 jobs read ${JSON.stringify(oneByOne.byRelation)}`).toBeLessThanOrEqual(
          ROWS_READ_PER_EVENT_MAX * 300,
        );
        const allAtOnce = await rowsRead(db, [jobsSql(300, 599, 'job')]);
        expect(allAtOnce.total, `300 jobs read ${JSON.stringify(allAtOnce.byRelation)}`).toBeLessThanOrEqual(
          ROWS_READ_PER_EVENT_MAX * 300,
        );
      });
    }

    // Since 20261129000600 the insert path folds events into the rollups every
    // 32nd statement: run once folding after every statement (each statement's
    // events are then a fold of their own, every case below meets the rollups
    // alone) and once as the insert path folds (several statements per fold).
    for (const [mode, foldEach] of [['folded after every statement', true], ['folded as the insert path does', false]] as const) {
    it(`keeps the sessions and journeys exact through batches, retries, later and earlier events, and jobs, ${mode}`, async () => {
      await analyseEmpty(db);
      const exec = async (sql: string): Promise<void> => {
        await db.exec(sql);
        if (foldEach) await foldLookupRollups(db);
      };
      const event = (id: string, session: string, slug: string, ok: boolean, minutesAgo: number) =>
        `('${id}', 'uuid_lookup', 'wizard_flow', '{"micro_slug": "${slug}", "micro_uuid": ${ok ? '"3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90"' : 'null'}, "lookup_time_ms": 5, "success": ${ok}, "fallback_used": false}', '${session}', now() - interval '${minutesAgo} minutes')`;
      const insert = (rows: string[]) =>
        `INSERT INTO analytics_events (id, event_name, event_category, event_properties, session_id, created_at) VALUES ${rows.join(', ')}`;
      const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      // Many sessions at once, then in batches, over two days.
      await exec(eventsSql(1, 2000, 'exact'));
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'exact'), 500, 10, 2001)) await exec(sql);
      // A retried batch, and an id twice in one statement: the primary key refuses
      // the whole statement (23505) and it changes nothing, rollups included;
      // the SDK's queue then sends the new row alone. Each lands once.
      const batch = [event(id(1), 'exact-retry', 'tiling', true, 30), event(id(2), 'exact-retry', 'tiling', false, 29)];
      await exec(insert(batch));
      const third = event(id(3), 'exact-retry', 'painting', true, 28);
      await expect(db.exec(insert([...batch, third]))).rejects.toMatchObject({ code: '23505' });
      await expect(db.exec(insert([third, third]))).rejects.toMatchObject({ code: '23505' });
      await exec(insert([third]));
      // A clean session turns troubled; another gets an event two days earlier (its day moves).
      await exec(insert([event(id(4), 'exact-1', 'late-failure', false, 5)]));
      await exec(insert([event(id(5), 'exact-2', 'early', true, 3 * 24 * 60)]));
      // Jobs: one by one, a second job in a session, many at once.
      for (let s = 0; s < 30; s += 1) {
        await exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'exact-${s}', now() + interval '${s * 7} minutes')`);
      }
      await exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'exact-3', now() - interval '1 day')`);
      await exec(`INSERT INTO jobs (micro_id, session_id, created_at) SELECT 'service-1', 'exact-' || s, now() + interval '2 hours' FROM generate_series(20, 400) s`);
      // Jobs before their session's first event (the SDK sends events in batches,
      // the job goes at once): one job, two jobs (the later one first), and a job
      // whose session's events then come in two statements.
      await exec(`INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'exact-job-first')`);
      await exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'exact-two-jobs', now() + interval '1 hour')`);
      await exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'exact-two-jobs', now() - interval '1 hour')`);
      await exec(`INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'exact-job-first-2')`);
      await exec(insert([event(id(12), 'exact-job-first', 'tiling', true, 0), event(id(13), 'exact-two-jobs', 'painting', false, 0)]));
      await exec(insert([event(id(14), 'exact-job-first-2', 'tiling', true, 0)]));
      await exec(insert([event(id(15), 'exact-job-first-2', 'job-first-failure', false, 0)]));
      // A job whose session never sends an event counts in no journey.
      await exec(`INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'exact-no-events')`);
      // Events after the job (the insert path's second route): a submitted session
      // turns troubled; another gets an event a day earlier (its day and wait move);
      // one statement mixes submitted, unsubmitted and new sessions.
      await exec(insert([event(id(6), 'exact-2', 'after-job-failure', false, 1)]));
      await exec(insert([event(id(7), 'exact-25', 'early', true, 24 * 60)]));
      await exec(
        insert([
          event(id(8), 'exact-26', 'after-job-failure', false, 2),
          event(id(9), 'exact-450', 'after-job-failure', false, 2),
          event(id(10), 'exact-new', 'tiling', true, 2),
          event(id(11), 'exact-27', 'tiling', true, 2),
          event(id(16), 'exact-job-first', 'after-job-failure', false, 2),
        ]),
      );

      const { rows: counts } = await db.query<{ n: number; ids: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM analytics_events WHERE session_id = 'exact-retry'`,
      );
      expect(counts[0]).toEqual({ n: 3, ids: 3 });

      expect((await expectJourneysExact(db)).slugs).toBeGreaterThan(10);
    });
    }

    it('folds small statements every 32nd and large ones at once, losing and doubling nothing, through deletes, TRUNCATE and a rebuild with events pending', async () => {
      const figures = async () =>
        (
          await db.query<{ events: number; pending: number; hourly: number; service: number; sessions: number }>(
            `SELECT (SELECT count(*) FROM analytics_events WHERE event_name = 'uuid_lookup')::int AS events,
                    (SELECT count(*) FROM analytics_rollup_pending)::int AS pending,
                    (SELECT COALESCE(sum(lookups), 0) FROM analytics_lookup_hourly)::int AS hourly,
                    (SELECT COALESCE(sum(lookups), 0) FROM analytics_lookup_service_hourly)::int AS service,
                    (SELECT COALESCE(sum(lookups), 0) FROM analytics_lookup_sessions)::int AS sessions`,
          )
        ).rows[0];
      // Statements of 10: the events wait, pending; the 32nd statement folds them all.
      await db.exec("SELECT setval('analytics_rollup_fold_tick', 1, false)");
      const pendingSeen: number[] = [];
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'defer'), 400, 10)) {
        await db.exec(sql);
        const f = await figures();
        // Every event stored is counted once: in the rollups or pending.
        expect(f && f.hourly + f.pending).toBe(f?.events);
        expect(f?.service).toBe(f?.hourly);
        expect(f?.sessions).toBe(f?.hourly);
        pendingSeen.push(f?.pending ?? -1);
      }
      expect(pendingSeen).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1 < 32 ? 10 * (i + 1) : 10 * (i + 1 - 32))));
      // The reader's fold takes what is left and says how much.
      expect(await foldLookupRollups(db)).toEqual({ folded: 80 });
      expect(await figures()).toMatchObject({ events: 400, pending: 0, hourly: 400 });
      expect(await expectHourlyExact(db)).toBeGreaterThan(20);

      // A statement of 100 events or more folds at once, what was pending with it.
      await db.exec(eventsSql(401, 405, 'defer'));
      await db.exec(eventsSql(406, 555, 'defer'));
      expect(await figures()).toMatchObject({ events: 555, pending: 0, hourly: 555, sessions: 555 });

      // A retention delete with events pending (some of them deleted): folded, then subtracted.
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'defer-delete'), 30, 10)) await db.exec(sql);
      expect(await figures()).toMatchObject({ events: 585, pending: 30, hourly: 555 });
      // Pending (defer-delete-1 and -2, five events each) and folded (defer-3, five): the pending ones
      // are folded, then all fifteen subtracted; the other pending events wait.
      await db.exec("DELETE FROM analytics_events WHERE session_id IN ('defer-delete-1', 'defer-delete-2', 'defer-3')");
      expect(await figures()).toEqual({ events: 570, pending: 20, hourly: 550, service: 550, sessions: 565 });
      expect((await runDoctor(db)).find((c) => c.name === 'lookup rollups agree with the events')).toMatchObject({
        ok: true,
        detail: '570 events, 20 of them pending a fold',
      });
      expect(await foldLookupRollups(db)).toEqual({ folded: 20 });
      await expectHourlyExact(db);

      // TRUNCATE with events pending: the sessions keep their history, the hourly figures go.
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'defer-truncate'), 20, 10)) await db.exec(sql);
      expect(await figures()).toMatchObject({ pending: 20 });
      await db.exec('TRUNCATE analytics_events');
      expect(await figures()).toEqual({ events: 0, pending: 0, hourly: 0, service: 0, sessions: 605 });
      // A rebuild is refused at REPEATABLE READ, and so is a reader's fold: an older snapshot
      // would drop pending events it cannot replay, or miss folds committed since.
      for (const call of ['SELECT public.rebuild_lookup_analytics_rollups()', 'SELECT public.fold_lookup_analytics_rollups()']) {
        await expect(
          db.transaction(async (tx) => {
            await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
            await tx.exec(call);
          }),
        ).rejects.toMatchObject({ code: '25000' });
      }

      // A rebuild with events pending replays them once.
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'defer-rebuild'), 40, 10)) await db.exec(sql);
      expect(await figures()).toMatchObject({ events: 40, pending: 40 });
      await db.exec('SELECT public.rebuild_lookup_analytics_rollups()');
      expect(await figures()).toEqual({ events: 40, pending: 0, hourly: 40, service: 40, sessions: 40 });
      await expectHourlyExact(db);
      await expectJourneysExact(db);

      // Where triggers are off (session_replication_role = replica) a rebuild is refused (its replay
      // would not run them: it would only empty the rollups), and a fold still counts what it takes.
      await expect(
        db.transaction(async (tx) => {
          await tx.exec('SET LOCAL session_replication_role = replica');
          await tx.exec('SELECT public.rebuild_lookup_analytics_rollups()');
        }),
      ).rejects.toMatchObject({ code: '25000' });
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'defer-replica'), 20, 10)) await db.exec(sql);
      expect(await figures()).toMatchObject({ events: 60, pending: 20, hourly: 40 });
      await db.transaction(async (tx) => {
        await tx.exec('SET LOCAL session_replication_role = replica');
        await tx.exec('SELECT public.fold_lookup_analytics_rollups()');
      });
      expect(await figures()).toEqual({ events: 60, pending: 0, hourly: 60, service: 60, sessions: 60 });

      // At REPEATABLE READ even a statement of 100 events leaves them pending (a fold there could
      // fail the insert on rows another fold deleted since the snapshot).
      await db.transaction(async (tx) => {
        await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await tx.exec(eventsSql(1, 120, 'defer-repeatable'));
      });
      expect(await figures()).toEqual({ events: 180, pending: 120, hourly: 60, service: 60, sessions: 60 });
      expect(await foldLookupRollups(db)).toEqual({ folded: 120 });
      await expectHourlyExact(db);
    });

    it('rebuilds every rollup as the triggers keep it, after a load with the triggers off, and empties the hourly ones on TRUNCATE', async () => {
      const rollupsCheck = async () => (await runDoctor(db)).find((c) => c.name === 'lookup rollups agree with the events');
      // Written live: events, jobs after their events, a job before its session's
      // events, later events of submitted sessions.
      await db.exec(eventsSql(1, 1200, 'rebuild'));
      await db.exec(`INSERT INTO jobs (micro_id, session_id) SELECT 'service-1', 'rebuild-' || s FROM generate_series(1, 60) s`);
      await db.exec(`INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'early-0'), ('service-1', 'job-only-0')`);
      await db.exec(eventsSql(1, 4, 'early'));
      await db.exec(eventsSql(1201, 1400, 'rebuild'));
      await db.exec(eventsSql(1, 300, 'rebuild-late'));
      const live = await rollupSnapshot(db);
      expect(live.sessions?.length).toBeGreaterThan(200);
      expect(await rollupsCheck()).toMatchObject({ ok: true, detail: '1704 events' });

      await db.exec('SELECT public.rebuild_lookup_analytics_rollups()');
      expect(await rollupSnapshot(db)).toEqual(live);
      await db.exec('SELECT public.rebuild_lookup_analytics_rollups(50)');
      expect(await rollupSnapshot(db)).toEqual(live);
      await expect(db.exec('SELECT public.rebuild_lookup_analytics_rollups(0)')).rejects.toMatchObject({ code: '22023' });

      // A load with the triggers off leaves the rollups behind; doctor says so.
      await db.transaction(async (tx) => {
        await tx.exec('SET LOCAL session_replication_role = replica');
        await tx.exec(eventsSql(1401, 2000, 'rebuild'));
        await tx.exec(`INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'rebuild-390'), ('service-1', 'job-only-1')`);
      });
      expect(await rollupsCheck()).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^2304 events; the hourly rollups count 1704 by region, 1704 by service; \d+ \(hour, region\) and \d+ \(hour, slug\) rollup rows differ from the events \(first: /),
        fix: 'SELECT public.rebuild_lookup_analytics_rollups();',
      });
      await expect(expectJourneysExact(db)).rejects.toThrow();
      // In chunks of 97 events: sessions span chunks, as late events do.
      await db.exec('SELECT public.rebuild_lookup_analytics_rollups(97)');
      expect(await rollupsCheck()).toMatchObject({ ok: true, detail: '2304 events' });
      expect((await expectJourneysExact(db)).slugs).toBeGreaterThan(10);
      // Live writes go on from the rebuilt rows: the session that had only a job gets its events.
      await db.exec(eventsSql(1, 4, 'job-only'));
      await db.exec(eventsSql(2001, 2100, 'rebuild'));
      expect((await expectJourneysExact(db)).slugs).toBeGreaterThan(10);
      const submittedJobOnly = await db.query<{ submitted: boolean }>(
        "SELECT submitted_at IS NOT NULL AS submitted FROM analytics_lookup_sessions WHERE session_id IN ('job-only-0', 'job-only-1') ORDER BY session_id",
      );
      expect(submittedJobOnly.rows).toEqual([{ submitted: true }, { submitted: true }]);

      // TRUNCATE empties what deletes shrink; sessions and journeys keep their history.
      const journeys = (await rollupSnapshot(db)).journeys;
      await db.exec('TRUNCATE analytics_events');
      expect(await rollupsCheck()).toMatchObject({ ok: true, detail: '0 events' });
      expect((await rollupSnapshot(db)).journeys).toEqual(journeys);
    });

    it('stops no fold, insert, delete or rebuild for a job time it cannot use, skips it and has doctor name it', async () => {
      // Times a client may write into jobs.created_at (issue 22): infinite, far past, far future.
      // Sessions clock-1..clock-6 (events 5..34); a job for each before its events, one after.
      const times = ["'-infinity'", "'infinity'", "'0900-01-01'", "'294000-01-01'", 'now() + interval \'1 minute\''];
      for (const [i, at] of times.entries()) {
        await db.exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'clock-${i + 1}', ${at})`);
      }
      await db.exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'clock-5', '-infinity')`);
      await db.exec("SELECT setval('analytics_rollup_fold_tick', 1, false)");
      for (const sql of inStatements((from, to) => eventsSql(from, to, 'clock'), 30, 10, 5)) await db.exec(sql);
      expect(await foldLookupRollups(db)).toEqual({ folded: 30 });
      // A session already counted, then a job with a time the journeys cannot use: the insert goes through.
      await db.exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'clock-6', '-infinity')`);
      // More events of those sessions, pending; a statement of 100 folds them with it.
      await db.exec(eventsSql(35, 39, 'clock'));
      await db.exec(eventsSql(40, 139, 'other'));
      await expectJourneysExact(db);
      // A retention delete of pending events (sessions keep their history), and a rebuild.
      await db.exec(eventsSql(35, 39, 'clock'));
      await db.exec("DELETE FROM analytics_events WHERE session_id = 'clock-7'");
      await db.exec('SELECT public.rebuild_lookup_analytics_rollups()');
      await expectJourneysExact(db);
      // Sessions 1-4 and 6 count as not submitted (clock-6's usable job is none); clock-5 by its usable job.
      const submitted = await db.query<{ session_id: string }>(
        "SELECT session_id FROM analytics_lookup_sessions WHERE session_id LIKE 'clock-%' AND submitted_at IS NOT NULL ORDER BY 1",
      );
      expect(submitted.rows.map((r) => r.session_id)).toEqual(['clock-5']);
      const check = (await runDoctor(db)).find((c) => c.name === 'job times the journeys can use');
      expect(check).toMatchObject({ ok: false });
      expect(check?.detail).toMatch(/^6 jobs with a session/);
      await db.exec('TRUNCATE analytics_events');
    });

    it('repairs, when migrated, the journeys of sessions submitted at a job time it cannot use', async () => {
      const damaged = await factory({ migrate: false });
      try {
        const files = await readMigrationFiles();
        const fix = '20261203000400';
        await applyMigrations(damaged.db, { files: files.filter((file) => file.version < fix) });
        await damaged.db.exec(eventsSql(1, 30, 'dated'));
        // dated-1: a job in the year 900 (submitted "before" its lookups); dated-2: the same and a usable
        // one; dated-3: a usable one only. The old rule counted all three submitted, dated-1 and -2 at once.
        await damaged.db.exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES
          ('service-1', 'dated-1', '0900-01-01'), ('service-1', 'dated-2', '0900-01-01'),
          ('service-1', 'dated-2', now() + interval '1 minute'), ('service-1', 'dated-3', now() + interval '2 minutes')`);
        await expect(expectJourneysExact(damaged.db), 'the journeys before the fix').rejects.toThrow();
        const { applied } = await applyMigrations(damaged.db, { files });
        expect(applied.some((name) => name.startsWith(fix))).toBe(true);
        await expectJourneysExact(damaged.db);
        const submitted = await damaged.db.query<{ session_id: string }>(
          "SELECT session_id FROM analytics_lookup_sessions WHERE session_id LIKE 'dated-%' AND submitted_at IS NOT NULL ORDER BY 1",
        );
        expect(submitted.rows.map((r) => r.session_id)).toEqual(['dated-2', 'dated-3']);
      } finally {
        await damaged.dispose();
      }
    });

    it('repairs, when migrated, the journeys of sessions whose job came before their events', async () => {
      const damaged = await factory({ migrate: false });
      try {
        const files = await readMigrationFiles();
        const fix = '20261129000300';
        await applyMigrations(damaged.db, { files: files.filter((file) => file.version < fix) });
        await damaged.db.exec(eventsSql(1, 200, 'repair'));
        // Sessions repair-1..30 get a job after their events; repair-late-* before
        // them, and repair-late-1 a second, earlier job after its events.
        await damaged.db.exec(`INSERT INTO jobs (micro_id, session_id) SELECT 'service-1', 'repair-' || s FROM generate_series(1, 30) s`);
        await damaged.db.exec(`INSERT INTO jobs (micro_id, session_id) SELECT 'service-1', 'repair-late-' || s FROM generate_series(1, 5) s`);
        await damaged.db.exec(eventsSql(1, 20, 'repair-late'));
        await damaged.db.exec(`INSERT INTO jobs (micro_id, session_id, created_at) VALUES ('service-1', 'repair-late-1', now() - interval '1 hour')`);
        await expect(expectJourneysExact(damaged.db), 'the journeys before the fix').rejects.toThrow();
        const { applied } = await applyMigrations(damaged.db, { files });
        expect(applied.some((name) => name.startsWith(fix))).toBe(true);
        expect((await expectJourneysExact(damaged.db)).slugs).toBeGreaterThan(0);
      } finally {
        await damaged.dispose();
      }
    });
  });
}
