-- Journeys per day, so the journey reports read a few hundred rows instead of
-- every session (625,000 sessions took 250-280 ms; see bench/analytics.bench.ts).
-- Kept exact by a row trigger on analytics_lookup_sessions: each change to a
-- session removes its old contribution and adds its new one.

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

-- Adds (sign 1) or removes (sign -1) one session's contribution.
CREATE OR REPLACE FUNCTION public._analytics_journey_apply(v_row public.analytics_lookup_sessions, v_sign integer)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_seconds numeric := extract(epoch FROM v_row.submitted_at - v_row.first_lookup_at);
  v_bucket integer;
  v_day date := (v_row.first_lookup_at AT TIME ZONE 'UTC')::date;
BEGIN
  v_bucket := CASE WHEN v_seconds IS NULL THEN NULL
                   ELSE 1 + (SELECT pg_catalog.count(*)::integer
                             FROM pg_catalog.unnest(ARRAY[10, 30, 60, 120, 300, 600, 1800, 3600]::numeric[]) AS b
                             WHERE v_seconds > b) END;
  INSERT INTO public.analytics_journey_daily AS d (day, troubled, sessions, submitted, submit_buckets)
  VALUES (v_day, v_row.failures > 0 OR v_row.fallbacks > 0, v_sign,
          CASE WHEN v_row.submitted_at IS NULL THEN 0 ELSE v_sign END,
          ARRAY(SELECT CASE WHEN i = v_bucket THEN v_sign ELSE 0 END FROM pg_catalog.generate_series(1, 9) AS i))
  ON CONFLICT (day, troubled) DO UPDATE SET
    sessions = d.sessions + excluded.sessions,
    submitted = d.submitted + excluded.submitted,
    submit_buckets = ARRAY(SELECT a + b FROM unnest(d.submit_buckets, excluded.submit_buckets) AS u (a, b));
  INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions, submitted)
  SELECT v_day, slug, v_sign, CASE WHEN v_row.submitted_at IS NULL THEN 0 ELSE v_sign END
  FROM pg_catalog.unnest(v_row.troubled_slugs) AS slug
  ON CONFLICT (day, micro_slug) DO UPDATE SET
    sessions = d.sessions + excluded.sessions,
    submitted = d.submitted + excluded.submitted;
END
$$;

CREATE OR REPLACE FUNCTION public.analytics_journey_on_session()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM public._analytics_journey_apply(OLD, -1);
  END IF;
  PERFORM public._analytics_journey_apply(NEW, 1);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS analytics_journey_session ON public.analytics_lookup_sessions;
CREATE TRIGGER analytics_journey_session
  AFTER INSERT OR UPDATE ON public.analytics_lookup_sessions
  FOR EACH ROW EXECUTE FUNCTION public.analytics_journey_on_session();

-- Backfill from the sessions already there (none on a new database).
DO $backfill$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.analytics_journey_daily) THEN
    PERFORM public._analytics_journey_apply(s, 1) FROM public.analytics_lookup_sessions s;
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
REVOKE EXECUTE ON FUNCTION public.analytics_journey_on_session(), public._analytics_journey_apply(public.analytics_lookup_sessions, integer) FROM PUBLIC, anon, authenticated;
