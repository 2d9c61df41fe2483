-- The lookup analytics rollups can be rebuilt from the events and jobs, and
-- TRUNCATE of analytics_events empties the figures that deletes shrink.
--
-- The rollups (per hour and region, per hour and service, per session, and the
-- journeys per day) are kept by statement-level triggers in the writing
-- transaction. A load with the triggers off (session_replication_role = replica,
-- pg_restore --disable-triggers, ALTER TABLE ... DISABLE TRIGGER) leaves them
-- behind, with nothing to bring them back. `uuid-lookup doctor` now compares
-- their totals with the events and names rebuild_lookup_analytics_rollups() as
-- the fix, as it does for the migration's counters (rebuild_uuid_migration_counters()).
--
-- The rebuild computes no figure of its own: it replays the jobs and the events
-- through the triggers' own functions, so it cannot drift from them.
--   1. The rollups are emptied (DELETE: readers go on seeing the old figures
--      until the rebuild commits).
--   2. The jobs, each session's first, go in one statement into a temporary
--      table whose AFTER INSERT trigger is analytics_session_on_job(): every
--      session with a job gets the row that function writes before any event
--      (20261129000300).
--   3. The events go, p_chunk (50,000) at a time in the order they were
--      written, into a temporary table whose AFTER INSERT trigger is
--      analytics_rollup_on_insert(), the function the live insert path runs:
--      each chunk is one statement of events arriving, and a session's events in
--      a later chunk are late events, which that function already counts exactly.
-- Event and job writers wait until the rebuild commits, and so does a second
-- rebuild (SHARE ROW EXCLUSIVE locks: two at once would both add). Measured on
-- PostgreSQL 15 after a load with the triggers off (eight events per session,
-- every other session with a job, 30 days): 9.6 s at one million events, 41-43 s
-- at five million. Writing the job sessions' rows directly instead of through
-- the job trigger was 39 s in the same conditions: the replay costs about 10 %
-- and keeps the rows the trigger's. In primary-key order instead of written
-- order, a session's events were spread over every chunk: 42 s at one million.
--
-- The result is what the triggers would have kept had every job and every event
-- still stored been written with them on: sessions whose events retention
-- deleted are gone from the journeys, where the live rollups keep their history.
CREATE OR REPLACE FUNCTION public.rebuild_lookup_analytics_rollups(p_chunk integer DEFAULT 50000)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_at timestamptz;
  v_id uuid;
  v_last record;
BEGIN
  IF p_chunk IS NULL OR p_chunk < 1 THEN
    RAISE EXCEPTION 'p_chunk must be a positive number of events, not %', p_chunk USING ERRCODE = '22023';
  END IF;
  -- Writers of events and jobs wait, and so does a second rebuild (the mode
  -- conflicts with itself); readers do not.
  LOCK TABLE public.analytics_events, public.jobs IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM public.analytics_lookup_hourly;
  DELETE FROM public.analytics_lookup_service_hourly;
  DELETE FROM public.analytics_lookup_sessions;
  DELETE FROM public.analytics_journey_daily;
  DELETE FROM public.analytics_journey_slug_daily;

  -- The jobs, each session's first, through analytics_session_on_job() (the
  -- columns it reads from its transition table), in one statement. The temporary
  -- tables are dropped at the end, and at commit or rollback whatever happens.
  CREATE TEMPORARY TABLE analytics_rollup_replay_jobs (session_id text, created_at timestamptz) ON COMMIT DROP;
  CREATE TRIGGER analytics_rollup_replay_jobs AFTER INSERT ON pg_temp.analytics_rollup_replay_jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_session_on_job();
  INSERT INTO pg_temp.analytics_rollup_replay_jobs (session_id, created_at)
  SELECT j.session_id, pg_catalog.min(j.created_at)
  FROM public.jobs j
  WHERE j.session_id IS NOT NULL
  GROUP BY j.session_id;
  DROP TABLE pg_temp.analytics_rollup_replay_jobs;

  -- The events through analytics_rollup_on_insert() (the columns it reads).
  CREATE TEMPORARY TABLE analytics_rollup_replay (
    id               uuid,
    event_name       text,
    event_properties jsonb,
    session_id       text,
    region           text,
    created_at       timestamptz
  ) ON COMMIT DROP;
  CREATE TRIGGER analytics_rollup_replay AFTER INSERT ON pg_temp.analytics_rollup_replay
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_insert();
  -- In the order they were written (created_at, then id: a key for the chunks):
  -- a session's events then mostly share a chunk, as they share a statement live.
  LOOP
    WITH chunk AS (
      INSERT INTO pg_temp.analytics_rollup_replay (id, event_name, event_properties, session_id, region, created_at)
      SELECT e.id, e.event_name, e.event_properties, e.session_id, e.region, e.created_at
      FROM public.analytics_events e
      WHERE e.event_name = 'uuid_lookup'
        AND (v_at IS NULL OR (e.created_at >= v_at AND (e.created_at > v_at OR e.id > v_id)))
      ORDER BY e.created_at, e.id
      LIMIT p_chunk
      RETURNING created_at, id)
    SELECT c.created_at, c.id INTO v_last FROM chunk c ORDER BY c.created_at DESC, c.id DESC LIMIT 1;
    EXIT WHEN v_last.id IS NULL;
    v_at := v_last.created_at;
    v_id := v_last.id;
    TRUNCATE pg_temp.analytics_rollup_replay;
  END LOOP;
  DROP TABLE pg_temp.analytics_rollup_replay;
END
$$;

-- TRUNCATE deletes every event at once, with no rows for a delete trigger: the
-- figures that deletes shrink (per hour and region, per hour and service) are
-- emptied with them. Sessions and journeys keep their history, as with deletes.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM public.analytics_lookup_hourly;
  DELETE FROM public.analytics_lookup_service_hourly;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS analytics_rollup_truncate ON public.analytics_events;
CREATE TRIGGER analytics_rollup_truncate AFTER TRUNCATE ON public.analytics_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_truncate();

REVOKE EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer), public.analytics_rollup_on_truncate()
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) TO service_role;
