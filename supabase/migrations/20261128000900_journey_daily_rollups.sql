-- Journeys per day, so the journey reports read a few hundred rows instead of
-- every session (625,000 sessions took 250-280 ms; see bench/analytics.bench.ts).
-- Kept exact by the triggers that change sessions: each change to a session
-- removes its old contribution and adds its new one, set-based per statement.

CREATE TABLE IF NOT EXISTS public.analytics_journey_daily (
  day         date    NOT NULL,
  troubled    boolean NOT NULL,
  sessions    bigint  NOT NULL DEFAULT 0,
  submitted   bigint  NOT NULL DEFAULT 0,
  -- Submitted sessions by seconds from first lookup to submission: at most 10,
  -- 30, 60, 120, 300, 600, 1800, 3600, and above (9 buckets).
  submit_buckets bigint[] NOT NULL DEFAULT '{0,0,0,0,0,0,0,0,0}',
  PRIMARY KEY (day, troubled)
);

CREATE TABLE IF NOT EXISTS public.analytics_journey_slug_daily (
  day         date NOT NULL,
  micro_slug  text NOT NULL,
  sessions    bigint NOT NULL DEFAULT 0,
  submitted   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, micro_slug)
);

-- Adds (sign 1) or removes (sign -1) the current contribution of the given
-- sessions, set-based: the rollup trigger calls it with -1 before it changes
-- those sessions and with +1 after, so the daily figures follow every change.
CREATE OR REPLACE FUNCTION public._analytics_journey_apply(p_session_ids text[], v_sign integer)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  INSERT INTO public.analytics_journey_daily AS d (day, troubled, sessions, submitted, submit_buckets)
  SELECT day, troubled, v_sign * pg_catalog.count(*), v_sign * pg_catalog.count(submitted_at),
         ARRAY[v_sign * pg_catalog.count(*) FILTER (WHERE b = 1), v_sign * pg_catalog.count(*) FILTER (WHERE b = 2), v_sign * pg_catalog.count(*) FILTER (WHERE b = 3), v_sign * pg_catalog.count(*) FILTER (WHERE b = 4), v_sign * pg_catalog.count(*) FILTER (WHERE b = 5), v_sign * pg_catalog.count(*) FILTER (WHERE b = 6), v_sign * pg_catalog.count(*) FILTER (WHERE b = 7), v_sign * pg_catalog.count(*) FILTER (WHERE b = 8), v_sign * pg_catalog.count(*) FILTER (WHERE b = 9)]
  FROM (SELECT (s.first_lookup_at AT TIME ZONE 'UTC')::date AS day, s.failures > 0 OR s.fallbacks > 0 AS troubled, s.submitted_at,
               CASE WHEN s.submitted_at IS NULL THEN NULL
                    ELSE 1 + (SELECT pg_catalog.count(*)::integer
                              FROM pg_catalog.unnest(ARRAY[10, 30, 60, 120, 300, 600, 1800, 3600]::numeric[]) AS x
                              WHERE extract(epoch FROM s.submitted_at - s.first_lookup_at) > x) END AS b
        FROM public.analytics_lookup_sessions s
        WHERE s.session_id = ANY (p_session_ids)) c
  GROUP BY day, troubled
  ON CONFLICT (day, troubled) DO UPDATE SET
    sessions = d.sessions + excluded.sessions,
    submitted = d.submitted + excluded.submitted,
    submit_buckets = ARRAY(SELECT a + b FROM unnest(d.submit_buckets, excluded.submit_buckets) AS u (a, b));

  INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions, submitted)
  SELECT (s.first_lookup_at AT TIME ZONE 'UTC')::date, slug, v_sign * pg_catalog.count(*), v_sign * pg_catalog.count(s.submitted_at)
  FROM public.analytics_lookup_sessions s, pg_catalog.unnest(s.troubled_slugs) AS slug
  WHERE s.session_id = ANY (p_session_ids)
  GROUP BY 1, 2
  ON CONFLICT (day, micro_slug) DO UPDATE SET
    sessions = d.sessions + excluded.sessions,
    submitted = d.submitted + excluded.submitted;
END
$$;

-- The session rollup's writers, now also keeping the daily journeys: the
-- events trigger (new lookups) and the jobs trigger (submissions).
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_sessions text[] := ARRAY(SELECT DISTINCT n.session_id FROM new_events n
                             WHERE n.event_name = 'uuid_lookup' AND n.session_id IS NOT NULL);
BEGIN
  EXECUTE public._analytics_rollup_sql('new_events', 1);
  PERFORM public._analytics_journey_apply(v_sessions, -1);
  EXECUTE public._analytics_sessions_sql('new_events');
  PERFORM public._analytics_journey_apply(v_sessions, 1);
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.analytics_session_on_job()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_sessions text[] := ARRAY(SELECT DISTINCT n.session_id FROM new_jobs n WHERE n.session_id IS NOT NULL);
BEGIN
  PERFORM public._analytics_journey_apply(v_sessions, -1);
  UPDATE public.analytics_lookup_sessions s
  SET submitted_at = LEAST(COALESCE(s.submitted_at, j.first_at), j.first_at)
  FROM (SELECT n.session_id, pg_catalog.min(n.created_at) AS first_at
        FROM new_jobs n WHERE n.session_id IS NOT NULL GROUP BY n.session_id) j
  WHERE s.session_id = j.session_id;
  PERFORM public._analytics_journey_apply(v_sessions, 1);
  RETURN NULL;
END
$$;

-- Backfill from the sessions already there (none on a new database).
DO $backfill$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.analytics_journey_daily) THEN
    PERFORM public._analytics_journey_apply(ARRAY(SELECT session_id FROM public.analytics_lookup_sessions), 1);
  END IF;
END
$backfill$;

ALTER TABLE public.analytics_journey_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.analytics_journey_slug_daily ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_journey_daily, public.analytics_journey_slug_daily FROM anon, authenticated;
GRANT SELECT ON public.analytics_journey_daily, public.analytics_journey_slug_daily TO uuid_lookup_reader, service_role;
DROP POLICY IF EXISTS analytics_journey_daily_read_monitoring ON public.analytics_journey_daily;
CREATE POLICY analytics_journey_daily_read_monitoring ON public.analytics_journey_daily FOR SELECT TO uuid_lookup_reader USING (true);
DROP POLICY IF EXISTS analytics_journey_slug_daily_read_monitoring ON public.analytics_journey_slug_daily;
CREATE POLICY analytics_journey_slug_daily_read_monitoring ON public.analytics_journey_slug_daily FOR SELECT TO uuid_lookup_reader USING (true);
REVOKE EXECUTE ON FUNCTION public._analytics_journey_apply(text[], integer) FROM PUBLIC, anon, authenticated;
