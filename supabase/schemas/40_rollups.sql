-- The Phase 6 rollups of lookup events: pending rows, the fold, hourly figures, sessions, journeys.
-- The schema as the migrations leave it (supabase/migrations/ is the upgrade path);
-- test/servers/schema-files.test.ts holds the two equal. Written by `npm run schema:dump`.

SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TABLE public.analytics_lookup_sessions (
    session_id text NOT NULL,
    first_lookup_at timestamp with time zone,
    last_lookup_at timestamp with time zone,
    lookups bigint DEFAULT 0 NOT NULL,
    failures bigint DEFAULT 0 NOT NULL,
    fallbacks bigint DEFAULT 0 NOT NULL,
    troubled_slugs text[] DEFAULT '{}'::text[] NOT NULL,
    submitted_at timestamp with time zone,
    prev_first_lookup_at timestamp with time zone,
    prev_failures bigint,
    prev_fallbacks bigint,
    prev_troubled_slugs text[],
    prev_submitted_at timestamp with time zone
);

COMMENT ON COLUMN public.analytics_lookup_sessions.first_lookup_at IS 'NULL while the session has a job and no lookup event yet (lookups = 0): such a row counts in no journey.';

COMMENT ON COLUMN public.analytics_lookup_sessions.prev_first_lookup_at IS 'Set by the last write of the row to what it replaced (prev_*): the rollup triggers read the old figures from the row they changed.';

CREATE FUNCTION public._analytics_journey_change(p_before public.analytics_lookup_sessions[], p_after public.analytics_lookup_sessions[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
BEGIN
  WITH changed AS (
    SELECT x.sign, (x.first_lookup_at AT TIME ZONE 'UTC')::date AS day, x.failures > 0 OR x.fallbacks > 0 AS troubled,
           x.submitted_at, x.troubled_slugs,
           CASE WHEN x.submitted_at IS NULL THEN NULL
                WHEN x.wait <= 10 THEN 1 WHEN x.wait <= 30 THEN 2 WHEN x.wait <= 60 THEN 3 WHEN x.wait <= 120 THEN 4
                WHEN x.wait <= 300 THEN 5 WHEN x.wait <= 600 THEN 6 WHEN x.wait <= 1800 THEN 7 WHEN x.wait <= 3600 THEN 8
                ELSE 9 END AS b
    FROM (SELECT 1 AS sign, a.first_lookup_at, a.failures, a.fallbacks, a.submitted_at, a.troubled_slugs,
                 extract(epoch FROM a.submitted_at - a.first_lookup_at) AS wait
          FROM pg_catalog.unnest(p_after) a
          UNION ALL
          SELECT -1, o.first_lookup_at, o.failures, o.fallbacks, o.submitted_at, o.troubled_slugs,
                 extract(epoch FROM o.submitted_at - o.first_lookup_at)
          FROM pg_catalog.unnest(p_before) o) x
  ), journey AS (
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
        d.submit_buckets[9] + excluded.submit_buckets[9]]
  )
    INSERT INTO public.analytics_journey_slug_daily AS d (day, micro_slug, sessions, submitted)
    SELECT g.day, g.micro_slug, g.sessions, g.submitted
    FROM (SELECT c.day, slug AS micro_slug, pg_catalog.sum(c.sign) AS sessions,
                 COALESCE(pg_catalog.sum(c.sign) FILTER (WHERE c.submitted_at IS NOT NULL), 0) AS submitted
          FROM changed c, pg_catalog.unnest(c.troubled_slugs) AS slug
          GROUP BY 1, 2) g
    WHERE g.sessions <> 0 OR g.submitted <> 0
    ON CONFLICT (day, micro_slug) DO UPDATE SET
      sessions = d.sessions + excluded.sessions,
      submitted = d.submitted + excluded.submitted;
END
$$;

CREATE FUNCTION public._rebuild_lookup_analytics_rollups_replay(p_chunk integer DEFAULT 50000) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
$_$;

CREATE FUNCTION public.analytics_job_time_usable(p_at timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT p_at >= '2000-01-01 00:00:00+00'::timestamptz AND p_at < '2200-01-01 00:00:00+00'::timestamptz
$$;

COMMENT ON FUNCTION public.analytics_job_time_usable(p_at timestamp with time zone) IS 'Whether the journeys take a job''s created_at as its submission time: from 2000-01-01 to before 2200-01-01 UTC.';

CREATE FUNCTION public.analytics_rollup_defer() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_events bigint;
  v_fold boolean;
BEGIN
  INSERT INTO public.analytics_rollup_pending (id, event_name, event_properties, session_id, region, created_at)
  SELECT e.id, e.event_name, e.event_properties, e.session_id, e.region, e.created_at
  FROM new_events e
  WHERE e.event_name = 'uuid_lookup';
  GET DIAGNOSTICS v_events = ROW_COUNT;
  IF v_events = 0 THEN
    RETURN NULL;
  END IF;
  IF v_events >= 100 THEN
    v_fold := true;
  ELSE
    v_fold := pg_catalog.nextval('public.analytics_rollup_fold_tick') % 32 = 0;
  END IF;
  -- Only at READ COMMITTED (a later snapshot's fold would meet rows folded since),
  -- and only when no other fold holds the lock.
  IF v_fold AND pg_catalog.current_setting('transaction_isolation') = 'read committed'
     AND pg_catalog.pg_try_advisory_xact_lock(7301146911582731) THEN
    -- At most this statement's events and 10,000 more, and 10,000 jobs: an
    -- insert's latency stays bounded whatever accumulated.
    DELETE FROM public.analytics_rollup_pending p
    WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q
                              LIMIT v_events + 10000 FOR UPDATE SKIP LOCKED));
    DELETE FROM public.analytics_rollup_pending_jobs p
    WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending_jobs q
                              LIMIT 10000 FOR UPDATE SKIP LOCKED));
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION public.analytics_rollup_fold_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM public.analytics_rollup_pending q
                 WHERE q.id IN (SELECT o.id FROM old_events o WHERE o.event_name = 'uuid_lookup')) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  DELETE FROM public.analytics_rollup_pending p
  WHERE p.ctid = ANY (ARRAY(
    SELECT q.ctid FROM public.analytics_rollup_pending q
    WHERE q.id IN (SELECT o.id FROM old_events o WHERE o.event_name = 'uuid_lookup')
    ORDER BY q.ctid FOR UPDATE));
  RETURN NULL;
END
$$;

CREATE FUNCTION public.analytics_rollup_on_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_bitmapscan TO 'off'
    SET enable_nestloop TO 'off'
    SET jit TO 'off'
    SET "TimeZone" TO 'UTC'
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

CREATE FUNCTION public.analytics_rollup_on_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_bitmapscan TO 'off'
    SET enable_nestloop TO 'off'
    SET jit TO 'off'
    SET "TimeZone" TO 'UTC'
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

CREATE FUNCTION public.analytics_rollup_on_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

CREATE FUNCTION public.analytics_session_job_defer() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  INSERT INTO public.analytics_rollup_pending_jobs (session_id, created_at)
  SELECT n.session_id, n.created_at
  FROM new_jobs n
  -- Which jobs count is decided once, by analytics_session_on_job() when they are
  -- folded (and when the rebuild replays them): a usable time, a session id a
  -- session can have.
  WHERE n.session_id IS NOT NULL;
  RETURN NULL;
END
$$;

CREATE FUNCTION public.analytics_session_on_job() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_seqscan TO 'off'
    SET enable_bitmapscan TO 'off'
    SET enable_nestloop TO 'off'
    SET jit TO 'off'
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
    -- A job's time the journeys cannot use marks no session submitted (20261203000400);
    -- nor does a session id no session can have (the events' rule: 1 to 128
    -- characters). jobs.session_id is the app's column, of any length: a longer one
    -- would not fit the sessions' key, and would stop every fold.
    WHERE n.session_id IS NOT NULL AND pg_catalog.char_length(n.session_id) BETWEEN 1 AND 128
      AND public.analytics_job_time_usable(n.created_at)
    GROUP BY n.session_id
    ORDER BY n.session_id
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

CREATE FUNCTION public.fold_lookup_analytics_rollups(p_wait boolean DEFAULT true) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '10s'
    AS $$
DECLARE
  v_events bigint;
BEGIN
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'fold_lookup_analytics_rollups() needs READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
      USING ERRCODE = '25000', HINT = 'Call it in a transaction of its own: a later snapshot would miss folds committed since this one''s.';
  END IF;
  IF p_wait THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  ELSIF NOT pg_catalog.pg_try_advisory_xact_lock(7301146911582731) THEN
    RETURN NULL;
  END IF;
  DELETE FROM public.analytics_rollup_pending p
  WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending q ORDER BY q.ctid FOR UPDATE));
  GET DIAGNOSTICS v_events = ROW_COUNT;
  DELETE FROM public.analytics_rollup_pending_jobs p
  WHERE p.ctid = ANY (ARRAY(SELECT q.ctid FROM public.analytics_rollup_pending_jobs q ORDER BY q.ctid FOR UPDATE));
  RETURN v_events;
END
$$;

COMMENT ON FUNCTION public.fold_lookup_analytics_rollups(p_wait boolean) IS 'Folds the pending uuid_lookup events and jobs into the lookup rollups and journeys; returns how many events (NULL: p_wait false and another fold holds the lock). Call before reading the rollups when they must be exact.';

CREATE FUNCTION public.rebuild_lookup_analytics_rollups(p_chunk integer DEFAULT 50000) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
  -- The fold lock first, as every writer of the rollups; then the writers of events and jobs wait.
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582731);
  LOCK TABLE public.analytics_events, public.jobs IN SHARE ROW EXCLUSIVE MODE;
  TRUNCATE public.analytics_rollup_pending, public.analytics_rollup_pending_jobs;
  DELETE FROM public.analytics_rollup_relabelled;
  PERFORM public._rebuild_lookup_analytics_rollups_replay(p_chunk);
END
$$;

CREATE TABLE public.analytics_journey_daily (
    day date NOT NULL,
    troubled boolean NOT NULL,
    sessions bigint DEFAULT 0 NOT NULL,
    submitted bigint DEFAULT 0 NOT NULL,
    submit_buckets bigint[] DEFAULT '{0,0,0,0,0,0,0,0,0}'::bigint[] NOT NULL
);

CREATE TABLE public.analytics_journey_slug_daily (
    day date NOT NULL,
    micro_slug text NOT NULL,
    sessions bigint DEFAULT 0 NOT NULL,
    submitted bigint DEFAULT 0 NOT NULL
);

CREATE TABLE public.analytics_lookup_hourly (
    bucket timestamp with time zone NOT NULL,
    region text DEFAULT ''::text NOT NULL,
    lookups bigint DEFAULT 0 NOT NULL,
    failures bigint DEFAULT 0 NOT NULL,
    fallbacks bigint DEFAULT 0 NOT NULL,
    total_ms numeric DEFAULT 0 NOT NULL,
    duration_buckets bigint[] DEFAULT '{0,0,0,0,0,0,0,0,0,0,0,0,0}'::bigint[] NOT NULL
);

CREATE TABLE public.analytics_lookup_service_hourly (
    bucket timestamp with time zone NOT NULL,
    micro_slug text NOT NULL,
    lookups bigint DEFAULT 0 NOT NULL,
    successful bigint DEFAULT 0 NOT NULL,
    fallbacks bigint DEFAULT 0 NOT NULL,
    total_ms numeric DEFAULT 0 NOT NULL
);

COMMENT ON TABLE public.analytics_lookup_service_hourly IS 'uuid_lookup events per hour and service (unknown slugs as __unknown__), kept by triggers on analytics_events.';

CREATE SEQUENCE public.analytics_rollup_fold_tick
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE TABLE public.analytics_rollup_limits (
    singleton boolean DEFAULT true NOT NULL,
    regions_per_hour integer DEFAULT 200 NOT NULL,
    other_slugs_per_day integer DEFAULT 200 NOT NULL,
    CONSTRAINT analytics_rollup_limits_other_slugs_per_day_check CHECK (((other_slugs_per_day >= 1) AND (other_slugs_per_day <= 100000))),
    CONSTRAINT analytics_rollup_limits_regions_per_hour_check CHECK (((regions_per_hour >= 1) AND (regions_per_hour <= 100000))),
    CONSTRAINT analytics_rollup_limits_singleton_check CHECK (singleton)
);

COMMENT ON TABLE public.analytics_rollup_limits IS 'Bounds of client-chosen labels in the lookup rollups: regions per hour (the rest as (other)), slugs that are no service per journey day (the rest as __unknown__). One row.';

CREATE TABLE public.analytics_rollup_pending (
    id uuid NOT NULL,
    event_name text NOT NULL,
    event_properties jsonb NOT NULL,
    session_id text,
    region text,
    created_at timestamp with time zone NOT NULL
);

COMMENT ON TABLE public.analytics_rollup_pending IS 'uuid_lookup events stored but not yet in the lookup rollups; public.fold_lookup_analytics_rollups() folds them.';

CREATE TABLE public.analytics_rollup_pending_jobs (
    session_id text NOT NULL,
    created_at timestamp with time zone NOT NULL
);

COMMENT ON TABLE public.analytics_rollup_pending_jobs IS 'Jobs with a wizard session not yet in the journeys; public.fold_lookup_analytics_rollups() folds them.';

CREATE TABLE public.analytics_rollup_relabelled (
    id uuid NOT NULL,
    region text,
    micro_slug text
);

COMMENT ON TABLE public.analytics_rollup_relabelled IS 'uuid_lookup events the rollups count under another label than their own (a region beyond the bound, a slug with no service), so that deletes subtract what the fold added.';

ALTER TABLE ONLY public.analytics_journey_daily
    ADD CONSTRAINT analytics_journey_daily_pkey PRIMARY KEY (day, troubled);

ALTER TABLE ONLY public.analytics_journey_slug_daily
    ADD CONSTRAINT analytics_journey_slug_daily_pkey PRIMARY KEY (day, micro_slug);

ALTER TABLE ONLY public.analytics_lookup_hourly
    ADD CONSTRAINT analytics_lookup_hourly_pkey PRIMARY KEY (bucket, region);

ALTER TABLE ONLY public.analytics_lookup_service_hourly
    ADD CONSTRAINT analytics_lookup_service_hourly_pkey PRIMARY KEY (bucket, micro_slug);

ALTER TABLE ONLY public.analytics_lookup_sessions
    ADD CONSTRAINT analytics_lookup_sessions_pkey PRIMARY KEY (session_id);

ALTER TABLE ONLY public.analytics_rollup_limits
    ADD CONSTRAINT analytics_rollup_limits_pkey PRIMARY KEY (singleton);

ALTER TABLE ONLY public.analytics_rollup_relabelled
    ADD CONSTRAINT analytics_rollup_relabelled_pkey PRIMARY KEY (id);

CREATE INDEX idx_analytics_lookup_sessions_first ON public.analytics_lookup_sessions USING btree (first_lookup_at);

CREATE TRIGGER analytics_rollup_deferred_fold AFTER DELETE ON public.analytics_events REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_fold_deleted();

CREATE TRIGGER analytics_rollup_delete AFTER DELETE ON public.analytics_events REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_delete();

CREATE TRIGGER analytics_rollup_fold AFTER DELETE ON public.analytics_rollup_pending REFERENCING OLD TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_insert();

ALTER TABLE public.analytics_rollup_pending ENABLE ALWAYS TRIGGER analytics_rollup_fold;

CREATE TRIGGER analytics_rollup_fold_jobs AFTER DELETE ON public.analytics_rollup_pending_jobs REFERENCING OLD TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_session_on_job();

ALTER TABLE public.analytics_rollup_pending_jobs ENABLE ALWAYS TRIGGER analytics_rollup_fold_jobs;

CREATE TRIGGER analytics_rollup_insert AFTER INSERT ON public.analytics_events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_defer();

CREATE TRIGGER analytics_rollup_truncate AFTER TRUNCATE ON public.analytics_events FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_rollup_on_truncate();

CREATE TRIGGER analytics_session_job AFTER INSERT ON public.jobs REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION public.analytics_session_job_defer();

-- The row the functions above read.
INSERT INTO public.analytics_rollup_limits SELECT * FROM pg_catalog.jsonb_populate_record(NULL::public.analytics_rollup_limits, '{"singleton": true, "regions_per_hour": 200, "other_slugs_per_day": 200}');
