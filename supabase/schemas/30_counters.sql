-- The migration counters: statement triggers keep get_uuid_migration_stats() exact.
-- The schema as the migrations leave it (supabase/migrations/ is the upgrade path);
-- test/servers/schema-files.test.ts holds the two equal. Written by `npm run schema:dump`.

SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public._uuid_migration_count(p_jobs bigint, p_without bigint, p_success bigint, p_failed bigint, p_skipped bigint) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  INSERT INTO public.uuid_migration_counter_deltas (jobs, jobs_without_uuid, log_success, log_failed, log_skipped)
  SELECT p_jobs, p_without, p_success, p_failed, p_skipped
  WHERE p_jobs <> 0 OR p_without <> 0 OR p_success <> 0 OR p_failed <> 0 OR p_skipped <> 0
$$;

CREATE FUNCTION public.compact_uuid_migration_counters() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_folded bigint;
BEGIN
  IF pg_catalog.current_setting('transaction_read_only') = 'on'
     OR pg_catalog.current_setting('transaction_isolation') <> 'read committed'
     OR NOT pg_catalog.pg_try_advisory_xact_lock(7301146911582732) THEN
    RETURN NULL;
  END IF;
  WITH folded AS (DELETE FROM public.uuid_migration_counter_deltas RETURNING *),
       s AS (SELECT pg_catalog.count(*) AS n, pg_catalog.sum(jobs) AS jobs, pg_catalog.sum(jobs_without_uuid) AS without,
                    pg_catalog.sum(log_success) AS success, pg_catalog.sum(log_failed) AS failed, pg_catalog.sum(log_skipped) AS skipped
             FROM folded)
  UPDATE public.uuid_migration_counters c
  SET jobs = c.jobs + COALESCE(s.jobs, 0), jobs_without_uuid = c.jobs_without_uuid + COALESCE(s.without, 0),
      log_success = c.log_success + COALESCE(s.success, 0), log_failed = c.log_failed + COALESCE(s.failed, 0),
      log_skipped = c.log_skipped + COALESCE(s.skipped, 0)
  FROM s
  WHERE c.slot = 0
  RETURNING s.n INTO v_folded;
  RETURN COALESCE(v_folded, 0);
END
$$;

CREATE FUNCTION public.get_uuid_migration_stats() RETURNS TABLE(total_jobs bigint, jobs_with_uuid bigint, jobs_without_uuid bigint, successful_migrations bigint, failed_migrations bigint, skipped_migrations bigint, completion_percentage numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT c.jobs, c.jobs - c.without, c.without, c.success, c.failed, c.skipped,
         -- An empty jobs table has nothing left to migrate: 100 %, not a division by zero.
         CASE WHEN c.jobs = 0 THEN 100.00
              ELSE pg_catalog.round(100.0 * (c.jobs - c.without) / c.jobs, 2) END
  FROM (SELECT COALESCE(pg_catalog.sum(jobs), 0)::bigint AS jobs,
               COALESCE(pg_catalog.sum(jobs_without_uuid), 0)::bigint AS without,
               COALESCE(pg_catalog.sum(log_success), 0)::bigint AS success,
               COALESCE(pg_catalog.sum(log_failed), 0)::bigint AS failed,
               COALESCE(pg_catalog.sum(log_skipped), 0)::bigint AS skipped
        FROM (SELECT jobs, jobs_without_uuid, log_success, log_failed, log_skipped FROM public.uuid_migration_counters
              UNION ALL
              SELECT jobs, jobs_without_uuid, log_success, log_failed, log_skipped FROM public.uuid_migration_counter_deltas) d) c
$$;

CREATE FUNCTION public.rebuild_uuid_migration_counters() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  LOCK TABLE public.jobs, public.uuid_migration_log IN SHARE ROW EXCLUSIVE MODE;
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582732);
  DELETE FROM public.uuid_migration_counters;
  DELETE FROM public.uuid_migration_counter_deltas;
  INSERT INTO public.uuid_migration_counters (slot, jobs, jobs_without_uuid, log_success, log_failed, log_skipped)
  SELECT 0,
         (SELECT pg_catalog.count(*) FROM public.jobs),
         (SELECT pg_catalog.count(*) FROM public.jobs WHERE micro_uuid IS NULL),
         l.success, l.failed, l.skipped
  FROM (SELECT pg_catalog.count(*) FILTER (WHERE migration_status = 'success') AS success,
               pg_catalog.count(*) FILTER (WHERE migration_status = 'failed') AS failed,
               pg_catalog.count(*) FILTER (WHERE migration_status = 'skipped') AS skipped
        FROM public.uuid_migration_log) l;
END
$$;

CREATE FUNCTION public.uuid_migration_count_jobs() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_new_rows bigint := 0;
  v_new_null bigint := 0;
  v_old_rows bigint := 0;
  v_old_null bigint := 0;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE micro_uuid IS NULL) INTO v_new_rows, v_new_null FROM counted_new;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE micro_uuid IS NULL) INTO v_old_rows, v_old_null FROM counted_old;
  END IF;
  PERFORM public._uuid_migration_count(v_new_rows - v_old_rows, v_new_null - v_old_null, 0, 0, 0);
  RETURN NULL;
END
$$;

CREATE FUNCTION public.uuid_migration_count_log() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_success bigint := 0;
  v_failed  bigint := 0;
  v_skipped bigint := 0;
  v_s bigint;
  v_f bigint;
  v_k bigint;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT pg_catalog.count(*) FILTER (WHERE migration_status = 'success'),
           pg_catalog.count(*) FILTER (WHERE migration_status = 'failed'),
           pg_catalog.count(*) FILTER (WHERE migration_status = 'skipped')
      INTO v_s, v_f, v_k FROM counted_new;
    v_success := v_s; v_failed := v_f; v_skipped := v_k;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT pg_catalog.count(*) FILTER (WHERE migration_status = 'success'),
           pg_catalog.count(*) FILTER (WHERE migration_status = 'failed'),
           pg_catalog.count(*) FILTER (WHERE migration_status = 'skipped')
      INTO v_s, v_f, v_k FROM counted_old;
    v_success := v_success - v_s; v_failed := v_failed - v_f; v_skipped := v_skipped - v_k;
  END IF;
  PERFORM public._uuid_migration_count(0, 0, v_success, v_failed, v_skipped);
  RETURN NULL;
END
$$;

CREATE FUNCTION public.uuid_migration_count_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(7301146911582732);
  IF TG_TABLE_NAME = 'jobs' THEN
    UPDATE public.uuid_migration_counter_deltas SET jobs = 0, jobs_without_uuid = 0 WHERE jobs <> 0 OR jobs_without_uuid <> 0;
    UPDATE public.uuid_migration_counters SET jobs = 0, jobs_without_uuid = 0;
  ELSE
    UPDATE public.uuid_migration_counter_deltas SET log_success = 0, log_failed = 0, log_skipped = 0
    WHERE log_success <> 0 OR log_failed <> 0 OR log_skipped <> 0;
    UPDATE public.uuid_migration_counters SET log_success = 0, log_failed = 0, log_skipped = 0;
  END IF;
  RETURN NULL;
END
$$;

CREATE TABLE public.uuid_migration_counter_deltas (
    jobs bigint DEFAULT 0 NOT NULL,
    jobs_without_uuid bigint DEFAULT 0 NOT NULL,
    log_success bigint DEFAULT 0 NOT NULL,
    log_failed bigint DEFAULT 0 NOT NULL,
    log_skipped bigint DEFAULT 0 NOT NULL
);

COMMENT ON TABLE public.uuid_migration_counter_deltas IS 'What each statement on jobs or uuid_migration_log changed in the counts, until compact_uuid_migration_counters() folds it into uuid_migration_counters.';

CREATE TABLE public.uuid_migration_counters (
    slot smallint NOT NULL,
    jobs bigint DEFAULT 0 NOT NULL,
    jobs_without_uuid bigint DEFAULT 0 NOT NULL,
    log_success bigint DEFAULT 0 NOT NULL,
    log_failed bigint DEFAULT 0 NOT NULL,
    log_skipped bigint DEFAULT 0 NOT NULL,
    CONSTRAINT uuid_migration_counters_slot_check CHECK (((slot >= 0) AND (slot <= 15)))
);

COMMENT ON TABLE public.uuid_migration_counters IS 'Counts behind get_uuid_migration_stats(), kept by triggers on jobs and uuid_migration_log; sum the slots.';

ALTER TABLE ONLY public.uuid_migration_counters
    ADD CONSTRAINT uuid_migration_counters_pkey PRIMARY KEY (slot);

CREATE TRIGGER uuid_migration_count_delete AFTER DELETE ON public.jobs REFERENCING OLD TABLE AS counted_old FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_jobs();

CREATE TRIGGER uuid_migration_count_delete AFTER DELETE ON public.uuid_migration_log REFERENCING OLD TABLE AS counted_old FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_log();

CREATE TRIGGER uuid_migration_count_insert AFTER INSERT ON public.jobs REFERENCING NEW TABLE AS counted_new FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_jobs();

CREATE TRIGGER uuid_migration_count_insert AFTER INSERT ON public.uuid_migration_log REFERENCING NEW TABLE AS counted_new FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_log();

CREATE TRIGGER uuid_migration_count_truncate AFTER TRUNCATE ON public.jobs FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_truncate();

CREATE TRIGGER uuid_migration_count_truncate AFTER TRUNCATE ON public.uuid_migration_log FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_truncate();

CREATE TRIGGER uuid_migration_count_update AFTER UPDATE ON public.jobs REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_jobs();

CREATE TRIGGER uuid_migration_count_update AFTER UPDATE ON public.uuid_migration_log REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_log();

-- The row the functions above read.
INSERT INTO public.uuid_migration_counters SELECT * FROM pg_catalog.jsonb_populate_record(NULL::public.uuid_migration_counters, '{"jobs": 0, "slot": 0, "log_failed": 0, "log_skipped": 0, "log_success": 0, "jobs_without_uuid": 0}');
