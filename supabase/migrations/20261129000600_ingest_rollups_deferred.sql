-- The lookup rollups are folded in batches of statements, not in every insert
-- (issue 13: events/s with the triggers at least 0.7x the trigger-free rate, for
-- the SDK's batches of 10).
--
-- Until now every insert into analytics_events ran the rollup statement
-- (analytics_rollup_on_insert(): per hour and region, per hour and service, per
-- session, the journeys) in its own transaction. For a statement of 10 events most
-- of that cost is the executor's start-up of the statement's plan, paid again for
-- every statement whatever its size (20261129000100). Measured with bench:ingest
-- (batches of 10, the private server's defaults, medians of three alternating
-- pairs): 0.71-0.74 of the trigger-free rate. And every insert of an hour and
-- region updated the same hourly row, so concurrent writers queued on its lock
-- until each one committed.
--
-- Now:
-- * The insert trigger (analytics_rollup_defer()) copies the statement's
--   uuid_lookup events, the columns the rollups read, into
--   analytics_rollup_pending, and returns.
-- * Every 32nd such statement (a sequence), and any statement of 100 events or
--   more, also folds: it deletes the pending rows, and the AFTER DELETE trigger
--   of analytics_rollup_pending runs analytics_rollup_on_insert(), unchanged, on
--   the deleted rows (its transition table is named new_events, as on
--   analytics_events). One rollup statement now serves about 32 inserts. A fold
--   is the rollup statement as it ran before on a statement of events; events
--   arriving in a later fold than their session's earlier events are late events,
--   which that function counts exactly (test/db/linear-ingest.suite.ts), and a
--   job stored before its session's events is already counted since
--   20261129000300. So the rollups after a fold are exactly what they were before
--   this migration.
-- * public.fold_lookup_analytics_rollups() folds whatever is pending, and returns
--   how many events it folded. Readers that must be exact call it first: the CLI
--   reports do. postgres_exporter calls it on every scrape without waiting
--   (prometheus/postgres-exporter/queries.yml), so the rollups the Grafana panels
--   read are folded at least once a scrape interval, unless every scrape meets a
--   fold in progress. Besides, one insert in 32 folds. On Supabase without the
--   exporter, pg_cron can call it every minute (README).
--
-- The fold lock (an advisory transaction lock, key below) serialises the folds of
-- the insert path and of fold_lookup_analytics_rollups(): two of them never update
-- the same rollup rows in different orders. An insert only tries it: when it is
-- taken, or at REPEATABLE READ or SERIALIZABLE, the insert skips its fold and its
-- events wait for the next one. fold_lookup_analytics_rollups() waits for it (up
-- to lock_timeout, 10 s: 55P03 after) unless told not to, so a reader that called
-- it sees every event committed before. It refuses other isolation levels
-- (25000). A transaction that folded holds the lock until it ends: a long
-- explicit transaction that inserts events delays the readers' folds (up to the
-- timeout) and makes the exporter's skip.
--
-- Deletes (retention) fold their own pending events, locking those pending rows
-- (in ctid order, as the readers' fold does) before any rollup row, and the delete
-- trigger subtracts them as before. They take no fold lock: a delete of old events
-- meets no pending row and waits for nothing new. A delete of events still pending
-- while a fold holds them waits for that fold. TRUNCATE folds what is pending
-- before it empties the hourly figures, so the sessions keep those events' history
-- as they keep the others'. The rebuild (20261129000400) drops the pending rows
-- unfolded and replays every stored event; it refuses isolation levels other than
-- READ COMMITTED, at which an older snapshot would replay fewer events than it
-- drops.
--
-- A fold waits for the rollup rows it updates, as the inserts did before: for a
-- job's transaction that holds a session row, for instance.
--
-- Measured (bench:ingest, STATES=b REPEAT=3, the same private server as the
-- 0.71-0.74 above, the last fold inside the clock): batches of 10 at 0.91 and
-- 0.92 of the trigger-free rate in two runs (pairs 0.84-0.96), server CPU
-- 1.11-1.15x; batches of 500 at 0.78 and 0.76 (they pay for copying and deleting
-- their events; 0.91 before). The statement that folds is the slow one: the 99th
-- percentile of a statement of 10 is about 5 ms, against 2 ms without triggers.

CREATE TABLE IF NOT EXISTS public.analytics_rollup_pending (
  id               uuid NOT NULL,
  event_name       text NOT NULL,
  event_properties jsonb NOT NULL,
  session_id       text,
  region           text,
  created_at       timestamptz NOT NULL
);
COMMENT ON TABLE public.analytics_rollup_pending IS
  'uuid_lookup events stored but not yet in the lookup rollups; public.fold_lookup_analytics_rollups() folds them.';
ALTER TABLE public.analytics_rollup_pending ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_rollup_pending FROM PUBLIC, anon, authenticated;

-- Statements that copied events: every 32nd folds.
CREATE SEQUENCE IF NOT EXISTS public.analytics_rollup_fold_tick;
REVOKE ALL ON SEQUENCE public.analytics_rollup_fold_tick FROM PUBLIC, anon, authenticated;

-- Deleting pending rows is folding them: the live rollup function, on the rows.
-- ENABLE ALWAYS: it fires under session_replication_role = replica too, so a fold
-- called in such a session cannot delete events without counting them.
DROP TRIGGER IF EXISTS analytics_rollup_fold ON public.analytics_rollup_pending;
CREATE TRIGGER analytics_rollup_fold
  AFTER DELETE ON public.analytics_rollup_pending
  REFERENCING OLD TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_insert();
ALTER TABLE public.analytics_rollup_pending ENABLE ALWAYS TRIGGER analytics_rollup_fold;

-- The insert path. The fold lock's key, here and in fold_lookup_analytics_rollups():
-- 7301146911582731 (an arbitrary constant of this project).
CREATE OR REPLACE FUNCTION public.analytics_rollup_defer()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_events bigint;
  v_fold boolean;
BEGIN
  INSERT INTO public.analytics_rollup_pending (id, event_name, event_properties, session_id, region, created_at)
  SELECT e.id, e.event_name, e.event_properties, e.session_id, e.region, e.created_at
  FROM new_events e
  WHERE e.event_name = 'uuid_lookup';
  GET DIAGNOSTICS v_events = ROW_COUNT;
  IF v_events = 0 THEN
    RETURN NULL;
  END IF;
  IF v_events >= 100 THEN
    v_fold := true;
  ELSE
    v_fold := pg_catalog.nextval('public.analytics_rollup_fold_tick') % 32 = 0;
  END IF;
  -- Only at READ COMMITTED: under REPEATABLE READ or SERIALIZABLE the fold would
  -- meet pending rows another fold deleted after the snapshot, and fail the insert
  -- (a serialization failure). Such a statement leaves its events to the next fold.
  IF v_fold AND pg_catalog.current_setting('transaction_isolation') = 'read committed'
     AND pg_catalog.pg_try_advisory_xact_lock(7301146911582731) THEN
    -- At most this statement's events and 10,000 more: an insert's latency stays
    -- bounded whatever accumulated (the rest waits for the next fold). Rows a
    -- retention delete holds are skipped: it folds them itself.
    DELETE FROM public.analytics_rollup_pending p
    WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q
                              LIMIT v_events + 10000 FOR UPDATE SKIP LOCKED));
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS analytics_rollup_insert ON public.analytics_events;
CREATE TRIGGER analytics_rollup_insert
  AFTER INSERT ON public.analytics_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_defer();

-- For readers that must be exact (p_wait: wait for a fold in progress, up to the
-- lock_timeout below), and for a timer that must not wait (the exporter's scrape:
-- p_wait false returns NULL at once when another fold holds the lock).
CREATE OR REPLACE FUNCTION public.fold_lookup_analytics_rollups(p_wait boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
  v_events bigint;
BEGIN
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'fold_lookup_analytics_rollups() needs READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
      USING ERRCODE = '25000', HINT = 'Call it in a transaction of its own: a later snapshot would miss folds committed since this one''s.';
  END IF;
  IF p_wait THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  ELSIF NOT pg_catalog.pg_try_advisory_xact_lock(7301146911582731) THEN
    RETURN NULL;
  END IF;
  -- In ctid order, as a retention delete locks its pending rows: neither can hold
  -- a row the other waits for while it waits for one the other holds.
  DELETE FROM public.analytics_rollup_pending p
  WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q ORDER BY q.ctid FOR UPDATE));
  GET DIAGNOSTICS v_events = ROW_COUNT;
  RETURN v_events;
END
$$;
COMMENT ON FUNCTION public.fold_lookup_analytics_rollups(boolean) IS
  'Folds the pending uuid_lookup events into the lookup rollups; returns how many (NULL: p_wait false and another fold holds the lock). Call before reading the rollups when they must be exact.';

-- Retention deletes fold their own pending events before anything else: this
-- trigger fires before analytics_rollup_delete (triggers of one event fire in
-- name order), so the delete waits for a pending row (held by a fold in
-- progress) before it holds any rollup row that fold may need. It takes no fold
-- lock: a delete of old events meets no pending row at all.
CREATE OR REPLACE FUNCTION public.analytics_rollup_fold_deleted()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM public.analytics_rollup_pending p
  WHERE p.ctid = ANY (ARRAY(
    SELECT q.ctid FROM public.analytics_rollup_pending q
    WHERE q.id IN (SELECT o.id FROM old_events o WHERE o.event_name = 'uuid_lookup')
    ORDER BY q.ctid FOR UPDATE));
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS analytics_rollup_deferred_fold ON public.analytics_events;
CREATE TRIGGER analytics_rollup_deferred_fold
  AFTER DELETE ON public.analytics_events
  REFERENCING OLD TABLE AS old_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_fold_deleted();

-- TRUNCATE (20261129000400): fold what is pending, drop what a REPEATABLE READ
-- snapshot could not see (its events are truncated too), then empty what deletes
-- shrink. Under REPEATABLE READ or SERIALIZABLE nothing is folded: the pending
-- events' sessions lose them, as the rebuild's would.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
    PERFORM public.fold_lookup_analytics_rollups();
  END IF;
  TRUNCATE public.analytics_rollup_pending;
  DELETE FROM public.analytics_lookup_hourly;
  DELETE FROM public.analytics_lookup_service_hourly;
  RETURN NULL;
END
$$;

-- The rebuild (20261129000400) replays every stored event: what is pending is
-- dropped unfolded, under the rebuild's locks, before the replay. At READ
-- COMMITTED only: an older snapshot would replay fewer events than it drops.
-- (Renamed once: the migration may run again.)
DO $rename$
BEGIN
  IF pg_catalog.to_regprocedure('public._rebuild_lookup_analytics_rollups_replay(integer)') IS NULL THEN
    ALTER FUNCTION public.rebuild_lookup_analytics_rollups(integer) RENAME TO _rebuild_lookup_analytics_rollups_replay;
  END IF;
END
$rename$;
CREATE OR REPLACE FUNCTION public.rebuild_lookup_analytics_rollups(p_chunk integer DEFAULT 50000)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'rebuild_lookup_analytics_rollups() needs READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
      USING ERRCODE = '25000', HINT = 'Call it in a transaction of its own.';
  END IF;
  -- Its replay runs the rollup triggers, which do not fire in replica mode: it would only empty the rollups.
  IF pg_catalog.current_setting('session_replication_role') = 'replica' THEN
    RAISE EXCEPTION 'rebuild_lookup_analytics_rollups() cannot run with session_replication_role = replica'
      USING ERRCODE = '25000', HINT = 'RESET session_replication_role first.';
  END IF;
  LOCK TABLE public.analytics_events, public.jobs IN SHARE ROW EXCLUSIVE MODE;
  TRUNCATE public.analytics_rollup_pending;
  PERFORM public._rebuild_lookup_analytics_rollups_replay(p_chunk);
END
$$;

-- Only the functions above write the pending events and the tick (service_role
-- too is refused: a malformed pending row would stop every fold). The readers of
-- the events may count them (`uuid-lookup doctor`: events = rollups + pending).
REVOKE ALL ON public.analytics_rollup_pending FROM service_role;
REVOKE ALL ON SEQUENCE public.analytics_rollup_fold_tick FROM service_role;
GRANT SELECT ON public.analytics_rollup_pending TO uuid_lookup_reader, service_role;
DROP POLICY IF EXISTS analytics_rollup_pending_read ON public.analytics_rollup_pending;
CREATE POLICY analytics_rollup_pending_read ON public.analytics_rollup_pending
  FOR SELECT TO uuid_lookup_reader, service_role USING (true);
REVOKE EXECUTE ON FUNCTION public.analytics_rollup_defer(), public.analytics_rollup_fold_deleted(),
  public._rebuild_lookup_analytics_rollups_replay(integer), public.rebuild_lookup_analytics_rollups(integer),
  public.fold_lookup_analytics_rollups(boolean)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) TO service_role;
-- Readers of the rollups: the monitoring role, the exporter's, the service role.
GRANT EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups(boolean) TO service_role, uuid_lookup_reader, uuid_migration_monitor;
