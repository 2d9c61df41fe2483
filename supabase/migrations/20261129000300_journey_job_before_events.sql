-- A wizard session whose job is stored before its first lookup event counts as
-- submitted in the journeys.
--
-- The SDK sends lookup events in batches (up to ten, or after a delay), and
-- submitJob inserts the job at once: a session's job often reaches the database
-- before its events do. analytics_session_on_job only updated session rows that
-- already existed, so for such a session it changed nothing, and the events then
-- created the row with no submitted_at: the journeys counted a submitted session
-- as one that gave up (seen on 20261129000100: a job, then an event of its
-- session; the journey said sessions 1, submitted 0). The raw recomputation the
-- tests use takes the session's first job whatever the order.
--
-- Now the job writes the session row whatever the order: an upsert. A session
-- with a job and no lookup yet is a row with lookups = 0 and no first or last
-- lookup (NULL): it counts in no journey. When its events come, the events'
-- upsert (20261129000100, unchanged) fills it: LEAST and GREATEST ignore the
-- NULLs, so the first and last lookup are the events' own; the old
-- first_lookup_at it keeps in prev_first_lookup_at is NULL, which that function
-- already reads as "the session was not counted before"; and the row carries
-- submitted_at, so the session goes to _analytics_journey_change as a submitted
-- one. Nothing on the events' insert path changes, so its cost does not either.
--
-- Concurrent writers: a job and the first events of a session at once now meet
-- on the row's primary key, whichever comes first: the second waits for the
-- first to commit and then updates the row it left (the prev_* columns of
-- 20261129000100 carry the old figures). Before, neither saw the other's
-- uncommitted row and both wrote as if alone (test/servers/rollup-concurrency.test.ts).
ALTER TABLE public.analytics_lookup_sessions
  ALTER COLUMN first_lookup_at DROP NOT NULL,
  ALTER COLUMN last_lookup_at DROP NOT NULL;
COMMENT ON COLUMN public.analytics_lookup_sessions.first_lookup_at IS
  'NULL while the session has a job and no lookup event yet (lookups = 0): such a row counts in no journey.';

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
  IF NOT EXISTS (SELECT FROM new_jobs n WHERE n.session_id IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  WITH submitted AS (
    INSERT INTO public.analytics_lookup_sessions AS s
      (session_id, first_lookup_at, last_lookup_at, lookups, failures, fallbacks, troubled_slugs, submitted_at)
    SELECT n.session_id, NULL, NULL, 0, 0, 0, '{}', pg_catalog.min(n.created_at)
    FROM new_jobs n
    WHERE n.session_id IS NOT NULL
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
REVOKE EXECUTE ON FUNCTION public.analytics_session_on_job() FROM PUBLIC, anon, authenticated;

-- Sessions stored before this migration whose journey missed their job, or took
-- a later one (its job came first; a second job then set submitted_at): each
-- takes its first job's time, and its journey moves as a job would move it.
-- One pass over jobs grouped by session: measured on PostgreSQL 15 with its
-- default work_mem, 1.6 s at one million jobs and 20 s at ten million (five
-- million sessions among them, 625,000 with lookups). The ALTER TABLE above holds
-- analytics_lookup_sessions until the migration commits, so event and job inserts
-- (their triggers write it) wait that long: apply it at a quiet time on a large
-- project. Sessions with jobs but no lookup event get no row here: an event
-- arriving for one of them later (a session of the past) counts it unsubmitted,
-- as before.
DO $repair$
DECLARE
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
BEGIN
  WITH fixed AS (
    UPDATE public.analytics_lookup_sessions s
    SET prev_submitted_at = s.submitted_at, submitted_at = j.first_at
    FROM (SELECT jb.session_id, pg_catalog.min(jb.created_at) AS first_at
          FROM public.jobs jb WHERE jb.session_id IS NOT NULL GROUP BY jb.session_id) j
    WHERE s.session_id = j.session_id AND s.submitted_at IS DISTINCT FROM j.first_at
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
