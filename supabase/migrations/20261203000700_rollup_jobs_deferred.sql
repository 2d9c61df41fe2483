-- The app's job writes take no rollup row (issue 22: deadlocks from rows the app
-- cannot see).
--
-- Until now a job insert ran analytics_session_on_job() at once: it updated the
-- lookup sessions of its jobs and the journeys' daily rows in its own
-- transaction. Beside a fold, which writes the same rows, the app's own writes
-- failed: in a 20 s soak of app-shaped writes (test/servers/app-soak.test.ts:
-- multi-row job inserts in any session order, updates of the same rows, MERGE, at
-- READ COMMITTED and REPEATABLE READ, beside the exporter's folds, counter
-- compaction, retention and the back-fill), 19 job transactions died in a
-- deadlock (40P01) and 74 at REPEATABLE READ with a serialization failure
-- (40001: a fold had changed a session row after the job's snapshot); an event
-- insert that folded, and a fold, deadlocked once each.
--
-- Now:
-- * A job insert copies what the journeys read (the session and the job's time,
--   for jobs with a session) into analytics_rollup_pending_jobs and returns,
--   as event inserts copy their lookups into analytics_rollup_pending. It writes
--   no shared row: it cannot wait for a fold, deadlock with one, or fail at any
--   isolation level because of one.
-- * Folds fold the pending jobs too, after the pending events, under the fold
--   lock: fold_lookup_analytics_rollups() (the readers' and each scrape's), and
--   the insert path's fold (every 32nd event statement). Deleting pending jobs is
--   folding them: the AFTER DELETE trigger runs analytics_session_on_job() on
--   the deleted rows, as the job insert did (a job folded before or after its
--   session's events counts the same: 20261129000300).
-- * So only fold-lock holders write the rollups: the folds, the rebuild, and
--   retention deletes (20261203000600's delete function takes the lock; one that
--   meets pending events of its own takes it before it locks them). Every rollup
--   statement also writes its rows in key order.
-- * A job's session id counts only when a session can have it (1 to 128
--   characters, the events' rule): a longer one would not fit the sessions' key.
-- * The rebuild drops the pending jobs with the pending events (it replays every
--   job). TRUNCATE of analytics_events folds them first, as it folds the events.
-- After this migration the same soak ran with no error of any kind.

CREATE TABLE IF NOT EXISTS public.analytics_rollup_pending_jobs (
  session_id  text NOT NULL,
  created_at  timestamptz NOT NULL
);
COMMENT ON TABLE public.analytics_rollup_pending_jobs IS
  'Jobs with a wizard session not yet in the journeys; public.fold_lookup_analytics_rollups() folds them.';
ALTER TABLE public.analytics_rollup_pending_jobs ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_rollup_pending_jobs FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.analytics_rollup_pending_jobs TO uuid_lookup_reader, uuid_migration_monitor, service_role;
DROP POLICY IF EXISTS analytics_rollup_pending_jobs_read ON public.analytics_rollup_pending_jobs;
CREATE POLICY analytics_rollup_pending_jobs_read ON public.analytics_rollup_pending_jobs
  FOR SELECT TO uuid_lookup_reader, uuid_migration_monitor, service_role USING (true);

-- Folding pending jobs: the journeys' job function, on the deleted rows.
DROP TRIGGER IF EXISTS analytics_rollup_fold_jobs ON public.analytics_rollup_pending_jobs;
CREATE TRIGGER analytics_rollup_fold_jobs
  AFTER DELETE ON public.analytics_rollup_pending_jobs
  REFERENCING OLD TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_session_on_job();
ALTER TABLE public.analytics_rollup_pending_jobs ENABLE ALWAYS TRIGGER analytics_rollup_fold_jobs;

-- The job insert path: a copy, nothing else.
CREATE OR REPLACE FUNCTION public.analytics_session_job_defer()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO public.analytics_rollup_pending_jobs (session_id, created_at)
  SELECT n.session_id, n.created_at
  FROM new_jobs n
  -- Which jobs count is decided once, by analytics_session_on_job() when they are
  -- folded (and when the rebuild replays them): a usable time, a session id a
  -- session can have.
  WHERE n.session_id IS NOT NULL;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS analytics_session_job ON public.jobs;
CREATE TRIGGER analytics_session_job
  AFTER INSERT ON public.jobs
  REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_session_job_defer();

-- As 20261203000400, the sessions written in key order, session ids of 1 to 128 characters only.
CREATE OR REPLACE FUNCTION public.analytics_session_on_job()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET jit = off
AS $$
DECLARE
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
BEGIN
  IF NOT EXISTS (SELECT FROM new_jobs n WHERE n.session_id IS NOT NULL AND public.analytics_job_time_usable(n.created_at)) THEN
    RETURN NULL;
  END IF;
  WITH submitted AS (
    INSERT INTO public.analytics_lookup_sessions AS s
      (session_id, first_lookup_at, last_lookup_at, lookups, failures, fallbacks, troubled_slugs, submitted_at)
    SELECT n.session_id, NULL, NULL, 0, 0, 0, '{}', pg_catalog.min(n.created_at)
    FROM new_jobs n
    -- A job's time the journeys cannot use marks no session submitted (20261203000400);
    -- nor does a session id no session can have (the events' rule: 1 to 128
    -- characters). jobs.session_id is the app's column, of any length: a longer one
    -- would not fit the sessions' key, and would stop every fold.
    WHERE n.session_id IS NOT NULL AND pg_catalog.char_length(n.session_id) BETWEEN 1 AND 128
      AND public.analytics_job_time_usable(n.created_at)
    GROUP BY n.session_id
    ORDER BY n.session_id
    ON CONFLICT (session_id) DO UPDATE SET
      prev_submitted_at = s.submitted_at,
      submitted_at = LEAST(COALESCE(s.submitted_at, excluded.submitted_at), excluded.submitted_at)
    RETURNING s AS sess)
  -- Rows without a lookup (lookups = 0, first_lookup_at NULL) count in no
  -- journey: left out, and so is every row this statement inserted.
  SELECT pg_catalog.array_agg(pg_catalog.jsonb_populate_record(u.sess, pg_catalog.jsonb_build_object('submitted_at', (u.sess).prev_submitted_at))),
         pg_catalog.array_agg(u.sess)
  INTO v_before, v_after
  FROM submitted u
  WHERE (u.sess).lookups > 0;
  IF v_after IS NOT NULL THEN
    PERFORM public._analytics_journey_change(v_before, v_after);
  END IF;
  RETURN NULL;
END
$$;

-- The event insert path (20261129000600): its fold takes the pending jobs too.
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
  -- Only at READ COMMITTED (a later snapshot's fold would meet rows folded since),
  -- and only when no other fold holds the lock.
  IF v_fold AND pg_catalog.current_setting('transaction_isolation') = 'read committed'
     AND pg_catalog.pg_try_advisory_xact_lock(7301146911582731) THEN
    -- At most this statement's events and 10,000 more, and 10,000 jobs: an
    -- insert's latency stays bounded whatever accumulated.
    DELETE FROM public.analytics_rollup_pending p
    WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q
                              LIMIT v_events + 10000 FOR UPDATE SKIP LOCKED));
    DELETE FROM public.analytics_rollup_pending_jobs p
    WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending_jobs q
                              LIMIT 10000 FOR UPDATE SKIP LOCKED));
  END IF;
  RETURN NULL;
END
$$;

-- The readers' fold (20261129000600): the pending events, then the pending jobs.
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
  DELETE FROM public.analytics_rollup_pending p
  WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q ORDER BY q.ctid FOR UPDATE));
  GET DIAGNOSTICS v_events = ROW_COUNT;
  DELETE FROM public.analytics_rollup_pending_jobs p
  WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending_jobs q ORDER BY q.ctid FOR UPDATE));
  RETURN v_events;
END
$$;
COMMENT ON FUNCTION public.fold_lookup_analytics_rollups(boolean) IS
  'Folds the pending uuid_lookup events and jobs into the lookup rollups and journeys; returns how many events (NULL: p_wait false and another fold holds the lock). Call before reading the rollups when they must be exact.';

-- Retention deletes: a delete that meets pending events of its own folds them
-- under the fold lock, taken before it locks them, so that only fold-lock holders
-- write the sessions and journeys; a delete of older events takes no lock.
CREATE OR REPLACE FUNCTION public.analytics_rollup_fold_deleted()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM public.analytics_rollup_pending q
                 WHERE q.id IN (SELECT o.id FROM old_events o WHERE o.event_name = 'uuid_lookup')) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  DELETE FROM public.analytics_rollup_pending p
  WHERE p.ctid = ANY (ARRAY(
    SELECT q.ctid FROM public.analytics_rollup_pending q
    WHERE q.id IN (SELECT o.id FROM old_events o WHERE o.event_name = 'uuid_lookup')
    ORDER BY q.ctid FOR UPDATE));
  RETURN NULL;
END
$$;

-- The rebuild (20261203000600): the pending jobs are dropped with the pending
-- events; the replay reads every job.
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
  -- The fold lock first, as every writer of the rollups; then the writers of events and jobs wait.
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  LOCK TABLE public.analytics_events, public.jobs IN SHARE ROW EXCLUSIVE MODE;
  TRUNCATE public.analytics_rollup_pending, public.analytics_rollup_pending_jobs;
  DELETE FROM public.analytics_rollup_relabelled;
  PERFORM public._rebuild_lookup_analytics_rollups_replay(p_chunk);
END
$$;

REVOKE EXECUTE ON FUNCTION public.analytics_session_job_defer(), public.analytics_session_on_job(), public.analytics_rollup_defer(),
  public.analytics_rollup_fold_deleted() FROM PUBLIC, anon, authenticated, service_role;
REVOKE EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups(boolean), public.rebuild_lookup_analytics_rollups(integer)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups(boolean) TO service_role, uuid_lookup_reader, uuid_migration_monitor;
