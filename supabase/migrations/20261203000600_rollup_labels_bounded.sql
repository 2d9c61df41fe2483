-- Client-chosen labels in the lookup rollups are bounded, and a delete takes out
-- exactly what the fold put in (issue 22).
--
-- Two faults, one cause: the label an event is counted under was decided again
-- each time, from tables that change.
--
-- * Regions. An event's region is free in value (a coarse code, checked for
--   format only): 200,000 events from anon with 200,000 distinct regions made
--   200,000 rows of analytics_lookup_hourly in an hour, and the Grafana region
--   panel took 9.5 s. Now each hour keeps at most regions_per_hour regions
--   (analytics_rollup_limits, 200 by default), first come first kept, as an
--   OpenTelemetry SDK's cardinality limit does for a metric stream; the
--   lookups of regions beyond it are counted in that hour under '(other)', a
--   value the events' format check refuses, so no client can write it.
-- * Slugs. The per-service rollup counts a slug with no micro_services row as
--   __unknown__. A retention delete decided again, from micro_services as it was
--   then: after the runbook's fix (add the missing service) it subtracted the
--   events under their slug, and the rollup went negative there (late-service
--   -5, __unknown__ +5, no event left). The troubled slugs of the journeys were
--   not bounded at all: each distinct failing slug made a row per day.
--
-- Now the fold decides each label once and keeps the decision wherever it differs
-- from the event's own value: analytics_rollup_relabelled holds, per event id,
-- the region and the slug it was counted under. A delete subtracts under those
-- labels and drops the rows, so the rollups are always the sum of the stored
-- events' labelled figures (uuid-lookup doctor checks that per hour and region,
-- and per hour and slug). Only unusual events have a row (a slug with no service,
-- a region beyond the bound); such a row goes with its event.
--
-- The journeys' troubled slugs: a service's slug stays; another slug stays while
-- the session's day (the day of its first lookup, the journeys' day) holds fewer
-- than other_slugs_per_day such slugs (200 by default), or already holds it;
-- beyond, it is __unknown__. The session row keeps the label it got, so the
-- journeys add and later remove the same one. A day can hold somewhat more than
-- the bound when folds and job submissions run at once (each decides from what is
-- committed); it cannot grow with the number of distinct slugs sent.
--
-- Session ids are the key of a per-session table (one row per session that sent a
-- lookup, what the journeys need): it grows with the events, as the events do,
-- not with combinations of labels.
--
-- The functions are restated literally (not assembled by format()), and run in
-- UTC. Events folded before this migration whose slug has no service now are
-- recorded as counted under __unknown__ (at the end); events folded while their
-- service was missing and whose service exists now cannot be told apart: doctor
-- reports them, and public.rebuild_lookup_analytics_rollups() recounts.

CREATE TABLE IF NOT EXISTS public.analytics_rollup_limits (
  singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  regions_per_hour     integer NOT NULL DEFAULT 200 CHECK (regions_per_hour BETWEEN 1 AND 100000),
  other_slugs_per_day  integer NOT NULL DEFAULT 200 CHECK (other_slugs_per_day BETWEEN 1 AND 100000)
);
COMMENT ON TABLE public.analytics_rollup_limits IS
  'Bounds of client-chosen labels in the lookup rollups: regions per hour (the rest as (other)), slugs that are no service per journey day (the rest as __unknown__). One row.';
INSERT INTO public.analytics_rollup_limits (singleton) VALUES (true) ON CONFLICT DO NOTHING;
ALTER TABLE public.analytics_rollup_limits ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_rollup_limits FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.analytics_rollup_limits TO uuid_lookup_reader, uuid_migration_monitor;
GRANT SELECT, UPDATE (regions_per_hour, other_slugs_per_day) ON public.analytics_rollup_limits TO service_role;
DROP POLICY IF EXISTS analytics_rollup_limits_read ON public.analytics_rollup_limits;
CREATE POLICY analytics_rollup_limits_read ON public.analytics_rollup_limits
  FOR SELECT TO uuid_lookup_reader, uuid_migration_monitor, service_role USING (true);
DROP POLICY IF EXISTS analytics_rollup_limits_change ON public.analytics_rollup_limits;
CREATE POLICY analytics_rollup_limits_change ON public.analytics_rollup_limits
  FOR UPDATE TO service_role USING (true) WITH CHECK (true);

CREATE TABLE IF NOT EXISTS public.analytics_rollup_relabelled (
  id          uuid PRIMARY KEY,
  -- The region the event is counted under when not its own ((other)); NULL: its own.
  region      text,
  -- The slug it is counted under per service when not its own (__unknown__); NULL: its own.
  micro_slug  text
);
COMMENT ON TABLE public.analytics_rollup_relabelled IS
  'uuid_lookup events the rollups count under another label than their own (a region beyond the bound, a slug with no service), so that deletes subtract what the fold added.';
ALTER TABLE public.analytics_rollup_relabelled ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.analytics_rollup_relabelled FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.analytics_rollup_relabelled TO uuid_lookup_reader, uuid_migration_monitor, service_role;
DROP POLICY IF EXISTS analytics_rollup_relabelled_read ON public.analytics_rollup_relabelled;
CREATE POLICY analytics_rollup_relabelled_read ON public.analytics_rollup_relabelled
  FOR SELECT TO uuid_lookup_reader, uuid_migration_monitor, service_role USING (true);

-- The fold (and the rebuild's replay): events to the rollups, each under the
-- label decided here, once.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET jit = off
-- Hours are UTC hours whatever the session's time zone (date_trunc of a timestamptz
-- follows TimeZone: a fold in UTC and a delete in Asia/Kolkata split an hour).
SET TimeZone = 'UTC'
AS $$
DECLARE
  v_before public.analytics_lookup_sessions[];
  v_after public.analytics_lookup_sessions[];
  v_regions integer;
  v_slugs integer;
BEGIN
  SELECT l.regions_per_hour, l.other_slugs_per_day INTO v_regions, v_slugs FROM public.analytics_rollup_limits l;
  v_regions := COALESCE(v_regions, 200);
  v_slugs := COALESCE(v_slugs, 200);

  WITH regions AS MATERIALIZED (
    -- Each hour and region of the statement: kept when the hour has it already,
    -- or while the hour has room (new ones in name order); otherwise (other).
    SELECT d.bucket, d.region,
           d.region = '' OR EXISTS (SELECT FROM public.analytics_lookup_hourly h WHERE h.bucket = d.bucket AND h.region = d.region) AS kept
    FROM (SELECT DISTINCT pg_catalog.date_trunc('hour', e.created_at) AS bucket, COALESCE(e.region, '') AS region
          FROM new_events e WHERE e.event_name = 'uuid_lookup') d
  ), region_label AS MATERIALIZED (
    SELECT k.bucket, k.region, k.region AS label FROM regions k WHERE k.kept
    UNION ALL
    SELECT n.bucket, n.region, CASE WHEN n.rank <= n.room THEN n.region ELSE '(other)' END
    FROM (SELECT k.bucket, k.region, pg_catalog.row_number() OVER (PARTITION BY k.bucket ORDER BY k.region) AS rank,
                 v_regions - (SELECT pg_catalog.count(*) FROM public.analytics_lookup_hourly h
                              WHERE h.bucket = k.bucket AND h.region <> '' AND h.region <> '(other)') AS room
          FROM regions k WHERE NOT k.kept) n
  ), ev AS MATERIALIZED (
    -- The statement's lookups, each field read from the JSON once, with the
    -- region's label and the service's (a slug with no service is __unknown__).
    SELECT v.id, v.bucket, v.created_at, v.region, r.label AS region_label, v.session_id, v.slug,
           CASE WHEN EXISTS (SELECT FROM public.micro_services ms WHERE ms.slug = v.slug) THEN v.slug ELSE '__unknown__' END AS service_label,
           v.ok, v.fb, v.ms
    FROM (SELECT e.id, pg_catalog.date_trunc('hour', e.created_at) AS bucket, e.created_at, COALESCE(e.region, '') AS region,
                 e.session_id, e.event_properties ->> 'micro_slug' AS slug,
                 (e.event_properties ->> 'success')::boolean AS ok,
                 (e.event_properties ->> 'fallback_used')::boolean AS fb,
                 (e.event_properties ->> 'lookup_time_ms')::numeric AS ms
          FROM new_events e
          WHERE e.event_name = 'uuid_lookup') v
    JOIN region_label r ON r.bucket = v.bucket AND r.region = v.region
  ), troubled AS MATERIALIZED (
    -- Slugs that failed or fell back, per session and the session's day (the day
    -- of its first lookup): a service's slug is kept; another when that day has it.
    SELECT t.session_id, t.slug, t.day,
           t.service OR EXISTS (SELECT FROM public.analytics_journey_slug_daily j WHERE j.day = t.day AND j.micro_slug = t.slug) AS kept
    FROM (SELECT x.session_id, x.slug, x.service,
                 CASE WHEN NOT x.service THEN
                   (LEAST(x.first_at, (SELECT s.first_lookup_at FROM public.analytics_lookup_sessions s WHERE s.session_id = x.session_id))
                      AT TIME ZONE 'UTC')::pg_catalog.date END AS day
          FROM (SELECT DISTINCT ev.session_id, ev.slug, ev.service_label = ev.slug AS service, f.first_at
                FROM ev
                JOIN (SELECT ev.session_id, pg_catalog.min(ev.created_at) AS first_at FROM ev
                      WHERE ev.session_id IS NOT NULL GROUP BY ev.session_id) f ON f.session_id = ev.session_id
                WHERE NOT ev.ok OR ev.fb) x) t
  ), troubled_label AS MATERIALIZED (
    SELECT t.session_id, t.slug, t.slug AS label FROM troubled t WHERE t.kept
    UNION ALL
    SELECT n.session_id, n.slug, CASE WHEN n.rank <= n.room THEN n.slug ELSE '__unknown__' END
    FROM (SELECT t.session_id, t.slug, pg_catalog.dense_rank() OVER (PARTITION BY t.day ORDER BY t.slug) AS rank,
                 v_slugs - (SELECT pg_catalog.count(*) FROM public.analytics_journey_slug_daily j
                            WHERE j.day = t.day AND j.micro_slug <> '__unknown__'
                              AND NOT EXISTS (SELECT FROM public.micro_services ms WHERE ms.slug = j.micro_slug)) AS room
          FROM troubled t WHERE NOT t.kept) n
  ), relabelled AS (
    INSERT INTO public.analytics_rollup_relabelled AS x (id, region, micro_slug)
    SELECT l.id, CASE WHEN l.region_label <> l.region THEN l.region_label END,
           CASE WHEN l.service_label IS DISTINCT FROM l.slug THEN l.service_label END
    FROM ev l
    WHERE l.region_label <> l.region OR l.service_label IS DISTINCT FROM l.slug
    ORDER BY l.id
    ON CONFLICT (id) DO UPDATE SET region = excluded.region, micro_slug = excluded.micro_slug
  ), hourly AS (
    -- Per hour and region: counts, sums and the latency histogram (lookups of at
    -- most 5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500, 5000, 10000 ms, and
    -- above: the SDK's bucket boundaries).
    INSERT INTO public.analytics_lookup_hourly AS h (bucket, region, lookups, failures, fallbacks, total_ms, duration_buckets)
    SELECT g.bucket, g.region, g.lookups, g.failures, g.fallbacks, g.total_ms,
           ARRAY[pg_catalog.cardinality(pg_catalog.array_positions(g.b, 1)), pg_catalog.cardinality(pg_catalog.array_positions(g.b, 2)),
                 pg_catalog.cardinality(pg_catalog.array_positions(g.b, 3)), pg_catalog.cardinality(pg_catalog.array_positions(g.b, 4)),
                 pg_catalog.cardinality(pg_catalog.array_positions(g.b, 5)), pg_catalog.cardinality(pg_catalog.array_positions(g.b, 6)),
                 pg_catalog.cardinality(pg_catalog.array_positions(g.b, 7)), pg_catalog.cardinality(pg_catalog.array_positions(g.b, 8)),
                 pg_catalog.cardinality(pg_catalog.array_positions(g.b, 9)), pg_catalog.cardinality(pg_catalog.array_positions(g.b, 10)),
                 pg_catalog.cardinality(pg_catalog.array_positions(g.b, 11)), pg_catalog.cardinality(pg_catalog.array_positions(g.b, 12)),
                 pg_catalog.cardinality(pg_catalog.array_positions(g.b, 13))]::bigint[]
    FROM (SELECT v.bucket, v.region, pg_catalog.count(*) AS lookups,
                 pg_catalog.count(*) FILTER (WHERE NOT v.ok) AS failures,
                 pg_catalog.count(*) FILTER (WHERE v.fb) AS fallbacks,
                 pg_catalog.sum(v.ms) AS total_ms,
                 pg_catalog.array_agg(v.b) AS b
          FROM (SELECT l.bucket, l.region_label AS region, l.ok, l.fb, l.ms,
                       CASE WHEN l.ms IS NULL THEN NULL
                            WHEN l.ms <= 5 THEN 1 WHEN l.ms <= 10 THEN 2 WHEN l.ms <= 25 THEN 3 WHEN l.ms <= 50 THEN 4
                            WHEN l.ms <= 75 THEN 5 WHEN l.ms <= 100 THEN 6 WHEN l.ms <= 250 THEN 7 WHEN l.ms <= 500 THEN 8
                            WHEN l.ms <= 1000 THEN 9 WHEN l.ms <= 2500 THEN 10 WHEN l.ms <= 5000 THEN 11
                            WHEN l.ms <= 10000 THEN 12 ELSE 13 END AS b
                FROM ev l) v
          GROUP BY 1, 2) g
    ORDER BY g.bucket, g.region
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
        h.duration_buckets[13] + excluded.duration_buckets[13]]
  ), service AS (
    -- Per hour and service.
    INSERT INTO public.analytics_lookup_service_hourly AS h (bucket, micro_slug, lookups, successful, fallbacks, total_ms)
    SELECT l.bucket, l.service_label, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE l.ok),
           pg_catalog.count(*) FILTER (WHERE l.fb), pg_catalog.sum(l.ms)
    FROM ev l
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (bucket, micro_slug) DO UPDATE SET
      lookups = h.lookups + excluded.lookups,
      successful = h.successful + excluded.successful,
      fallbacks = h.fallbacks + excluded.fallbacks,
      total_ms = h.total_ms + excluded.total_ms
  ), after AS (
    INSERT INTO public.analytics_lookup_sessions AS s
      (session_id, first_lookup_at, last_lookup_at, lookups, failures, fallbacks, troubled_slugs)
    SELECT l.session_id, pg_catalog.min(l.created_at), pg_catalog.max(l.created_at), pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE NOT l.ok),
           pg_catalog.count(*) FILTER (WHERE l.fb),
           -- Slugs that failed or fell back in the session, as labelled (distinct, at most 20).
           COALESCE((pg_catalog.array_agg(DISTINCT tl.label) FILTER (WHERE NOT l.ok OR l.fb))[1:20], '{}')
    FROM ev l
    LEFT JOIN troubled_label tl ON tl.session_id = l.session_id AND tl.slug = l.slug AND (NOT l.ok OR l.fb)
    WHERE l.session_id IS NOT NULL
    GROUP BY l.session_id
    ORDER BY l.session_id
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
    ORDER BY u.day, u.troubled
    ON CONFLICT (day, troubled) DO UPDATE SET sessions = d.sessions + excluded.sessions
  ), journey_slug AS (
    INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions)
    SELECT u.day, slug, pg_catalog.sum(u.sign)
    FROM unsubmitted u, pg_catalog.unnest(u.troubled_slugs) AS slug
    GROUP BY 1, 2
    HAVING pg_catalog.sum(u.sign) <> 0
    ORDER BY 1, 2
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
$$;

-- Deleted events (retention): the hourly and per-service figures shrink under the
-- labels the fold counted them under; sessions keep their history.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_delete()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET jit = off
SET TimeZone = 'UTC'
AS $$
BEGIN
  -- Under the fold lock, as every other writer of the rollups: a delete writes the
  -- hourly rows after the fold of its own pending events wrote them, so without the
  -- lock a second delete could hold one of them and wait for another (a deadlock).
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  WITH gone AS MATERIALIZED (
    -- By key: an IN over the transition table would scan the whole index (merge join).
    DELETE FROM public.analytics_rollup_relabelled x
    WHERE x.id = ANY (ARRAY(SELECT o.id FROM old_events o WHERE o.event_name = 'uuid_lookup'))
    RETURNING x.id, x.region, x.micro_slug
  ), lev AS MATERIALIZED (
    SELECT pg_catalog.date_trunc('hour', e.created_at) AS bucket,
           COALESCE(g.region, e.region, '') AS region_label,
           COALESCE(g.micro_slug, e.event_properties ->> 'micro_slug') AS service_label,
           (e.event_properties ->> 'success')::boolean AS ok,
           (e.event_properties ->> 'fallback_used')::boolean AS fb,
           (e.event_properties ->> 'lookup_time_ms')::numeric AS ms
    FROM old_events e
    LEFT JOIN gone g ON g.id = e.id
    WHERE e.event_name = 'uuid_lookup'
  ), hourly AS (
    INSERT INTO public.analytics_lookup_hourly AS h (bucket, region, lookups, failures, fallbacks, total_ms, duration_buckets)
    SELECT g.bucket, g.region, - g.lookups, - g.failures, - g.fallbacks, - g.total_ms,
           ARRAY[- pg_catalog.cardinality(pg_catalog.array_positions(g.b, 1)), - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 2)),
                 - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 3)), - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 4)),
                 - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 5)), - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 6)),
                 - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 7)), - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 8)),
                 - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 9)), - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 10)),
                 - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 11)), - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 12)),
                 - pg_catalog.cardinality(pg_catalog.array_positions(g.b, 13))]::bigint[]
    FROM (SELECT v.bucket, v.region, pg_catalog.count(*) AS lookups,
                 pg_catalog.count(*) FILTER (WHERE NOT v.ok) AS failures,
                 pg_catalog.count(*) FILTER (WHERE v.fb) AS fallbacks,
                 pg_catalog.sum(v.ms) AS total_ms,
                 pg_catalog.array_agg(v.b) AS b
          FROM (SELECT l.bucket, l.region_label AS region, l.ok, l.fb, l.ms,
                       CASE WHEN l.ms IS NULL THEN NULL
                            WHEN l.ms <= 5 THEN 1 WHEN l.ms <= 10 THEN 2 WHEN l.ms <= 25 THEN 3 WHEN l.ms <= 50 THEN 4
                            WHEN l.ms <= 75 THEN 5 WHEN l.ms <= 100 THEN 6 WHEN l.ms <= 250 THEN 7 WHEN l.ms <= 500 THEN 8
                            WHEN l.ms <= 1000 THEN 9 WHEN l.ms <= 2500 THEN 10 WHEN l.ms <= 5000 THEN 11
                            WHEN l.ms <= 10000 THEN 12 ELSE 13 END AS b
                FROM lev l) v
          GROUP BY 1, 2) g
    ORDER BY g.bucket, g.region
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
        h.duration_buckets[13] + excluded.duration_buckets[13]]
  )
  INSERT INTO public.analytics_lookup_service_hourly AS h (bucket, micro_slug, lookups, successful, fallbacks, total_ms)
  SELECT l.bucket, l.service_label, - pg_catalog.count(*), - pg_catalog.count(*) FILTER (WHERE l.ok),
         - pg_catalog.count(*) FILTER (WHERE l.fb), - pg_catalog.sum(l.ms)
  FROM lev l
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (bucket, micro_slug) DO UPDATE SET
    lookups = h.lookups + excluded.lookups,
    successful = h.successful + excluded.successful,
    fallbacks = h.fallbacks + excluded.fallbacks,
    total_ms = h.total_ms + excluded.total_ms;
  RETURN NULL;
END
$$;

-- TRUNCATE: as 20261129000600, and the labels go with the events.
CREATE OR REPLACE FUNCTION public.analytics_rollup_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
    PERFORM public.fold_lookup_analytics_rollups();
  END IF;
  TRUNCATE public.analytics_rollup_pending;
  DELETE FROM public.analytics_lookup_hourly;
  DELETE FROM public.analytics_lookup_service_hourly;
  DELETE FROM public.analytics_rollup_relabelled;
  RETURN NULL;
END
$$;

-- The rebuild: as 20261129000600; the replay decides every label again, from
-- micro_services and the bounds as they are now.
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
  LOCK TABLE public.analytics_events, public.jobs IN SHARE ROW EXCLUSIVE MODE;
  TRUNCATE public.analytics_rollup_pending;
  DELETE FROM public.analytics_rollup_relabelled;
  PERFORM public._rebuild_lookup_analytics_rollups_replay(p_chunk);
END
$$;

REVOKE EXECUTE ON FUNCTION public.analytics_rollup_on_insert(), public.analytics_rollup_on_delete(),
  public.analytics_rollup_on_truncate() FROM PUBLIC, anon, authenticated, service_role;
REVOKE EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) TO service_role;

-- Events folded before this migration under __unknown__ (no service for their slug
-- now): recorded so that their delete subtracts them there. Under the fold lock, in
-- one statement (supabase db push runs each statement in a transaction of its own):
-- a fold by the old function still running when this starts is waited for, and its
-- events are seen. An event whose service was renamed or deleted since it was
-- counted is recorded as __unknown__ though it was counted under its slug: doctor
-- finds the difference per (hour, slug), and SELECT rebuild_lookup_analytics_rollups()
-- recounts.
DO $relabel_folded$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  INSERT INTO public.analytics_rollup_relabelled (id, micro_slug)
  SELECT e.id, '__unknown__'
  FROM public.analytics_events e
  WHERE e.event_name = 'uuid_lookup'
    AND NOT EXISTS (SELECT FROM public.micro_services ms WHERE ms.slug = e.event_properties ->> 'micro_slug')
    AND NOT EXISTS (SELECT FROM public.analytics_rollup_pending p WHERE p.id = e.id)
  ON CONFLICT (id) DO NOTHING;
END
$relabel_folded$;
