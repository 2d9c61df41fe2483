import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldLookupRollups } from '../../src/node/reports/lookup-analytics.ts';
import { expectJourneysExact } from '../support/journeys.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// Two transactions touching one wizard session at once: the journey rollups must
// equal a recomputation from the raw events and jobs once both have committed.
// The second statement is started while the first holds its locks, and the first
// commits only when the second is seen waiting on it (pg_stat_activity).
//
// Before 20261129000100 all three failed: each trigger read a session's old row
// with its statement's snapshot, taken before the other transaction committed,
// but updated the row as that transaction left it, so the journeys subtracted a
// stale row. Now the write keeps the old figures in the row (prev_*) and the
// triggers read them from the row they changed.
//
// The same harness runs two rebuilds of the lookup rollups, and two of the
// migration counters, at once: the second must wait for the first
// (20261129000400, 20261129000500).
//
// Since 20261129000600 events reach the session rows when they are folded, not
// when they are inserted: `event` below inserts and folds in one transaction, as
// the every-32nd statement of the insert path does, so the sessions are written
// by the fold. Two folds never run at once (the fold lock): the second waits for
// the first. An insert never waits for a fold (last cases).
//
// Since 20261203000700 jobs too reach the session rows when they are folded: a job
// insert only copies its session and time into analytics_rollup_pending_jobs. So
// `job` below inserts and folds in one transaction, and the overlaps of a job and
// an event are those of two folds. A job insert alone never waits (a case below).

const event = (session: string, ok: boolean) =>
  `INSERT INTO analytics_events (event_name, event_category, event_properties, session_id)
   VALUES ('uuid_lookup', 'wizard_flow',
           '{"micro_slug": "tiling", "micro_uuid": ${ok ? '"3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90"' : 'null'}, "lookup_time_ms": 4, "success": ${ok}, "fallback_used": false}',
           '${session}');
   SELECT public.fold_lookup_analytics_rollups()`;
const job = (session: string) => `INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', '${session}'); SELECT public.fold_lookup_analytics_rollups()`;
/** `count` failed lookups with a fallback of one session in one statement: 100 or more fold at once when the fold lock is free. */
const manyEvents = (session: string, count: number) =>
  `INSERT INTO analytics_events (event_name, event_category, event_properties, session_id)
   SELECT 'uuid_lookup', 'wizard_flow',
          '{"micro_slug": "tiling", "micro_uuid": null, "lookup_time_ms": 9, "success": false, "fallback_used": true}', '${session}'
   FROM generate_series(1, ${count})`;

describe('journey rollups with two transactions on one session', () => {
  let t: TestDatabase;
  let first: pg.Client;
  let second: pg.Client;
  beforeEach(async () => {
    t = await serverTestDatabase();
    first = new pg.Client({ connectionString: t.url });
    second = new pg.Client({ connectionString: t.url });
    await first.connect();
    await second.connect();
  });
  afterEach(async () => {
    await first.end();
    await second.end();
    await t.dispose();
  });

  /**
   * Runs `a` in an open transaction on `first`, starts `b` on `second`, once `b`
   * waits runs `then` (if given) in the first transaction and commits it, and
   * returns when `b` is done.
   */
  async function overlap(a: string, b: string, then?: string): Promise<void> {
    await first.query('BEGIN');
    await first.query(a);
    const { rows } = await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid;
    const running = second.query(b);
    for (let i = 0; ; i += 1) {
      const wait = await t.db.query<{ waiting: boolean }>(
        `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
        [pid],
      );
      if (wait.rows[0]?.waiting) break;
      if (i > 200) throw new Error('the second statement never waited for the first');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (then !== undefined) await first.query(then);
    await first.query('COMMIT');
    await running;
  }

  /** Events stored but not yet folded into the rollups. */
  const pendingEvents = async (): Promise<number> =>
    Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_rollup_pending')).rows[0]?.n);

  const expectExact = async () => {
    expect((await expectJourneysExact(t.db)).days).toBeGreaterThan(0);
  };

  it('counts a new session once when two batches of it arrive at once', async () => {
    await overlap(event('race-new', true), event('race-new', false));
    await expectExact();
  });

  it('counts a session once when its job and a late event arrive at once, job first', async () => {
    await t.db.exec(event('race-job', true));
    await overlap(job('race-job'), event('race-job', false));
    await expectExact();
  });

  it('counts a session once when a late event and its job arrive at once, event first', async () => {
    await t.db.exec(event('race-event', true));
    await overlap(event('race-event', false), job('race-event'));
    await expectExact();
  });

  // A job before the session's first event (20261129000300): the job writes the
  // session row too, so the two meet on its primary key whichever comes first.
  // Before, neither waited for the other and the session counted as unsubmitted.
  it('rebuilds the rollups once when two rebuilds run at once: the second waits for the first', async () => {
    for (const session of ['rebuild-a', 'rebuild-b', 'rebuild-c']) await t.db.exec(event(session, session !== 'rebuild-b'));
    await t.db.exec(job('rebuild-a'));
    const totals = `SELECT (SELECT sum(lookups) FROM analytics_lookup_hourly)::int AS hourly,
                           (SELECT sum(lookups) FROM analytics_lookup_service_hourly)::int AS service,
                           (SELECT count(*) FROM analytics_lookup_sessions)::int AS sessions`;
    const before = (await t.db.query(totals)).rows;
    expect(before).toEqual([{ hourly: 3, service: 3, sessions: 3 }]);
    await overlap('SELECT public.rebuild_lookup_analytics_rollups()', 'SELECT public.rebuild_lookup_analytics_rollups()');
    expect((await t.db.query(totals)).rows).toEqual(before);
    await expectExact();
  });

  it('rebuilds the migration counters once when two rebuilds run at once: the second waits, no error', async () => {
    await t.db.exec(job('counted-a'));
    await t.db.exec(job('counted-b'));
    await overlap('SELECT public.rebuild_uuid_migration_counters()', 'SELECT public.rebuild_uuid_migration_counters()');
    const stats = await t.db.query<{ total_jobs: number }>('SELECT total_jobs::int FROM public.get_uuid_migration_stats()');
    expect(stats.rows).toEqual([{ total_jobs: 2 }]);
  });

  it('counts a new session as submitted when its job and its first event arrive at once, job first', async () => {
    await overlap(job('race-job-first'), event('race-job-first', false));
    await expectExact();
  });

  it('counts a new session as submitted when its first event and its job arrive at once, event first', async () => {
    await overlap(event('race-event-first', true), job('race-event-first'));
    await expectExact();
  });

  it('never makes an insert wait for a fold: a statement that would fold while another fold holds the lock leaves its events pending', async () => {
    await first.query('BEGIN');
    await first.query(event('fold-held', true));
    // 120 events in one statement: it folds at once when the fold lock is free.
    const many = manyEvents('fold-skipped', 120);
    const inserted = await Promise.race([
      second.query(many).then(() => 'inserted'),
      new Promise((resolve) => setTimeout(() => resolve('waited'), 5000)),
    ]);
    expect(inserted).toBe('inserted');
    expect(await pendingEvents()).toBe(120);
    await first.query('COMMIT');
    // Free again: the same statement folds what is pending, its own events with it.
    await second.query(many);
    expect(await pendingEvents()).toBe(0);
    const sessions = await t.db.query<{ lookups: number }>("SELECT lookups::int FROM analytics_lookup_sessions WHERE session_id = 'fold-skipped'");
    expect(sessions.rows).toEqual([{ lookups: 240 }]);
    await expectExact();
  });

  it('never makes a job insert wait for a fold, nor fail at REPEATABLE READ because one committed after its snapshot', async () => {
    // A fold of the session's events holds the fold lock and the session row until it commits.
    await first.query('BEGIN');
    await first.query(event('held-session', false));
    await second.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await second.query('SELECT count(*) FROM jobs'); // the snapshot
    const submitted = await Promise.race([
      second.query("INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'held-session')").then(() => 'inserted'),
      new Promise((resolve) => setTimeout(() => resolve('waited'), 5000)),
    ]);
    expect(submitted).toBe('inserted');
    await first.query('COMMIT');
    // The fold committed after the job's snapshot: a second job of the same session, same transaction.
    await second.query("INSERT INTO jobs (micro_id, session_id) VALUES ('service-1', 'held-session')");
    await second.query('COMMIT');
    expect(Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_rollup_pending_jobs')).rows[0]?.n)).toBe(2);
    await expectExact();
  });

  it('lets a fold that must not wait (the exporter\'s) skip while another holds the lock, and bounds the wait of one that may', async () => {
    await t.db.exec(event('held', true));
    await first.query('BEGIN');
    await first.query('SELECT public.fold_lookup_analytics_rollups()');
    await t.db.exec(`INSERT INTO analytics_events (event_name, event_category, event_properties, session_id)
      VALUES ('uuid_lookup', 'wizard_flow', '{"micro_slug": "tiling", "micro_uuid": null, "lookup_time_ms": 4, "success": false, "fallback_used": false}', 'held')`);
    const started = Date.now();
    expect((await second.query('SELECT public.fold_lookup_analytics_rollups(false) AS folded')).rows).toEqual([{ folded: null }]);
    expect(Date.now() - started).toBeLessThan(2000);
    // A reader's fold waits up to the function's lock_timeout (10 s), then goes on unfolded.
    expect(await foldLookupRollups(t.db)).toEqual({ skipped: 'another fold held the lock for 10 s (55P03)' });
    await first.query('COMMIT');
    expect(await foldLookupRollups(t.db)).toEqual({ folded: 1 });
    await expectExact();
  }, 30_000);
});
