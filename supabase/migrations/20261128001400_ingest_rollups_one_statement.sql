-- Event ingest with fewer and cheaper statements on the insert path (issue 13:
-- at least 0.7x the trigger-free insert rate, batches of 10 and 500).
--
-- Measured before this migration (`STATES=b npm run bench:ingest`, PostgreSQL 15):
-- with every trigger, 0.52x the trigger-free events/s in batches of 10 and
-- 0.62x in batches of 500. Where the time went (pg_stat_user_functions, perf, and
-- instruction counts of a single-user backend under callgrind), per statement of 10:
-- * the per-service rollup (20261128001300) was a second statement trigger whose
--   SQL-language helper, not inlinable (it sets search_path), was parsed and
--   planned again in every transaction: about a third of all trigger time;
-- * the journey figures' submit-time bucket was a scalar subquery inside a
--   subquery that the planner flattens into each of the ten aggregates reading
--   it: ten copies of the subplan, each initialised for every statement;
-- * the hourly latency histogram was 13 FILTERed aggregates, each parsing the
--   lookup time from the JSON again, and the upserts merged arrays with a
--   subquery each;
-- * every statement run by a trigger pays for its plan's executor start-up,
--   whatever its row count: six statements (two functions) per insert.
-- So now the rollups of an insert are one statement: each event's fields are
-- read from the JSON once (a materialised CTE), the hourly figures per region
-- and per service, the sessions before and after, and the journey changes are
-- data-modifying CTEs of it. Histogram buckets are a CASE over the parsed value;
-- bucket counts come from one array_agg (array_positions), not one aggregate per
-- bucket; array sums are written out element by element. Same figures, exactly:
-- the tests compare every rollup with the raw events after inserts, later events,
-- jobs and deletes.
--
-- The statement sees one snapshot: the sessions read as "before" are the rows
-- as they were before this statement's upsert, as the separate read did.
-- Every read of a persistent table is still by key (`= ANY (the statement's
-- keys)`, sequential and bitmap scans off), and joins between statement-sized
-- inputs are hashed (nested loops off): linear whatever the statistics say
-- (20261128000900; test/db/linear-ingest.suite.ts).
--
-- The delete path (retention) is generated from the same statement parts with
-- the opposite sign, so the hourly and per-service figures have one definition.
-- The duplicate skip reads the primary key with PERFORM instead of IF EXISTS (a
-- plain index-only scan, no result node with an init plan to start per row).

-- The duplicate-skip check: one primary-key probe per event.
CREATE OR REPLACE FUNCTION public.skip_duplicate_uuid_lookup_event()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
  PERFORM FROM public.analytics_events e WHERE e.id = NEW.id;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION public.skip_duplicate_uuid_lookup_event() FROM PUBLIC, anon, authenticated;

-- The per-service rollup joins the insert and delete functions below.
DROP TRIGGER IF EXISTS analytics_service_rollup_insert ON public.analytics_events;
DROP TRIGGER IF EXISTS analytics_service_rollup_delete ON public.analytics_events;
DROP FUNCTION IF EXISTS public.analytics_service_rollup();
DROP FUNCTION IF EXISTS public._analytics_service_rollup_add(timestamptz[], text[], bigint[], bigint[], bigint[], numeric[], integer);

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
  -- the SDK's bucket boundaries). %1$s: the sign, 1 or -1.
  v_hourly constant text := $sql$
    INSERT INTO public.analytics_lookup_hourly AS h (bucket, region, lookups, failures, fallbacks, total_ms, duration_buckets)
    SELECT g.bucket, g.region, %1$s * g.lookups, %1$s * g.failures, %1$s * g.fallbacks, %1$s * g.total_ms,
           ARRAY[%1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 1)), %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 2)),
                 %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 3)), %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 4)),
                 %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 5)), %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 6)),
                 %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 7)), %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 8)),
                 %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 9)), %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 10)),
                 %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 11)), %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 12)),
                 %1$s * pg_catalog.cardinality(pg_catalog.array_positions(g.b, 13))]::bigint[]
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
  -- counts as __unknown__. The services are read by key, each slug once.
  v_service constant text := $sql$
    INSERT INTO public.analytics_lookup_service_hourly AS h (bucket, micro_slug, lookups, successful, fallbacks, total_ms)
    SELECT ev.bucket, CASE WHEN k.slug IS NULL THEN '__unknown__' ELSE ev.slug END,
           %1$s * pg_catalog.count(*), %1$s * pg_catalog.count(*) FILTER (WHERE ev.ok),
           %1$s * pg_catalog.count(*) FILTER (WHERE ev.fb), %1$s * pg_catalog.sum(ev.ms)
    FROM ev
    LEFT JOIN (SELECT DISTINCT ms.slug FROM public.micro_services ms
               WHERE ms.slug = ANY (ARRAY(SELECT ev.slug FROM ev))) k ON k.slug = ev.slug
    GROUP BY 1, 2
    ON CONFLICT (bucket, micro_slug) DO UPDATE SET
      lookups = h.lookups + excluded.lookups,
      successful = h.successful + excluded.successful,
      fallbacks = h.fallbacks + excluded.fallbacks,
      total_ms = h.total_ms + excluded.total_ms$sql$;
  -- Sessions' rows before (sign -1) and after (sign 1) a change, as the journey
  -- figures count them: the day of the first lookup, troubled or clean, the
  -- submit-time bucket (seconds from the first lookup to the submission, at most
  -- 10, 30, 60, 120, 300, 600, 1800, 3600, and above), the troubled slugs.
  -- %1$s and %2$s: relations of analytics_lookup_sessions rows before and after.
  v_changed constant text := $sql$
    SELECT x.sign, (x.first_lookup_at AT TIME ZONE 'UTC')::date AS day, x.failures > 0 OR x.fallbacks > 0 AS troubled,
           x.submitted_at, x.troubled_slugs,
           CASE WHEN x.submitted_at IS NULL THEN NULL
                WHEN x.wait <= 10 THEN 1 WHEN x.wait <= 30 THEN 2 WHEN x.wait <= 60 THEN 3 WHEN x.wait <= 120 THEN 4
                WHEN x.wait <= 300 THEN 5 WHEN x.wait <= 600 THEN 6 WHEN x.wait <= 1800 THEN 7 WHEN x.wait <= 3600 THEN 8
                ELSE 9 END AS b
    FROM (SELECT 1 AS sign, a.first_lookup_at, a.failures, a.fallbacks, a.submitted_at, a.troubled_slugs,
                 extract(epoch FROM a.submitted_at - a.first_lookup_at) AS wait
          FROM %2$s a
          UNION ALL
          SELECT -1, o.first_lookup_at, o.failures, o.fallbacks, o.submitted_at, o.troubled_slugs,
                 extract(epoch FROM o.submitted_at - o.first_lookup_at)
          FROM %1$s o) x$sql$;
  -- The journey figures changed by the rows of `changed`; groups whose figures
  -- do not change are not written.
  v_journey constant text := $sql$
    INSERT INTO public.analytics_journey_daily AS d (day, troubled, sessions, submitted, submit_buckets)
    SELECT j.day, j.troubled, j.sessions, j.submitted, j.submit_buckets
    FROM (SELECT g.day, g.troubled, g.sessions, g.submitted,
                 ARRAY[pg_catalog.cardinality(pg_catalog.array_positions(g.b, 1)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -1)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 2)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -2)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 3)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -3)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 4)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -4)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 5)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -5)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 6)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -6)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 7)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -7)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 8)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -8)),
                       pg_catalog.cardinality(pg_catalog.array_positions(g.b, 9)) - pg_catalog.cardinality(pg_catalog.array_positions(g.b, -9))]::bigint[]
                   AS submit_buckets
          FROM (SELECT c.day, c.troubled, pg_catalog.sum(c.sign) AS sessions,
                       COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b IS NOT NULL), 0) AS submitted,
                       -- Each row's bucket with its sign: +b added, -b removed.
                       pg_catalog.array_agg(c.sign * c.b) AS b
                FROM changed c
                GROUP BY c.day, c.troubled) g) j
    WHERE j.sessions <> 0 OR j.submitted <> 0 OR j.submit_buckets <> ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0]::bigint[]
    ON CONFLICT (day, troubled) DO UPDATE SET
      sessions = d.sessions + excluded.sessions,
      submitted = d.submitted + excluded.submitted,
      submit_buckets = ARRAY[
        d.submit_buckets[1] + excluded.submit_buckets[1], d.submit_buckets[2] + excluded.submit_buckets[2],
        d.submit_buckets[3] + excluded.submit_buckets[3], d.submit_buckets[4] + excluded.submit_buckets[4],
        d.submit_buckets[5] + excluded.submit_buckets[5], d.submit_buckets[6] + excluded.submit_buckets[6],
        d.submit_buckets[7] + excluded.submit_buckets[7], d.submit_buckets[8] + excluded.submit_buckets[8],
        d.submit_buckets[9] + excluded.submit_buckets[9]]$sql$;
  v_journey_slug constant text := $sql$
    INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions, submitted)
    SELECT g.day, g.micro_slug, g.sessions, g.submitted
    FROM (SELECT c.day, slug AS micro_slug, pg_catalog.sum(c.sign) AS sessions,
                 COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.submitted_at IS NOT NULL), 0) AS submitted
          FROM changed c, pg_catalog.unnest(c.troubled_slugs) AS slug
          GROUP BY 1, 2) g
    WHERE g.sessions <> 0 OR g.submitted <> 0
    ON CONFLICT (day, micro_slug) DO UPDATE SET
      sessions = d.sessions + excluded.sessions,
      submitted = d.submitted + excluded.submitted$sql$;
BEGIN
  -- Inserted events: one statement for every rollup.
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
BEGIN
  %1$s, hourly AS (%2$s
  ), service AS (%3$s
  ), before AS (
    -- The touched sessions as they were: this statement's snapshot does not see its own upsert.
    SELECT s.first_lookup_at, s.failures, s.fallbacks, s.submitted_at, s.troubled_slugs
    FROM public.analytics_lookup_sessions s
    WHERE s.session_id = ANY (ARRAY(SELECT ev.session_id FROM ev WHERE ev.session_id IS NOT NULL))
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
                        FROM pg_catalog.unnest(s.troubled_slugs || excluded.troubled_slugs) AS x)
    RETURNING s.first_lookup_at, s.failures, s.fallbacks, s.submitted_at, s.troubled_slugs
  ), changed AS (%4$s
  ), journey AS (%5$s
  )%6$s;
  RETURN NULL;
END
$body$
$definition$,
    pg_catalog.format(v_events, 'new_events'),
    pg_catalog.format(v_hourly, 1),
    pg_catalog.format(v_service, 1),
    pg_catalog.format(v_changed, 'before', 'after'),
    v_journey,
    v_journey_slug);

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
    pg_catalog.format(v_hourly, -1),
    pg_catalog.format(v_service, -1));

  -- Jobs (analytics_session_on_job) change the journey figures through this one,
  -- with the same statements.
  EXECUTE pg_catalog.format($definition$
CREATE OR REPLACE FUNCTION public._analytics_journey_change(
  p_before public.analytics_lookup_sessions[],
  p_after public.analytics_lookup_sessions[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
SET jit = off
AS $body$
BEGIN
  WITH changed AS (%1$s
  ), journey AS (%2$s
  )%3$s;
END
$body$
$definition$,
    pg_catalog.format(v_changed, 'pg_catalog.unnest(p_before)', 'pg_catalog.unnest(p_after)'),
    v_journey,
    v_journey_slug);
END
$rollup_functions$;

-- The triggers of 20261128000800 call these functions; the per-service rollup's
-- own triggers are gone (above).
REVOKE EXECUTE ON FUNCTION
  public.analytics_rollup_on_insert(),
  public.analytics_rollup_on_delete(),
  public._analytics_journey_change(public.analytics_lookup_sessions[], public.analytics_lookup_sessions[])
  FROM PUBLIC, anon, authenticated;
