-- The journeys take a job's time only when a submission can have it (issue 22).
--
-- A session counts as submitted at its first job's created_at, and the journeys
-- bucket the seconds from its first lookup to that time. created_at is the app's
-- column: the default is the server's clock, but a client that may insert jobs
-- (a signed-in user, under the app's grants) may write any value. '-infinity'
-- made every fold that met the session fail (22008: cannot subtract infinite
-- timestamps): the exporter's fold, the rebuild, each insert of 100 events or
-- more, and a job insert for a session already counted. Times far in the past or
-- future did not fail but put the session in a wrong bucket.
--
-- What the product trusts: a job's time from 2000-01-01 to before 2200-01-01
-- (UTC), as the app wrote it (analytics_job_time_usable(), one pure rule for
-- every path, so the triggers and the rebuild agree). Any other time marks no
-- session submitted: the job is skipped by the journeys, and uuid-lookup doctor
-- counts such jobs ("job times the journeys can use"). The two functions that
-- read jobs.created_at are restated below, literally, with that rule; nothing
-- else reads it. Event times are the server's: clients may not write
-- analytics_events.created_at (column grants, 20261128000400).
--
-- Session rows stored before with a time outside the rule take their first
-- usable job's time, or none, and their journeys move as a job would move them.

CREATE OR REPLACE FUNCTION public.analytics_job_time_usable(p_at timestamptz)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p_at >= '2000-01-01 00:00:00+00'::timestamptz AND p_at < '2200-01-01 00:00:00+00'::timestamptz
$$;
COMMENT ON FUNCTION public.analytics_job_time_usable(timestamptz) IS
  'Whether the journeys take a job''s created_at as its submission time: from 2000-01-01 to before 2200-01-01 UTC.';
REVOKE EXECUTE ON FUNCTION public.analytics_job_time_usable(timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.analytics_job_time_usable(timestamptz) TO service_role;

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
    -- A job's time the journeys cannot use marks no session submitted.
    WHERE n.session_id IS NOT NULL AND public.analytics_job_time_usable(n.created_at)
    GROUP BY n.session_id
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

CREATE OR REPLACE FUNCTION public._rebuild_lookup_analytics_rollups_replay(p_chunk integer DEFAULT 50000)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_at timestamptz;
  v_id uuid;
  v_last_at timestamptz;
  v_last_id uuid;
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
  -- The temporary tables through EXECUTE of a formatted text: a linter
  -- (plpgsql_check) cannot know tables the function creates, and checks constant texts.
  EXECUTE pg_catalog.format($sql$
    INSERT INTO pg_temp.%I (session_id, created_at)
    SELECT j.session_id, pg_catalog.min(j.created_at)
    FROM public.jobs j
    WHERE j.session_id IS NOT NULL AND public.analytics_job_time_usable(j.created_at)
    GROUP BY j.session_id$sql$, 'analytics_rollup_replay_jobs');
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
    EXECUTE pg_catalog.format($sql$
      WITH chunk AS (
        INSERT INTO pg_temp.%I (id, event_name, event_properties, session_id, region, created_at)
        SELECT e.id, e.event_name, e.event_properties, e.session_id, e.region, e.created_at
        FROM public.analytics_events e
        WHERE e.event_name = 'uuid_lookup'
          AND ($1::timestamptz IS NULL OR (e.created_at >= $1 AND (e.created_at > $1 OR e.id > $2)))
        ORDER BY e.created_at, e.id
        LIMIT $3
        RETURNING created_at, id)
      SELECT c.created_at, c.id FROM chunk c ORDER BY c.created_at DESC, c.id DESC LIMIT 1$sql$, 'analytics_rollup_replay')
    INTO v_last_at, v_last_id USING v_at, v_id, p_chunk;
    EXIT WHEN v_last_id IS NULL;
    v_at := v_last_at;
    v_id := v_last_id;
    TRUNCATE pg_temp.analytics_rollup_replay;
  END LOOP;
  DROP TABLE pg_temp.analytics_rollup_replay;
END
$$;

DO $repair$
DECLARE
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
BEGIN
  WITH fixed AS (
    UPDATE public.analytics_lookup_sessions s
    SET prev_submitted_at = s.submitted_at,
        submitted_at = (SELECT pg_catalog.min(j.created_at) FROM public.jobs j
                        WHERE j.session_id = s.session_id AND public.analytics_job_time_usable(j.created_at))
    WHERE s.submitted_at IS NOT NULL AND NOT public.analytics_job_time_usable(s.submitted_at)
    RETURNING s AS sess)
  SELECT pg_catalog.array_agg(pg_catalog.jsonb_populate_record(f.sess, pg_catalog.jsonb_build_object('submitted_at', (f.sess).prev_submitted_at))),
         pg_catalog.array_agg(f.sess)
  INTO v_before, v_after
  FROM fixed f
  WHERE (f.sess).lookups > 0;
  IF v_after IS NOT NULL THEN
    PERFORM public._analytics_journey_change(v_before, v_after);
  END IF;
END
$repair$;
