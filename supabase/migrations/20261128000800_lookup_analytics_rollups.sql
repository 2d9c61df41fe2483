-- Phase 6 "Advanced Analytics": lookup patterns by time of day, by region, and
-- user journeys. Over months of events the raw table is too big to scan per
-- report, so two rollups are kept exact by triggers, in the same transaction as
-- the events they count:
-- * analytics_lookup_hourly: per hour and region: counts, sums and a latency
--   histogram (for percentiles). Not per slug: 30 days x regions stay a few
--   thousand rows, which is what keeps every report under 200 ms at 5M events
--   (the per-slug figures are the spec's lookup-performance query);
-- * analytics_lookup_sessions: per wizard session: its lookups, failures,
--   fallbacks, and when (if) it submitted a job.
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

-- SECURITY DEFINER: the role inserting events (anon, through PostgREST) has no
-- right on the rollups. EXECUTE sees the trigger's transition table.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  EXECUTE public._analytics_rollup_sql('new_events', 1);
  EXECUTE public._analytics_sessions_sql('new_events');
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
BEGIN
  UPDATE public.analytics_lookup_sessions s
  SET submitted_at = LEAST(COALESCE(s.submitted_at, j.first_at), j.first_at)
  FROM (SELECT n.session_id, pg_catalog.min(n.created_at) AS first_at
        FROM new_jobs n WHERE n.session_id IS NOT NULL GROUP BY n.session_id) j
  WHERE s.session_id = j.session_id;
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
