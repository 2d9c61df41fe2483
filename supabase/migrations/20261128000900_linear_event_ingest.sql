-- Linear event ingest, whatever the planner believes about the tables.
--
-- The triggers on the insert path of analytics_events and jobs run their queries
-- through PL/pgSQL, which caches each query's plan for the life of the
-- connection (a generic plan after five executions, or at once when the query
-- has no parameters), planned for the table as it was then. On tables analysed
-- while empty (autovacuum, or `doctor`'s advice, on a fresh project) that plan is
-- a sequential scan, and it stays one while the table grows under it, within one
-- statement and across the statements of a connection: every row scanned the
-- rows before it, and a million-event import took hours.
--
-- Here every query on that path reads the persistent tables only by key: the
-- event's id (the duplicate check), or `key = ANY (the statement's keys)` (the
-- sessions a statement touches), with sequential and bitmap scans disabled for
-- the function, so an index probe per key is the only plan the planner has. What
-- remains is linear in the rows of the statement: aggregates over the trigger's
-- transition table, upserts whose conflicts are found through the primary key,
-- and joins between the statement's own rows, hashed (nested loops are disabled
-- where a join could meet two statement-sized inputs). JIT is off for these
-- functions: a cached plan would otherwise keep the JIT decision made for the
-- first, possibly huge, statement for every later batch of ten.
--
-- The rollup triggers also do less per statement: static SQL (plans cached,
-- not parsed and planned on every statement as EXECUTE did), and the sessions'
-- journey figures changed in one pass from their rows before and after the
-- change (the before rows read by key, the after rows from RETURNING), instead
-- of removing and re-adding each session by re-reading the sessions table.

-- The duplicate-skip check: the same query, always an index probe of the primary key.
CREATE OR REPLACE FUNCTION public.skip_duplicate_uuid_lookup_event()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM public.analytics_events e WHERE e.id = NEW.id) THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION public.skip_duplicate_uuid_lookup_event() FROM PUBLIC, anon, authenticated;

-- Changes the journey figures by the sessions' rows after a change minus their
-- rows before it (p_before: the rows as they were, p_after: as they are now; a
-- new session is only in p_after). Reads no table: linear in the sessions given.
-- Groups whose figures do not change are not written. Called by the trigger
-- functions below, which run as the owner (no SECURITY DEFINER needed here).
CREATE OR REPLACE FUNCTION public._analytics_journey_change(
  p_before public.analytics_lookup_sessions[],
  p_after public.analytics_lookup_sessions[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
SET jit = off
AS $$
BEGIN
  INSERT INTO public.analytics_journey_daily AS d (day, troubled, sessions, submitted, submit_buckets)
  SELECT g.day, g.troubled, g.sessions, g.submitted, g.submit_buckets
  FROM (
    SELECT c.day, c.troubled, pg_catalog.sum(c.sign) AS sessions,
           COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b IS NOT NULL), 0) AS submitted,
           ARRAY[COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 1), 0), COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 2), 0), COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 3), 0),
                 COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 4), 0), COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 5), 0), COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 6), 0),
                 COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 7), 0), COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 8), 0), COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.b = 9), 0)] AS submit_buckets
    FROM (SELECT s.sign, (s.first_lookup_at AT TIME ZONE 'UTC')::date AS day, s.failures > 0 OR s.fallbacks > 0 AS troubled,
                 CASE WHEN s.submitted_at IS NULL THEN NULL
                      ELSE 1 + (SELECT pg_catalog.count(*)::integer
                                FROM pg_catalog.unnest(ARRAY[10, 30, 60, 120, 300, 600, 1800, 3600]::numeric[]) AS x
                                WHERE extract(epoch FROM s.submitted_at - s.first_lookup_at) > x) END AS b
          FROM (SELECT 1 AS sign, a.first_lookup_at, a.failures, a.fallbacks, a.submitted_at FROM pg_catalog.unnest(p_after) AS a
                UNION ALL
                SELECT -1, o.first_lookup_at, o.failures, o.fallbacks, o.submitted_at FROM pg_catalog.unnest(p_before) AS o) s) c
    GROUP BY c.day, c.troubled) g
  WHERE g.sessions <> 0 OR g.submitted <> 0 OR g.submit_buckets <> ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0]::bigint[]
  ON CONFLICT (day, troubled) DO UPDATE SET
    sessions = d.sessions + excluded.sessions,
    submitted = d.submitted + excluded.submitted,
    submit_buckets = ARRAY(SELECT a + b FROM unnest(d.submit_buckets, excluded.submit_buckets) AS u (a, b));

  INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions, submitted)
  SELECT g.day, g.micro_slug, g.sessions, g.submitted
  FROM (
    SELECT (s.first_lookup_at AT TIME ZONE 'UTC')::date AS day, slug AS micro_slug,
           pg_catalog.sum(s.sign) AS sessions,
           COALESCE(pg_catalog.sum(s.sign) FILTER (WHERE s.submitted_at IS NOT NULL), 0) AS submitted
    FROM (SELECT 1 AS sign, a.first_lookup_at, a.troubled_slugs, a.submitted_at FROM pg_catalog.unnest(p_after) AS a
          UNION ALL
          SELECT -1, o.first_lookup_at, o.troubled_slugs, o.submitted_at FROM pg_catalog.unnest(p_before) AS o) s,
         pg_catalog.unnest(s.troubled_slugs) AS slug
    GROUP BY 1, 2) g
  WHERE g.sessions <> 0 OR g.submitted <> 0
  ON CONFLICT (day, micro_slug) DO UPDATE SET
    sessions = d.sessions + excluded.sessions,
    submitted = d.submitted + excluded.submitted;
END
$$;
REVOKE EXECUTE ON FUNCTION public._analytics_journey_change(public.analytics_lookup_sessions[], public.analytics_lookup_sessions[])
  FROM PUBLIC, anon, authenticated;

-- The rollups of inserted events, per statement. The hourly and session upserts
-- are the statements _analytics_rollup_sql and _analytics_sessions_sql generate
-- (one source for both, the retention delete and the backfill), written into
-- the function as static SQL when this migration runs.
DO $rollup_on_insert$
BEGIN
  EXECUTE pg_catalog.format($definition$
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET enable_seqscan = off
SET enable_bitmapscan = off
SET jit = off
AS $body$
DECLARE
  v_sessions text[];
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
BEGIN
  -- Per hour and region (public._analytics_rollup_sql('new_events', 1)):
  %1$s;

  -- Per session: the touched sessions' rows before (by key), the upsert, their rows after.
  v_sessions := ARRAY(SELECT DISTINCT n.session_id FROM new_events n
                      WHERE n.event_name = 'uuid_lookup' AND n.session_id IS NOT NULL);
  IF pg_catalog.cardinality(v_sessions) = 0 THEN
    RETURN NULL;
  END IF;
  v_before := ARRAY(SELECT s FROM public.analytics_lookup_sessions s WHERE s.session_id = ANY (v_sessions));
  -- public._analytics_sessions_sql('new_events'):
  WITH upserted AS (%2$s
    RETURNING s)
  SELECT pg_catalog.array_agg(u.s) INTO v_after FROM upserted u;

  PERFORM public._analytics_journey_change(v_before, v_after);
  RETURN NULL;
END
$body$
$definition$,
    public._analytics_rollup_sql('new_events', 1),
    public._analytics_sessions_sql('new_events'));
END
$rollup_on_insert$;
REVOKE EXECUTE ON FUNCTION public.analytics_rollup_on_insert() FROM PUBLIC, anon, authenticated;

-- A job submitted in a wizard session closes that session's journey. The sessions
-- table is reached only through `session_id = ANY (the statement's sessions)`;
-- the join with the statement's jobs is hashed, never a nested loop of the two.
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
  v_before := ARRAY(SELECT s FROM public.analytics_lookup_sessions s WHERE s.session_id = ANY (v_sessions));
  WITH submitted AS (
    UPDATE public.analytics_lookup_sessions s
    SET submitted_at = LEAST(COALESCE(s.submitted_at, j.first_at), j.first_at)
    FROM (SELECT n.session_id, pg_catalog.min(n.created_at) AS first_at
          FROM new_jobs n WHERE n.session_id IS NOT NULL GROUP BY n.session_id) j
    WHERE s.session_id = j.session_id AND s.session_id = ANY (v_sessions)
    RETURNING s)
  SELECT pg_catalog.array_agg(u.s) INTO v_after FROM submitted u;
  PERFORM public._analytics_journey_change(v_before, v_after);
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION public.analytics_session_on_job() FROM PUBLIC, anon, authenticated;
