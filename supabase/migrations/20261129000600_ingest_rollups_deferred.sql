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
--   reports and `uuid-lookup doctor` do, and postgres_exporter calls it on every
--   scrape (prometheus/postgres-exporter/queries.yml), which bounds how far the
--   Grafana panels that read the rollups lag: a scrape interval, or 31 statements.
--   On Supabase without the exporter, pg_cron can call it every minute (README).
--
-- Folds are serialised by the fold lock (an advisory transaction lock, key
-- below), so two folds never update the same rollup rows in different orders
-- and cannot deadlock. A fold on the insert path takes it only if it is free:
-- an insert never waits for a fold, and the rows it leaves stay for the next
-- one. fold_lookup_analytics_rollups() waits for it, so what a reader sees after
-- calling it is every committed event. A transaction that folded holds the lock
-- until it ends: a long explicit transaction that inserts events delays the other
-- folds (and the readers' calls) until it commits.
--
-- Deletes (retention): a delete of events first folds what is pending (the
-- trigger analytics_rollup_deferred_fold fires before analytics_rollup_delete:
-- triggers of one event fire in name order), and the delete trigger subtracts the
-- deleted events as before. It takes the fold lock before any rollup row, as
-- every fold does. TRUNCATE folds what is pending before it empties the hourly
-- figures, so the sessions keep those events' history as they keep the others'.
-- The rebuild (20261129000400) drops the pending rows unfolded: it replays every
-- stored event anyway.
--
-- Measured (bench:ingest, STATES=b REPEAT=3, the same private server as the
-- 0.71-0.74 above, the last fold inside the clock): batches of 10 at 0.85 (0.85,
-- 0.83, 0.86) of the trigger-free rate, server CPU 1.18x; batches of 500 at 0.78
-- (they pay for copying and deleting their events; 0.91 before).

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
BEGIN
  INSERT INTO public.analytics_rollup_pending (id, event_name, event_properties, session_id, region, created_at)
  SELECT e.id, e.event_name, e.event_properties, e.session_id, e.region, e.created_at
  FROM new_events e
  WHERE e.event_name = 'uuid_lookup';
  GET DIAGNOSTICS v_events = ROW_COUNT;
  IF v_events > 0
     AND (v_events >= 100 OR pg_catalog.nextval('public.analytics_rollup_fold_tick') % 32 = 0)
     AND pg_catalog.pg_try_advisory_xact_lock(7301146911582731) THEN
    -- At most this statement's events and 10,000 more: an insert's latency stays
    -- bounded whatever accumulated (the rest waits for the next fold). No other
    -- fold runs (the lock), so no pending row it sees is locked.
    DELETE FROM public.analytics_rollup_pending p
    WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q LIMIT v_events + 10000));
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS analytics_rollup_insert ON public.analytics_events;
CREATE TRIGGER analytics_rollup_insert
  AFTER INSERT ON public.analytics_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_defer();

-- For readers that must be exact, and for a timer (the exporter's scrape, pg_cron).
CREATE OR REPLACE FUNCTION public.fold_lookup_analytics_rollups()
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_events bigint;
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  DELETE FROM public.analytics_rollup_pending;
  GET DIAGNOSTICS v_events = ROW_COUNT;
  RETURN v_events;
END
$$;
COMMENT ON FUNCTION public.fold_lookup_analytics_rollups() IS
  'Folds the pending uuid_lookup events into the lookup rollups; returns how many. Call before reading the rollups when they must be exact.';

-- Retention deletes fold what is pending first (see above).
CREATE OR REPLACE FUNCTION public.analytics_rollup_fold_pending()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM public.fold_lookup_analytics_rollups();
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS analytics_rollup_deferred_fold ON public.analytics_events;
CREATE TRIGGER analytics_rollup_deferred_fold
  AFTER DELETE ON public.analytics_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_fold_pending();

-- TRUNCATE (20261129000400): fold what is pending, then empty what deletes shrink.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM public.fold_lookup_analytics_rollups();
  DELETE FROM public.analytics_lookup_hourly;
  DELETE FROM public.analytics_lookup_service_hourly;
  RETURN NULL;
END
$$;

-- The rebuild (20261129000400) replays every stored event: what is pending is
-- dropped unfolded, under the rebuild's locks, before the replay.
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
  LOCK TABLE public.analytics_events, public.jobs IN SHARE ROW EXCLUSIVE MODE;
  TRUNCATE public.analytics_rollup_pending;
  PERFORM public._rebuild_lookup_analytics_rollups_replay(p_chunk);
END
$$;

REVOKE EXECUTE ON FUNCTION public.analytics_rollup_defer(), public.analytics_rollup_fold_pending(),
  public._rebuild_lookup_analytics_rollups_replay(integer), public.rebuild_lookup_analytics_rollups(integer),
  public.fold_lookup_analytics_rollups()
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) TO service_role;
-- Readers of the rollups: the monitoring role, the exporter's, the service role.
GRANT EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups() TO service_role, uuid_lookup_reader, uuid_migration_monitor;
