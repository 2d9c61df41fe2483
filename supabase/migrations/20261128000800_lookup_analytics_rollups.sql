-- Phase 6 "Advanced Analytics": lookup patterns by time of day, by region, and
-- user journeys. Over months of events the raw table is too big to scan per
-- report, so two rollups are kept exact by triggers, in the same transaction as
-- the events they count:
-- * analytics_lookup_hourly: per hour and region: counts, sums and a latency
--   histogram (for percentiles). Not per slug: 30 days x regions stay a few
--   thousand rows, which is what keeps every report under 200 ms at 5M events
--   (the per-slug figures are the spec's lookup-performance query);
-- * analytics_lookup_sessions: per wizard session: its lookups, failures,
--   fallbacks, and when (if) it submitted a job;
-- * analytics_journey_daily and analytics_journey_slug_daily: the sessions per
--   day (clean or troubled, submitted, time to submit; per troubled slug), so the
--   journey reports read a few hundred rows, not every session. The writers of
--   the session rollup subtract the sessions they change and add them back after,
--   one set-based statement each.
-- Backfilled here from what analytics_events already holds.

CREATE TABLE IF NOT EXISTS public.analytics_lookup_hourly (
  bucket        timestamptz NOT NULL,
  region        text        NOT NULL DEFAULT '',
  lookups       bigint      NOT NULL DEFAULT 0,
  failures      bigint      NOT NULL DEFAULT 0,
  fallbacks     bigint      NOT NULL DEFAULT 0,
  total_ms      numeric     NOT NULL DEFAULT 0,
  -- Counts of lookups at most 5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000,
  -- 10000 ms, and above (13 buckets): the SDK's histogram boundaries.
  duration_buckets bigint[] NOT NULL DEFAULT '{0,0,0,0,0,0,0,0,0,0,0,0,0}',
  PRIMARY KEY (bucket, region)
);

CREATE TABLE IF NOT EXISTS public.analytics_lookup_sessions (
  session_id      text PRIMARY KEY,
  first_lookup_at timestamptz NOT NULL,
  last_lookup_at  timestamptz NOT NULL,
  lookups         bigint NOT NULL DEFAULT 0,
  failures        bigint NOT NULL DEFAULT 0,
  fallbacks       bigint NOT NULL DEFAULT 0,
  -- Slugs that failed or fell back in this session (distinct, at most 20).
  troubled_slugs  text[] NOT NULL DEFAULT '{}',
  submitted_at    timestamptz
);
CREATE INDEX IF NOT EXISTS idx_analytics_lookup_sessions_first ON public.analytics_lookup_sessions (first_lookup_at);

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


-- The statement that adds (sign 1) or removes (sign -1) the events of a relation
-- (a trigger's transition table) to or from the rollups. One pass, GROUP BY with
-- a FILTER per histogram bucket: linear in the events, whatever their number.
CREATE OR REPLACE FUNCTION public._analytics_rollup_sql(p_source text, p_sign integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = ''
AS $$
  SELECT pg_catalog.format($sql$
    INSERT INTO public.analytics_lookup_hourly AS h
      (bucket, region, lookups, failures, fallbacks, total_ms, duration_buckets)
    SELECT pg_catalog.date_trunc('hour', e.created_at), COALESCE(e.region, ''),
           %2$s * pg_catalog.count(*),
           %2$s * pg_catalog.count(*) FILTER (WHERE NOT (e.event_properties ->> 'success')::boolean),
           %2$s * pg_catalog.count(*) FILTER (WHERE (e.event_properties ->> 'fallback_used')::boolean),
           %2$s * pg_catalog.sum((e.event_properties ->> 'lookup_time_ms')::numeric),
           ARRAY[%3$s]
    FROM %1$I e
    WHERE e.event_name = 'uuid_lookup'
    GROUP BY 1, 2
    ON CONFLICT (bucket, region) DO UPDATE SET
      lookups = h.lookups + excluded.lookups,
      failures = h.failures + excluded.failures,
      fallbacks = h.fallbacks + excluded.fallbacks,
      total_ms = h.total_ms + excluded.total_ms,
      duration_buckets = ARRAY(SELECT a + b FROM unnest(h.duration_buckets, excluded.duration_buckets) AS u (a, b))
  $sql$,
  p_source, p_sign,
  -- count of lookups in (previous bound, bound], the last bucket open-ended
  (SELECT pg_catalog.string_agg(pg_catalog.format(
            '%s * pg_catalog.count(*) FILTER (WHERE (e.event_properties ->> ''lookup_time_ms'')::numeric %s)',
            p_sign,
            CASE WHEN lo IS NULL THEN pg_catalog.format('<= %s', hi)
                 WHEN hi IS NULL THEN pg_catalog.format('> %s', lo)
                 ELSE pg_catalog.format('> %s AND (e.event_properties ->> ''lookup_time_ms'')::numeric <= %s', lo, hi) END),
          ', ' ORDER BY i)
   FROM (SELECT i, b[i - 1] AS lo, b[i] AS hi
         FROM (SELECT ARRAY[5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000] AS b) bounds,
              pg_catalog.generate_series(1, 13) AS i) x))
$$;

-- Sessions: a journey's lookups, and the slugs that failed or fell back in it.
CREATE OR REPLACE FUNCTION public._analytics_sessions_sql(p_source text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = ''
AS $$
  SELECT pg_catalog.format($sql$
    INSERT INTO public.analytics_lookup_sessions AS s
      (session_id, first_lookup_at, last_lookup_at, lookups, failures, fallbacks, troubled_slugs)
    SELECT e.session_id, pg_catalog.min(e.created_at), pg_catalog.max(e.created_at), pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE NOT (e.event_properties ->> 'success')::boolean),
           pg_catalog.count(*) FILTER (WHERE (e.event_properties ->> 'fallback_used')::boolean),
           COALESCE((pg_catalog.array_agg(DISTINCT e.event_properties ->> 'micro_slug')
                     FILTER (WHERE NOT (e.event_properties ->> 'success')::boolean
                                OR (e.event_properties ->> 'fallback_used')::boolean))[1:20], '{}')
    FROM %1$I e
    WHERE e.event_name = 'uuid_lookup' AND e.session_id IS NOT NULL
    GROUP BY e.session_id
    ON CONFLICT (session_id) DO UPDATE SET
      first_lookup_at = LEAST(s.first_lookup_at, excluded.first_lookup_at),
      last_lookup_at = GREATEST(s.last_lookup_at, excluded.last_lookup_at),
      lookups = s.lookups + excluded.lookups,
      failures = s.failures + excluded.failures,
      fallbacks = s.fallbacks + excluded.fallbacks,
      troubled_slugs = (SELECT COALESCE((pg_catalog.array_agg(DISTINCT x))[1:20], '{}')
                        FROM pg_catalog.unnest(s.troubled_slugs || excluded.troubled_slugs) AS x)
  $sql$, p_source)
$$;

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

-- SECURITY DEFINER: the role inserting events (anon, through PostgREST) has no
-- right on the rollups. EXECUTE sees the trigger's transition table.
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

CREATE OR REPLACE FUNCTION public.analytics_rollup_on_delete()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  -- Retention deletes: the hourly figures shrink with them (sessions keep their history).
  EXECUTE public._analytics_rollup_sql('old_events', -1);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS analytics_rollup_insert ON public.analytics_events;
CREATE TRIGGER analytics_rollup_insert
  AFTER INSERT ON public.analytics_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_insert();
DROP TRIGGER IF EXISTS analytics_rollup_delete ON public.analytics_events;
CREATE TRIGGER analytics_rollup_delete
  AFTER DELETE ON public.analytics_events
  REFERENCING OLD TABLE AS old_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_delete();

-- A job submitted in a wizard session closes that session's journey.
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

DROP TRIGGER IF EXISTS analytics_session_job ON public.jobs;
CREATE TRIGGER analytics_session_job
  AFTER INSERT ON public.jobs
  REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_session_on_job();

-- Backfill what was there before this migration (empty on a new database).
DO $backfill$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.analytics_lookup_hourly) THEN
    EXECUTE pg_catalog.replace(public._analytics_rollup_sql('analytics_events', 1), '"analytics_events"', 'public.analytics_events');
    EXECUTE pg_catalog.replace(public._analytics_sessions_sql('analytics_events'), '"analytics_events"', 'public.analytics_events');
    UPDATE public.analytics_lookup_sessions s SET submitted_at = j.first_at
    FROM (SELECT session_id, pg_catalog.min(created_at) AS first_at FROM public.jobs WHERE session_id IS NOT NULL GROUP BY session_id) j
    WHERE s.session_id = j.session_id;
    PERFORM public._analytics_journey_apply(ARRAY(SELECT session_id FROM public.analytics_lookup_sessions), 1);
  END IF;
END
$backfill$;

ALTER TABLE public.analytics_lookup_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.analytics_lookup_sessions ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_lookup_hourly, public.analytics_lookup_sessions FROM anon, authenticated;
GRANT SELECT ON public.analytics_lookup_hourly, public.analytics_lookup_sessions TO uuid_lookup_reader, service_role;
DROP POLICY IF EXISTS analytics_lookup_hourly_read_monitoring ON public.analytics_lookup_hourly;
CREATE POLICY analytics_lookup_hourly_read_monitoring ON public.analytics_lookup_hourly FOR SELECT TO uuid_lookup_reader USING (true);
DROP POLICY IF EXISTS analytics_lookup_sessions_read_monitoring ON public.analytics_lookup_sessions;
CREATE POLICY analytics_lookup_sessions_read_monitoring ON public.analytics_lookup_sessions FOR SELECT TO uuid_lookup_reader USING (true);
REVOKE EXECUTE ON FUNCTION
  public._analytics_rollup_sql(text, integer),
  public._analytics_sessions_sql(text),
  public.analytics_rollup_on_insert(),
  public.analytics_rollup_on_delete(),
  public.analytics_session_on_job()
  FROM PUBLIC, anon, authenticated;

ALTER TABLE public.analytics_journey_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.analytics_journey_slug_daily ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_journey_daily, public.analytics_journey_slug_daily FROM anon, authenticated;
GRANT SELECT ON public.analytics_journey_daily, public.analytics_journey_slug_daily TO uuid_lookup_reader, service_role;
DROP POLICY IF EXISTS analytics_journey_daily_read_monitoring ON public.analytics_journey_daily;
CREATE POLICY analytics_journey_daily_read_monitoring ON public.analytics_journey_daily FOR SELECT TO uuid_lookup_reader USING (true);
DROP POLICY IF EXISTS analytics_journey_slug_daily_read_monitoring ON public.analytics_journey_slug_daily;
CREATE POLICY analytics_journey_slug_daily_read_monitoring ON public.analytics_journey_slug_daily FOR SELECT TO uuid_lookup_reader USING (true);
REVOKE EXECUTE ON FUNCTION public._analytics_journey_apply(text[], integer) FROM PUBLIC, anon, authenticated;
