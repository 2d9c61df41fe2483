-- A lighter rollup statement on the insert path (issue 13: events/s with the
-- triggers at least 0.7x the trigger-free rate, batches of 10 and 500).
--
-- After 20261128001500 the rollup trigger was still about a third of the server's
-- work for a statement of 10 events. Measured by instruction counts (valgrind's
-- callgrind, a single-user backend inserting 400 statements of 10 events as
-- bench:ingest does, instructions inside the trigger function per statement):
--   the statement as 20261128001400 wrote it    2.00 M
--   this migration                              1.63 M  (-18 %)
-- Where the 2.00 M went, measured by leaving out one part at a time: the hourly
-- rollup per region 0.73 M (its latency histogram 0.34 M), the sessions and
-- journeys 0.89 M (the submit-time buckets 0.24 M), per service 0.25 M.
-- For a statement of 10 the cost is mostly the executor's start-up of the plan
-- (every aggregate, function call and subscript in it is set up again for each
-- statement), not the rows. The changes:
--
-- * The journey figures' submit-time buckets (18 array_positions calls and 9
--   merged array elements per group; 0.24 M). An event cannot change whether a
--   session was submitted or when: only jobs do (analytics_session_on_job). So a
--   session that has no job moves only its session count; the statement now
--   handles those sessions with counts alone. Sessions that already have a job
--   (an event arriving after the submission: rare) go, before and after the
--   change, to _analytics_journey_change, the function the job trigger uses, so
--   their submitted count and bucket move as before. Each touched session's
--   before and after rows are counted once, by one path or the other.
-- * Unknown slugs for the per-service rollup were found by a join with a
--   DISTINCT subquery over micro_services (slug is unique there); now an EXISTS
--   probe of micro_services_slug_key per event (0.05 M).
-- * The sign of the figures was a multiplication (1 * or -1 *) set up for each of
--   21 figures; now it is written into the statement: nothing, or a minus (0.03 M).
--
-- Concurrent writers of one session. The journeys need each touched session's row
-- before and after the write. It was read before the write, with the statement's
-- snapshot; when another transaction (two overlapping batches of a new session, a
-- job and a late event) changed the row and committed in between, the write
-- waited and changed the newer row, but the journeys subtracted the older one: off
-- by a session (test/servers/rollup-concurrency.test.ts, three cases, all failing
-- before this migration). Now the write itself keeps what it replaced in the row
-- (prev_first_lookup_at, prev_failures, prev_fallbacks, prev_troubled_slugs on the
-- events' upsert; prev_submitted_at on the jobs' UPDATE) and returns it: "before" is
-- the row the write changed, whatever committed in between. The separate read of
-- the sessions is gone from the insert path too.
--
-- Tried and not kept: a PL/pgSQL helper for the histogram (0.02 M less, not
-- worth a function), counting buckets with 13 FILTERed aggregates (0.38 M more),
-- packing the counts into one numeric sum (the trigger 2.8 times as costly:
-- unpacking it with a regular expression).
--
-- Day casts name pg_catalog.date: in a SECURITY DEFINER function an unqualified
-- type name that is not an SQL keyword (date, text, jsonb) is looked up in the
-- session's temporary schema first. Older functions still write ::date
-- (_analytics_journey_change among them): to be qualified.
--
-- The figures are unchanged, written one statement at a time (concurrent writers:
-- above): test/db/lookup-analytics.suite.ts and
-- test/db/linear-ingest.suite.ts compare every rollup with the raw events, after
-- batches, retries, later and earlier events, jobs, events after jobs, deletes.

-- The journeys' "before" is the row as the writer found it, kept in the row by the
-- write itself (see the insert function and analytics_session_on_job below).
ALTER TABLE public.analytics_lookup_sessions
  ADD COLUMN IF NOT EXISTS prev_first_lookup_at timestamptz,
  ADD COLUMN IF NOT EXISTS prev_failures bigint,
  ADD COLUMN IF NOT EXISTS prev_fallbacks bigint,
  ADD COLUMN IF NOT EXISTS prev_troubled_slugs text[],
  ADD COLUMN IF NOT EXISTS prev_submitted_at timestamptz;
COMMENT ON COLUMN public.analytics_lookup_sessions.prev_first_lookup_at IS
  'Set by the last write of the row to what it replaced (prev_*): the rollup triggers read the old figures from the row they changed.';

DO $rollup_functions$
DECLARE
  -- A statement's uuid_lookup events, each field read from the JSON once.
  -- %1$I: the trigger's transition table.
  v_events constant text := $sql$
  WITH ev AS MATERIALIZED (
    SELECT pg_catalog.date_trunc('hour', e.created_at) AS bucket, e.created_at, COALESCE(e.region, '') AS region,
           e.session_id, e.event_properties ->> 'micro_slug' AS slug,
           (e.event_properties ->> 'success')::boolean AS ok,
           (e.event_properties ->> 'fallback_used')::boolean AS fb,
           (e.event_properties ->> 'lookup_time_ms')::numeric AS ms
    FROM %1$I e
    WHERE e.event_name = 'uuid_lookup'
  )$sql$;
  -- Per hour and region: counts, sums and the latency histogram (lookups of at
  -- most 5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000 ms, and above:
  -- the SDK's bucket boundaries). %1$s: the sign, '' to add or '-' to remove
  -- (not a factor: a multiplication per figure is set up for every statement).
  v_hourly constant text := $sql$
    INSERT INTO public.analytics_lookup_hourly AS h (bucket, region, lookups, failures, fallbacks, total_ms, duration_buckets)
    SELECT g.bucket, g.region, %1$s g.lookups, %1$s g.failures, %1$s g.fallbacks, %1$s g.total_ms,
           ARRAY[%1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 1)), %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 2)),
                 %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 3)), %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 4)),
                 %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 5)), %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 6)),
                 %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 7)), %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 8)),
                 %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 9)), %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 10)),
                 %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 11)), %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 12)),
                 %1$s pg_catalog.cardinality(pg_catalog.array_positions(g.b, 13))]::bigint[]
    FROM (SELECT v.bucket, v.region, pg_catalog.count(*) AS lookups,
                 pg_catalog.count(*) FILTER (WHERE NOT v.ok) AS failures,
                 pg_catalog.count(*) FILTER (WHERE v.fb) AS fallbacks,
                 pg_catalog.sum(v.ms) AS total_ms,
                 pg_catalog.array_agg(v.b) AS b
          FROM (SELECT ev.bucket, ev.region, ev.ok, ev.fb, ev.ms,
                       CASE WHEN ev.ms IS NULL THEN NULL
                            WHEN ev.ms <= 5 THEN 1 WHEN ev.ms <= 10 THEN 2 WHEN ev.ms <= 25 THEN 3 WHEN ev.ms <= 50 THEN 4
                            WHEN ev.ms <= 75 THEN 5 WHEN ev.ms <= 100 THEN 6 WHEN ev.ms <= 250 THEN 7 WHEN ev.ms <= 500 THEN 8
                            WHEN ev.ms <= 1000 THEN 9 WHEN ev.ms <= 2500 THEN 10 WHEN ev.ms <= 5000 THEN 11
                            WHEN ev.ms <= 10000 THEN 12 ELSE 13 END AS b
                FROM ev) v
          GROUP BY 1, 2) g
    ON CONFLICT (bucket, region) DO UPDATE SET
      lookups = h.lookups + excluded.lookups,
      failures = h.failures + excluded.failures,
      fallbacks = h.fallbacks + excluded.fallbacks,
      total_ms = h.total_ms + excluded.total_ms,
      duration_buckets = ARRAY[
        h.duration_buckets[1] + excluded.duration_buckets[1], h.duration_buckets[2] + excluded.duration_buckets[2],
        h.duration_buckets[3] + excluded.duration_buckets[3], h.duration_buckets[4] + excluded.duration_buckets[4],
        h.duration_buckets[5] + excluded.duration_buckets[5], h.duration_buckets[6] + excluded.duration_buckets[6],
        h.duration_buckets[7] + excluded.duration_buckets[7], h.duration_buckets[8] + excluded.duration_buckets[8],
        h.duration_buckets[9] + excluded.duration_buckets[9], h.duration_buckets[10] + excluded.duration_buckets[10],
        h.duration_buckets[11] + excluded.duration_buckets[11], h.duration_buckets[12] + excluded.duration_buckets[12],
        h.duration_buckets[13] + excluded.duration_buckets[13]]$sql$;
  -- Per hour and service (20261128001300): a slug with no micro_services row
  -- counts as __unknown__; one probe of the unique slug index per event.
  v_service constant text := $sql$
    INSERT INTO public.analytics_lookup_service_hourly AS h (bucket, micro_slug, lookups, successful, fallbacks, total_ms)
    SELECT ev.bucket,
           CASE WHEN EXISTS (SELECT FROM public.micro_services ms WHERE ms.slug = ev.slug) THEN ev.slug ELSE '__unknown__' END,
           %1$s pg_catalog.count(*), %1$s pg_catalog.count(*) FILTER (WHERE ev.ok),
           %1$s pg_catalog.count(*) FILTER (WHERE ev.fb), %1$s pg_catalog.sum(ev.ms)
    FROM ev
    GROUP BY 1, 2
    ON CONFLICT (bucket, micro_slug) DO UPDATE SET
      lookups = h.lookups + excluded.lookups,
      successful = h.successful + excluded.successful,
      fallbacks = h.fallbacks + excluded.fallbacks,
      total_ms = h.total_ms + excluded.total_ms$sql$;
BEGIN
  -- Inserted events: one statement for the rollups, and the journey change of
  -- sessions that already have a job, when there are any.
  EXECUTE pg_catalog.format($definition$
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET jit = off
AS $body$
DECLARE
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
BEGIN
  %1$s, hourly AS (%2$s
  ), service AS (%3$s
  ), after AS (
    INSERT INTO public.analytics_lookup_sessions AS s
      (session_id, first_lookup_at, last_lookup_at, lookups, failures, fallbacks, troubled_slugs)
    SELECT ev.session_id, pg_catalog.min(ev.created_at), pg_catalog.max(ev.created_at), pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE NOT ev.ok),
           pg_catalog.count(*) FILTER (WHERE ev.fb),
           -- Slugs that failed or fell back in the session (distinct, at most 20).
           COALESCE((pg_catalog.array_agg(DISTINCT ev.slug) FILTER (WHERE NOT ev.ok OR ev.fb))[1:20], '{}')
    FROM ev
    WHERE ev.session_id IS NOT NULL
    GROUP BY ev.session_id
    ON CONFLICT (session_id) DO UPDATE SET
      first_lookup_at = LEAST(s.first_lookup_at, excluded.first_lookup_at),
      last_lookup_at = GREATEST(s.last_lookup_at, excluded.last_lookup_at),
      lookups = s.lookups + excluded.lookups,
      failures = s.failures + excluded.failures,
      fallbacks = s.fallbacks + excluded.fallbacks,
      troubled_slugs = (SELECT COALESCE((pg_catalog.array_agg(DISTINCT x))[1:20], '{}')
                        FROM pg_catalog.unnest(s.troubled_slugs || excluded.troubled_slugs) AS x),
      -- The row as this upsert found it (the right side reads the old row), for
      -- the journeys: NULL after an insert.
      prev_first_lookup_at = s.first_lookup_at,
      prev_failures = s.failures,
      prev_fallbacks = s.fallbacks,
      prev_troubled_slugs = s.troubled_slugs
    RETURNING s AS sess
  ), unsubmitted AS (
    -- Sessions with no job, after (+1) and, when the row was there, before (-1):
    -- only the session counts move, per day of the first lookup and troubled or clean.
    SELECT 1 AS sign, ((a.sess).first_lookup_at AT TIME ZONE 'UTC')::pg_catalog.date AS day,
           (a.sess).failures > 0 OR (a.sess).fallbacks > 0 AS troubled, (a.sess).troubled_slugs
    FROM after a
    WHERE (a.sess).submitted_at IS NULL
    UNION ALL
    SELECT -1, ((a.sess).prev_first_lookup_at AT TIME ZONE 'UTC')::pg_catalog.date,
           (a.sess).prev_failures > 0 OR (a.sess).prev_fallbacks > 0, (a.sess).prev_troubled_slugs
    FROM after a
    WHERE (a.sess).submitted_at IS NULL AND (a.sess).prev_first_lookup_at IS NOT NULL
  ), journey AS (
    INSERT INTO public.analytics_journey_daily AS d (day, troubled, sessions)
    SELECT u.day, u.troubled, pg_catalog.sum(u.sign)
    FROM unsubmitted u
    GROUP BY u.day, u.troubled
    HAVING pg_catalog.sum(u.sign) <> 0
    ON CONFLICT (day, troubled) DO UPDATE SET sessions = d.sessions + excluded.sessions
  ), journey_slug AS (
    INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions)
    SELECT u.day, slug, pg_catalog.sum(u.sign)
    FROM unsubmitted u, pg_catalog.unnest(u.troubled_slugs) AS slug
    GROUP BY 1, 2
    HAVING pg_catalog.sum(u.sign) <> 0
    ON CONFLICT (day, micro_slug) DO UPDATE SET sessions = d.sessions + excluded.sessions
  )
  -- Sessions that have a job: their rows before and after, for the full change.
  SELECT pg_catalog.array_agg(pg_catalog.jsonb_populate_record(a.sess, pg_catalog.jsonb_build_object(
           'first_lookup_at', (a.sess).prev_first_lookup_at, 'failures', (a.sess).prev_failures,
           'fallbacks', (a.sess).prev_fallbacks, 'troubled_slugs', (a.sess).prev_troubled_slugs)))
           FILTER (WHERE (a.sess).prev_first_lookup_at IS NOT NULL),
         pg_catalog.array_agg(a.sess)
  INTO v_before, v_after
  FROM after a
  WHERE (a.sess).submitted_at IS NOT NULL;
  -- A session in v_before is in v_after too.
  IF v_after IS NOT NULL THEN
    PERFORM public._analytics_journey_change(COALESCE(v_before, '{}'), COALESCE(v_after, '{}'));
  END IF;
  RETURN NULL;
END
$body$
$definition$,
    pg_catalog.format(v_events, 'new_events'),
    pg_catalog.format(v_hourly, ''),
    pg_catalog.format(v_service, ''));

  -- Deleted events (retention): the hourly and per-service figures shrink with
  -- them; sessions keep their history.
  EXECUTE pg_catalog.format($definition$
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_delete()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET jit = off
AS $body$
BEGIN
  %1$s, hourly AS (%2$s
  )%3$s;
  RETURN NULL;
END
$body$
$definition$,
    pg_catalog.format(v_events, 'old_events'),
    pg_catalog.format(v_hourly, '-'),
    pg_catalog.format(v_service, '-'));
END
$rollup_functions$;

-- A job submitted in a wizard session closes that session's journey
-- (20261128000900, the same statements): the row's old submitted_at now comes
-- from the UPDATE itself, not from a read before it.
CREATE OR REPLACE FUNCTION public.analytics_session_on_job()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET jit = off
AS $$
DECLARE
  v_sessions text[] := ARRAY(SELECT DISTINCT n.session_id FROM new_jobs n WHERE n.session_id IS NOT NULL);
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
BEGIN
  IF pg_catalog.cardinality(v_sessions) = 0 THEN
    RETURN NULL;
  END IF;
  WITH submitted AS (
    UPDATE public.analytics_lookup_sessions s
    SET prev_submitted_at = s.submitted_at,
        submitted_at = LEAST(COALESCE(s.submitted_at, j.first_at), j.first_at)
    FROM (SELECT n.session_id, pg_catalog.min(n.created_at) AS first_at
          FROM new_jobs n WHERE n.session_id IS NOT NULL GROUP BY n.session_id) j
    WHERE s.session_id = j.session_id AND s.session_id = ANY (v_sessions)
    RETURNING s AS sess, s.prev_submitted_at)
  SELECT pg_catalog.array_agg(pg_catalog.jsonb_populate_record(u.sess, pg_catalog.jsonb_build_object('submitted_at', u.prev_submitted_at))),
         pg_catalog.array_agg(u.sess)
  INTO v_before, v_after
  FROM submitted u;
  PERFORM public._analytics_journey_change(COALESCE(v_before, '{}'), COALESCE(v_after, '{}'));
  RETURN NULL;
END
$$;

REVOKE EXECUTE ON FUNCTION public.analytics_rollup_on_insert(), public.analytics_rollup_on_delete(),
  public.analytics_session_on_job() FROM PUBLIC, anon, authenticated;
