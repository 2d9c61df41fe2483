-- The back-fill: migrate_job_uuids() and its batched form, the log and its history, the runs, rollback.
-- The schema as the migrations leave it (supabase/migrations/ is the upgrade path);
-- test/servers/schema-files.test.ts holds the two equal. Written by `npm run schema:dump`.

SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TYPE public.uuid_migration_batch_summary AS (
	processed integer,
	succeeded integer,
	skipped integer,
	failed integer,
	last_job_id uuid
);

CREATE TYPE public.uuid_migration_result AS (
	job_id uuid,
	micro_slug text,
	found_uuid uuid,
	status text
);


SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE FUNCTION public._uuid_migration_apply(p_job_ids uuid[], p_ctids tid[], p_slugs text[], p_run_id uuid, p_mode text) RETURNS public.uuid_migration_batch_summary
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_result public.uuid_migration_batch_summary;
BEGIN
  IF p_mode <> 'new' THEN
    PERFORM public._uuid_migration_retire(p_job_ids, 'superseded');
  END IF;
  WITH target AS (
    SELECT k.id, k.row_ctid, k.micro_id FROM unnest(p_job_ids, p_ctids, p_slugs) AS k (id, row_ctid, micro_id)
  ), service AS (
    SELECT ms.slug, (pg_catalog.array_agg(ms.id))[1] AS id, pg_catalog.count(*) AS matches
    FROM public.micro_services ms
    WHERE ms.slug IN (SELECT t.micro_id FROM target t)
    GROUP BY ms.slug
  ), resolved AS (
    SELECT t.id, t.row_ctid, t.micro_id, s.id AS service_id, COALESCE(s.matches, 0) AS matches
    FROM target t LEFT JOIN service s ON s.slug = t.micro_id
  ), updated AS (
    UPDATE public.jobs j SET micro_uuid = r.service_id
    FROM resolved r
    WHERE j.ctid = r.row_ctid AND j.id = r.id AND r.matches = 1
    RETURNING j.id
  ), logged AS (
    INSERT INTO public.uuid_migration_log AS l
      (job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code, migrated_at)
    SELECT r.id, p_run_id, COALESCE(r.micro_id, ''),
           CASE WHEN u.id IS NOT NULL THEN r.service_id END,
           CASE WHEN u.id IS NOT NULL THEN 'success'
                WHEN r.matches = 0 THEN 'skipped'
                ELSE 'failed' END,
           CASE WHEN u.id IS NOT NULL THEN NULL
                WHEN r.micro_id IS NULL THEN 'job has no micro_id'
                WHEN r.matches = 0 THEN 'no micro_services row with this slug'
                ELSE pg_catalog.format('ambiguous slug: %s micro_services rows', r.matches) END,
           CASE WHEN u.id IS NULL AND r.matches > 1 THEN 'P0001' END,
           CASE WHEN u.id IS NOT NULL THEN pg_catalog.now() END
    FROM resolved r LEFT JOIN updated u ON u.id = r.id
    RETURNING l.migration_status
  )
  SELECT pg_catalog.count(*)::integer,
         (pg_catalog.count(*) FILTER (WHERE l.migration_status = 'success'))::integer,
         (pg_catalog.count(*) FILTER (WHERE l.migration_status = 'skipped'))::integer,
         (pg_catalog.count(*) FILTER (WHERE l.migration_status = 'failed'))::integer,
         NULL::uuid
    INTO v_result
    FROM logged l;
  RETURN v_result;
END
$$;

CREATE FUNCTION public._uuid_migration_apply_isolating(p_job_ids uuid[], p_ctids tid[], p_slugs text[], p_run_id uuid, p_mode text) RETURNS public.uuid_migration_batch_summary
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_n     integer := COALESCE(pg_catalog.cardinality(p_job_ids), 0);
  v_half  integer;
  v_msg   text;
  v_state text;
  v_a     public.uuid_migration_batch_summary;
  v_b     public.uuid_migration_batch_summary;
BEGIN
  IF v_n = 0 THEN
    RETURN ROW(0, 0, 0, 0, NULL)::public.uuid_migration_batch_summary;
  END IF;
  BEGIN
    RETURN public._uuid_migration_apply(p_job_ids, p_ctids, p_slugs, p_run_id, p_mode);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE;
    -- Conditions that are not a property of a row fail the whole batch, so the
    -- runner can retry it or stop with the reason, rather than marking every job
    -- failed: transaction rollbacks (40), resources (53), program limits (54),
    -- lock timeout (55P03), operator intervention (57), system (58), internal (XX)
    -- and a broken schema (42 but 42501, which RLS raises per row).
    -- query_canceled (statement_timeout) is never caught by WHEN OTHERS.
    IF pg_catalog.left(v_state, 2) IN ('40', '53', '54', '57', '58', 'XX', 'F0')
       OR v_state = '55P03'
       OR (pg_catalog.left(v_state, 2) = '42' AND v_state <> '42501') THEN
      RAISE;
    END IF;
    IF v_n = 1 THEN
      PERFORM public._uuid_migration_retire(p_job_ids, 'superseded');
      INSERT INTO public.uuid_migration_log
        (job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code)
      SELECT j.id, p_run_id, COALESCE(j.micro_id, ''), NULL, 'failed', pg_catalog.left(v_msg, 1000), v_state
      FROM public.jobs j WHERE j.id = p_job_ids[1];
      RETURN ROW(1, 0, 0, 1, NULL)::public.uuid_migration_batch_summary;
    END IF;
    v_half := v_n / 2;
    v_a := public._uuid_migration_apply_isolating(
      p_job_ids[1:v_half], p_ctids[1:v_half], p_slugs[1:v_half], p_run_id, p_mode);
    v_b := public._uuid_migration_apply_isolating(
      p_job_ids[v_half + 1:v_n], p_ctids[v_half + 1:v_n], p_slugs[v_half + 1:v_n], p_run_id, p_mode);
    RETURN ROW(v_a.processed + v_b.processed, v_a.succeeded + v_b.succeeded, v_a.skipped + v_b.skipped,
               v_a.failed + v_b.failed, NULL)::public.uuid_migration_batch_summary;
  END;
END
$$;

CREATE FUNCTION public._uuid_migration_mode(p_mode text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF p_mode IS NULL THEN
    RETURN 'all';
  END IF;
  IF p_mode NOT IN ('all', 'new', 'retry') THEN
    RAISE EXCEPTION 'uuid migration: mode must be all, new or retry, got %', p_mode USING ERRCODE = '22023';
  END IF;
  RETURN p_mode;
END
$$;

CREATE FUNCTION public._uuid_migration_pick(p_batch_size integer, p_after uuid, p_mode text, p_shard integer, OUT job_ids uuid[], OUT ctids tid[], OUT slugs text[]) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
  v_mode  text := public._uuid_migration_mode(p_mode);
  v_after uuid := COALESCE(p_after, '00000000-0000-0000-0000-000000000000'::uuid);
  v_last  uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid;
  v_shard integer;
BEGIN
  IF p_batch_size IS NULL OR p_batch_size < 1 OR p_batch_size > 100000 THEN
    RAISE EXCEPTION 'uuid migration: batch size must be between 1 and 100000, got %',
      COALESCE(p_batch_size::text, 'null')
      USING ERRCODE = '22023';
  END IF;
  IF p_shard IS NOT NULL AND (p_shard < 0 OR p_shard > 15) THEN
    RAISE EXCEPTION 'uuid migration: shard must be between 0 and 15, got %', p_shard USING ERRCODE = '22023';
  END IF;

  -- Serialise batches of a shard across sessions. Taken before the candidate
  -- query, so that query's snapshot sees every batch committed before this one.
  FOR v_shard IN SELECT g FROM pg_catalog.generate_series(COALESCE(p_shard, 0), COALESCE(p_shard, 15)) AS g LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;
  IF p_shard IS NOT NULL THEN
    v_after := GREATEST(v_after, (pg_catalog.to_hex(p_shard) || '0000000-0000-0000-0000-000000000000')::uuid);
    v_last := (pg_catalog.to_hex(p_shard) || 'fffffff-ffff-ffff-ffff-ffffffffffff')::uuid;
  END IF;

  -- Three statements rather than one with a CASE, so each gets its own plan:
  -- 'all' is a range scan of idx_jobs_without_micro_uuid and nothing else.
  IF v_mode = 'all' THEN
    SELECT COALESCE(pg_catalog.array_agg(c.id ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.ctid ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.micro_id ORDER BY c.id), '{}')
      INTO job_ids, ctids, slugs
      FROM (SELECT j.id, j.ctid, j.micro_id FROM public.jobs j
            WHERE j.micro_uuid IS NULL AND j.id > v_after AND j.id <= v_last
            ORDER BY j.id
            LIMIT p_batch_size
            FOR UPDATE OF j SKIP LOCKED) c;
  ELSIF v_mode = 'retry' THEN
    SELECT COALESCE(pg_catalog.array_agg(c.id ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.ctid ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.micro_id ORDER BY c.id), '{}')
      INTO job_ids, ctids, slugs
      FROM (SELECT j.id, j.ctid, j.micro_id FROM public.jobs j
            WHERE j.micro_uuid IS NULL AND j.id > v_after AND j.id <= v_last
              -- Retry what can now succeed: failed jobs, and skipped jobs whose
              -- slug has a service by now (the operator added it). A skipped job
              -- whose slug still matches nothing would only be skipped again.
              AND EXISTS (SELECT 1 FROM public.uuid_migration_log l
                          WHERE l.job_id = j.id AND l.job_id > v_after
                            AND (l.migration_status <> 'skipped'
                                 OR EXISTS (SELECT 1 FROM public.micro_services ms WHERE ms.slug = j.micro_id)))
            ORDER BY j.id
            LIMIT p_batch_size
            FOR UPDATE OF j SKIP LOCKED) c;
  ELSE
    SELECT COALESCE(pg_catalog.array_agg(c.id ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.ctid ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.micro_id ORDER BY c.id), '{}')
      INTO job_ids, ctids, slugs
      FROM (SELECT j.id, j.ctid, j.micro_id FROM public.jobs j
            WHERE j.micro_uuid IS NULL AND j.id > v_after AND j.id <= v_last
              -- l.job_id > v_after is implied, and written out so that a merge
              -- join starts at the cursor instead of at the first log row.
              AND NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l
                              WHERE l.job_id = j.id AND l.job_id > v_after)
            ORDER BY j.id
            LIMIT p_batch_size
            FOR UPDATE OF j SKIP LOCKED) c;
  END IF;
END
$$;

CREATE FUNCTION public._uuid_migration_retire(p_job_ids uuid[], p_reason text) RETURNS bigint
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET enable_seqscan TO 'off'
    AS $$
  WITH retired AS (
    DELETE FROM public.uuid_migration_log l WHERE l.job_id = ANY (p_job_ids)
    RETURNING l.*
  ), archived AS (
    INSERT INTO public.uuid_migration_log_history
      (id, job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code,
       migrated_at, created_at, retired_reason)
    SELECT r.id, r.job_id, r.run_id, r.micro_slug, r.micro_uuid, r.migration_status, r.error_message,
           r.error_code, r.migrated_at, r.created_at, p_reason
    FROM retired r
    RETURNING 1
  )
  SELECT pg_catalog.count(*) FROM archived
$$;

CREATE FUNCTION public.list_job_uuid_migration_runs() RETURNS TABLE(run_id uuid, started_at timestamp with time zone, finished_at timestamp with time zone, jobs bigint, succeeded bigint, skipped bigint, failed bigint, rolled_back bigint)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT a.run_id, pg_catalog.min(a.created_at), pg_catalog.max(a.created_at), pg_catalog.count(*),
         pg_catalog.count(*) FILTER (WHERE a.migration_status = 'success'),
         pg_catalog.count(*) FILTER (WHERE a.migration_status = 'skipped'),
         pg_catalog.count(*) FILTER (WHERE a.migration_status = 'failed'),
         pg_catalog.count(*) FILTER (WHERE a.rolled_back)
  FROM (SELECT l.run_id, l.created_at, l.migration_status, false AS rolled_back
        FROM public.uuid_migration_log l
        UNION ALL
        SELECT h.run_id, h.created_at, h.migration_status, h.retired_reason = 'rolled_back'
        FROM public.uuid_migration_log_history h) a
  GROUP BY a.run_id
  ORDER BY 2 DESC
$$;

CREATE FUNCTION public.map_job_slug_to_service(p_job_slug text, p_service_slug text) RETURNS TABLE(run_id uuid, jobs_mapped bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_run     uuid := pg_catalog.gen_random_uuid();
  v_service uuid;
  v_ids     uuid[];
  v_mapped  bigint;
BEGIN
  IF p_job_slug IS NULL OR p_service_slug IS NULL THEN
    RAISE EXCEPTION 'uuid migration: both slugs are needed' USING ERRCODE = '22004';
  END IF;
  SELECT ms.id INTO v_service FROM public.micro_services ms WHERE ms.slug = p_service_slug;
  IF v_service IS NULL THEN
    RAISE EXCEPTION 'uuid migration: no micro_services row with slug %', p_service_slug
      USING ERRCODE = 'P0002', HINT = 'map to a slug that exists (uuid-lookup services add adds one)';
  END IF;
  -- As a batch does: never beside one.
  FOR v_shard IN 0..15 LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;
  WITH mapped AS (
    UPDATE public.jobs j SET micro_uuid = v_service
    WHERE j.micro_uuid IS NULL AND j.micro_id = p_job_slug
    RETURNING j.id
  )
  SELECT pg_catalog.array_agg(m.id) INTO v_ids FROM mapped m;
  PERFORM public._uuid_migration_retire(COALESCE(v_ids, '{}'), 'superseded');
  INSERT INTO public.uuid_migration_log (job_id, run_id, micro_slug, micro_uuid, migration_status, migrated_at)
  SELECT k.id, v_run, p_job_slug, v_service, 'success', pg_catalog.now() FROM pg_catalog.unnest(v_ids) AS k (id);
  v_mapped := COALESCE(pg_catalog.cardinality(v_ids), 0);
  RETURN QUERY SELECT v_run, v_mapped;
END
$$;

CREATE FUNCTION public.migrate_job_uuids(p_batch_size integer DEFAULT 5000, p_mode text DEFAULT 'all'::text) RETURNS SETOF public.uuid_migration_result
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_mode  text := public._uuid_migration_mode(p_mode);
  v_run   uuid := pg_catalog.gen_random_uuid();
  v_after uuid;
  v_ids   uuid[];
  v_ctids tid[];
  v_slugs text[];
BEGIN
  LOOP
    SELECT p.job_ids, p.ctids, p.slugs INTO v_ids, v_ctids, v_slugs
    FROM public._uuid_migration_pick(p_batch_size, v_after, v_mode, NULL) p;
    EXIT WHEN pg_catalog.cardinality(v_ids) = 0;
    PERFORM public._uuid_migration_apply_isolating(v_ids, v_ctids, v_slugs, v_run, v_mode);
    v_after := v_ids[pg_catalog.cardinality(v_ids)];
  END LOOP;
  RETURN QUERY
    SELECT l.job_id, l.micro_slug, l.micro_uuid, l.migration_status
    FROM public.uuid_migration_log l
    WHERE l.run_id = v_run;
END
$$;

CREATE FUNCTION public.migrate_job_uuids_batch(p_batch_size integer DEFAULT 5000, p_after uuid DEFAULT NULL::uuid, p_mode text DEFAULT 'all'::text, p_run_id uuid DEFAULT NULL::uuid, p_shard integer DEFAULT NULL::integer) RETURNS public.uuid_migration_batch_summary
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_mode   text := public._uuid_migration_mode(p_mode);
  v_ids    uuid[];
  v_ctids  tid[];
  v_slugs  text[];
  v_result public.uuid_migration_batch_summary;
BEGIN
  SELECT p.job_ids, p.ctids, p.slugs INTO v_ids, v_ctids, v_slugs
  FROM public._uuid_migration_pick(p_batch_size, p_after, v_mode, p_shard) p;
  v_result := public._uuid_migration_apply_isolating(
    v_ids, v_ctids, v_slugs, COALESCE(p_run_id, pg_catalog.gen_random_uuid()), v_mode);
  v_result.last_job_id := v_ids[pg_catalog.cardinality(v_ids)];
  RETURN v_result;
END
$$;

CREATE FUNCTION public.preview_job_uuid_migration(p_mode text DEFAULT 'all'::text) RETURNS TABLE(micro_slug text, would_be text, jobs bigint)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_mode text := public._uuid_migration_mode(p_mode);
BEGIN
  RETURN QUERY
  WITH candidates AS (
    SELECT j.micro_id
    FROM public.jobs j
    WHERE j.micro_uuid IS NULL
      AND CASE v_mode
            WHEN 'all' THEN true
            WHEN 'retry' THEN EXISTS (SELECT 1 FROM public.uuid_migration_log l
                                      WHERE l.job_id = j.id
                                        AND (l.migration_status <> 'skipped'
                                             OR EXISTS (SELECT 1 FROM public.micro_services ms WHERE ms.slug = j.micro_id)))
            ELSE NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l WHERE l.job_id = j.id)
          END
  ), services AS (
    SELECT ms.slug, pg_catalog.count(*) AS matches FROM public.micro_services ms GROUP BY ms.slug
  )
  SELECT COALESCE(c.micro_id, ''),
         CASE WHEN s.matches = 1 THEN 'success' WHEN s.matches > 1 THEN 'failed' ELSE 'skipped' END,
         pg_catalog.count(*)
  FROM candidates c LEFT JOIN services s ON s.slug = c.micro_id
  GROUP BY 1, 2
  ORDER BY 3 DESC, 1;
END
$$;

CREATE FUNCTION public.rollback_job_uuid_migration(p_run_id uuid) RETURNS TABLE(jobs_reverted bigint, jobs_changed_since bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_ids      uuid[];
  v_reverted bigint;
  v_changed  bigint;
BEGIN
  IF p_run_id IS NULL THEN
    RAISE EXCEPTION 'uuid migration: run id must not be null' USING ERRCODE = '22004';
  END IF;
  -- One run's rollback at a time, and never during a batch.
  FOR v_shard IN 0..15 LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l WHERE l.run_id = p_run_id)
     AND NOT EXISTS (SELECT 1 FROM public.uuid_migration_log_history h WHERE h.run_id = p_run_id) THEN
    RAISE EXCEPTION 'uuid migration: no run % in the log', p_run_id
      USING ERRCODE = 'P0002', HINT = 'uuid-lookup migrate runs lists the runs';
  END IF;

  WITH reverted AS (
    UPDATE public.jobs j SET micro_uuid = NULL
    FROM public.uuid_migration_log l
    WHERE l.run_id = p_run_id AND l.migration_status = 'success'
      AND j.id = l.job_id AND j.micro_uuid = l.micro_uuid
    RETURNING j.id
  )
  SELECT pg_catalog.array_agg(r.id) INTO v_ids FROM reverted r;
  v_reverted := public._uuid_migration_retire(COALESCE(v_ids, '{}'), 'rolled_back');

  SELECT pg_catalog.count(*) INTO v_changed
  FROM public.uuid_migration_log l JOIN public.jobs j ON j.id = l.job_id
  WHERE l.run_id = p_run_id AND l.migration_status = 'success'
    AND j.micro_uuid IS DISTINCT FROM l.micro_uuid;

  RETURN QUERY SELECT v_reverted, v_changed;
END
$$;

CREATE FUNCTION public.uuid_migration_log_forget_deleted_jobs() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE public.uuid_migration_log, public.uuid_migration_log_history;
    RETURN NULL;
  END IF;
  DELETE FROM public.uuid_migration_log l USING deleted_jobs d WHERE l.job_id = d.id;
  DELETE FROM public.uuid_migration_log_history h USING deleted_jobs d WHERE h.job_id = d.id;
  RETURN NULL;
END
$$;

CREATE FUNCTION public.uuid_migration_log_next_id() RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT pg_catalog.encode(
    pg_catalog.set_bit(pg_catalog.set_bit(
      overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
        PLACING substring(pg_catalog.int8send(
          (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

CREATE TABLE public.uuid_migration_log (
    id uuid DEFAULT public.uuid_migration_log_next_id() NOT NULL,
    job_id uuid NOT NULL,
    run_id uuid NOT NULL,
    micro_slug text NOT NULL,
    micro_uuid uuid,
    migration_status text NOT NULL,
    error_message text,
    error_code text,
    migrated_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT uuid_migration_log_status_check CHECK ((migration_status = ANY (ARRAY['pending'::text, 'success'::text, 'failed'::text, 'skipped'::text])))
);

COMMENT ON TABLE public.uuid_migration_log IS 'Each job''s current outcome of the back-fill of jobs.micro_uuid; replaced attempts are in uuid_migration_log_history.';

CREATE TABLE public.uuid_migration_log_history (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    run_id uuid NOT NULL,
    micro_slug text NOT NULL,
    micro_uuid uuid,
    migration_status text NOT NULL,
    error_message text,
    error_code text,
    migrated_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    retired_at timestamp with time zone DEFAULT now() NOT NULL,
    retired_reason text NOT NULL,
    CONSTRAINT uuid_migration_log_history_reason_check CHECK ((retired_reason = ANY (ARRAY['superseded'::text, 'rolled_back'::text]))),
    CONSTRAINT uuid_migration_log_history_status_check CHECK ((migration_status = ANY (ARRAY['pending'::text, 'success'::text, 'failed'::text, 'skipped'::text])))
);

COMMENT ON TABLE public.uuid_migration_log_history IS 'Attempts to back-fill jobs.micro_uuid that are no longer a job''s current outcome (uuid_migration_log holds that).';

CREATE TABLE public.uuid_migration_runs (
    run_id uuid NOT NULL,
    mode text NOT NULL,
    state text DEFAULT 'running'::text NOT NULL,
    requested text DEFAULT 'run'::text NOT NULL,
    started_by text DEFAULT ''::text NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    batches bigint DEFAULT 0 NOT NULL,
    jobs bigint DEFAULT 0 NOT NULL,
    batch_size integer,
    hold_reason text,
    hold_detail text,
    held_since timestamp with time zone,
    held_seconds jsonb DEFAULT '{}'::jsonb NOT NULL,
    error text,
    batch_seconds double precision DEFAULT 0 NOT NULL,
    last_batch_ms double precision,
    CONSTRAINT uuid_migration_runs_batch_seconds_check CHECK ((batch_seconds >= (0)::double precision)),
    CONSTRAINT uuid_migration_runs_check CHECK (((finished_at IS NULL) = (state = ANY (ARRAY['running'::text, 'held'::text, 'paused'::text])))),
    CONSTRAINT uuid_migration_runs_last_batch_ms_check CHECK ((last_batch_ms >= (0)::double precision)),
    CONSTRAINT uuid_migration_runs_mode_check CHECK ((mode = ANY (ARRAY['all'::text, 'new'::text, 'retry'::text]))),
    CONSTRAINT uuid_migration_runs_requested_check CHECK ((requested = ANY (ARRAY['run'::text, 'pause'::text, 'cancel'::text]))),
    CONSTRAINT uuid_migration_runs_started_by_check CHECK ((length(started_by) <= 200)),
    CONSTRAINT uuid_migration_runs_state_check CHECK ((state = ANY (ARRAY['running'::text, 'held'::text, 'paused'::text, 'finished'::text, 'cancelled'::text, 'stopped'::text, 'failed'::text])))
);

COMMENT ON TABLE public.uuid_migration_runs IS 'Back-fill runs: state, holds and operator requests (pause, resume, cancel), written by uuid-lookup migrate and worker.';

COMMENT ON COLUMN public.uuid_migration_runs.batch_seconds IS 'Seconds spent in committed batches; over the time since started_at, the run''s time efficiency.';

COMMENT ON COLUMN public.uuid_migration_runs.last_batch_ms IS 'The last committed batch''s time in milliseconds (NULL before the first).';

ALTER TABLE ONLY public.uuid_migration_log_history
    ADD CONSTRAINT uuid_migration_log_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.uuid_migration_log
    ADD CONSTRAINT uuid_migration_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.uuid_migration_runs
    ADD CONSTRAINT uuid_migration_runs_pkey PRIMARY KEY (run_id);

CREATE INDEX idx_jobs_without_micro_uuid ON public.jobs USING btree (id) WHERE (micro_uuid IS NULL);

CREATE INDEX idx_jobs_without_micro_uuid_slug ON public.jobs USING btree (micro_id) WHERE (micro_uuid IS NULL);

CREATE INDEX idx_uuid_migration_log_history_job ON public.uuid_migration_log_history USING btree (job_id);

CREATE INDEX idx_uuid_migration_log_status ON public.uuid_migration_log USING btree (migration_status);

CREATE UNIQUE INDEX uuid_migration_log_job ON public.uuid_migration_log USING btree (job_id);

CREATE INDEX uuid_migration_runs_unfinished ON public.uuid_migration_runs USING btree (started_at) WHERE (finished_at IS NULL);

CREATE TRIGGER uuid_migration_log_cascade_delete AFTER DELETE ON public.jobs REFERENCING OLD TABLE AS deleted_jobs FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_log_forget_deleted_jobs();

CREATE TRIGGER uuid_migration_log_cascade_truncate AFTER TRUNCATE ON public.jobs FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_log_forget_deleted_jobs();
