-- get_uuid_migration_stats() in constant time: counters kept in the same
-- transactions as the rows they count, instead of counting jobs and the log on
-- every call (linear: seconds at ten million jobs, and the Postgres exporter
-- calls it on every scrape).
--
-- What keeps the counters exact (docs/architecture.md, "Database"):
-- * Statement-level AFTER triggers on jobs and uuid_migration_log, with
--   transition tables, add what each INSERT, UPDATE and DELETE changed, whoever
--   runs it (the application, the migration's batches, a rollback, the cascade
--   from jobs): the difference of counts between the new and the old rows,
--   which needs no join. TRUNCATE resets them.
-- * Each counter is split into 16 slots (by backend), so concurrent batches
--   seldom wait on each other's counter row; the stats add the slots up.
-- * Triggers are skipped under session_replication_role = replica or with
--   DISABLE TRIGGER: after such a bulk load, SELECT rebuild_uuid_migration_counters();
--   (uuid-lookup doctor compares the counters with full counts and says so).

CREATE TABLE IF NOT EXISTS public.uuid_migration_counters (
  slot              smallint PRIMARY KEY CHECK (slot BETWEEN 0 AND 15),
  jobs              bigint NOT NULL DEFAULT 0,
  jobs_without_uuid bigint NOT NULL DEFAULT 0,
  log_success       bigint NOT NULL DEFAULT 0,
  log_failed        bigint NOT NULL DEFAULT 0,
  log_skipped       bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE public.uuid_migration_counters IS
  'Counts behind get_uuid_migration_stats(), kept by triggers on jobs and uuid_migration_log; sum the slots.';
ALTER TABLE public.uuid_migration_counters ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.uuid_migration_counters FROM anon, authenticated;
GRANT SELECT ON public.uuid_migration_counters TO service_role, uuid_lookup_reader;
DROP POLICY IF EXISTS uuid_migration_counters_read_monitoring ON public.uuid_migration_counters;
CREATE POLICY uuid_migration_counters_read_monitoring ON public.uuid_migration_counters
  FOR SELECT TO uuid_lookup_reader USING (true);

-- Counts everything again, in one transaction that holds off writers: the
-- repair after a bulk load without triggers, and the start of the counters.
CREATE OR REPLACE FUNCTION public.rebuild_uuid_migration_counters()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  LOCK TABLE public.jobs, public.uuid_migration_log IN SHARE MODE;
  DELETE FROM public.uuid_migration_counters;
  INSERT INTO public.uuid_migration_counters (slot, jobs, jobs_without_uuid, log_success, log_failed, log_skipped)
  SELECT 0,
         (SELECT pg_catalog.count(*) FROM public.jobs),
         (SELECT pg_catalog.count(*) FROM public.jobs WHERE micro_uuid IS NULL),
         l.success, l.failed, l.skipped
  FROM (SELECT pg_catalog.count(*) FILTER (WHERE migration_status = 'success') AS success,
               pg_catalog.count(*) FILTER (WHERE migration_status = 'failed') AS failed,
               pg_catalog.count(*) FILTER (WHERE migration_status = 'skipped') AS skipped
        FROM public.uuid_migration_log) l;
  INSERT INTO public.uuid_migration_counters (slot) SELECT g FROM pg_catalog.generate_series(1, 15) g;
END
$$;

-- Adds deltas to this backend's slot.
CREATE OR REPLACE FUNCTION public._uuid_migration_count(
  p_jobs bigint, p_without bigint, p_success bigint, p_failed bigint, p_skipped bigint)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
  UPDATE public.uuid_migration_counters c
  SET jobs = c.jobs + p_jobs,
      jobs_without_uuid = c.jobs_without_uuid + p_without,
      log_success = c.log_success + p_success,
      log_failed = c.log_failed + p_failed,
      log_skipped = c.log_skipped + p_skipped
  WHERE c.slot = pg_catalog.pg_backend_pid() % 16
    AND (p_jobs <> 0 OR p_without <> 0 OR p_success <> 0 OR p_failed <> 0 OR p_skipped <> 0)
$$;

-- One function per table; each branch reads only the transition tables its
-- event has (PL/pgSQL plans a statement when it first runs it).
CREATE OR REPLACE FUNCTION public.uuid_migration_count_jobs()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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

CREATE OR REPLACE FUNCTION public.uuid_migration_count_log()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
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

CREATE OR REPLACE FUNCTION public.uuid_migration_count_truncate()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF TG_TABLE_NAME = 'jobs' THEN
    UPDATE public.uuid_migration_counters SET jobs = 0, jobs_without_uuid = 0;
  ELSE
    UPDATE public.uuid_migration_counters SET log_success = 0, log_failed = 0, log_skipped = 0;
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS uuid_migration_count_insert ON public.jobs;
CREATE TRIGGER uuid_migration_count_insert AFTER INSERT ON public.jobs
  REFERENCING NEW TABLE AS counted_new
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_jobs();
DROP TRIGGER IF EXISTS uuid_migration_count_update ON public.jobs;
CREATE TRIGGER uuid_migration_count_update AFTER UPDATE ON public.jobs
  REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_jobs();
DROP TRIGGER IF EXISTS uuid_migration_count_delete ON public.jobs;
CREATE TRIGGER uuid_migration_count_delete AFTER DELETE ON public.jobs
  REFERENCING OLD TABLE AS counted_old
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_jobs();
DROP TRIGGER IF EXISTS uuid_migration_count_truncate ON public.jobs;
CREATE TRIGGER uuid_migration_count_truncate AFTER TRUNCATE ON public.jobs
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_truncate();

DROP TRIGGER IF EXISTS uuid_migration_count_insert ON public.uuid_migration_log;
CREATE TRIGGER uuid_migration_count_insert AFTER INSERT ON public.uuid_migration_log
  REFERENCING NEW TABLE AS counted_new
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_log();
DROP TRIGGER IF EXISTS uuid_migration_count_update ON public.uuid_migration_log;
CREATE TRIGGER uuid_migration_count_update AFTER UPDATE ON public.uuid_migration_log
  REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_log();
DROP TRIGGER IF EXISTS uuid_migration_count_delete ON public.uuid_migration_log;
CREATE TRIGGER uuid_migration_count_delete AFTER DELETE ON public.uuid_migration_log
  REFERENCING OLD TABLE AS counted_old
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_log();
DROP TRIGGER IF EXISTS uuid_migration_count_truncate ON public.uuid_migration_log;
CREATE TRIGGER uuid_migration_count_truncate AFTER TRUNCATE ON public.uuid_migration_log
  FOR EACH STATEMENT EXECUTE FUNCTION public.uuid_migration_count_truncate();

-- Start from the tables as they are (the triggers above already hold off writers).
SELECT public.rebuild_uuid_migration_counters();

-- The spec's seven fields from the counters: sixteen rows, whatever the tables hold.
CREATE OR REPLACE FUNCTION public.get_uuid_migration_stats()
RETURNS TABLE (
  total_jobs            bigint,
  jobs_with_uuid        bigint,
  jobs_without_uuid     bigint,
  successful_migrations bigint,
  failed_migrations     bigint,
  skipped_migrations    bigint,
  completion_percentage numeric
)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = ''
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
        FROM public.uuid_migration_counters) c
$$;

REVOKE EXECUTE ON FUNCTION
  public.rebuild_uuid_migration_counters(),
  public._uuid_migration_count(bigint, bigint, bigint, bigint, bigint),
  public.uuid_migration_count_jobs(),
  public.uuid_migration_count_log(),
  public.uuid_migration_count_truncate()
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.rebuild_uuid_migration_counters() TO service_role;
REVOKE EXECUTE ON FUNCTION public.get_uuid_migration_stats() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.get_uuid_migration_stats() TO service_role;
-- Monitoring: the stats function is SECURITY DEFINER, so it needs no table privilege.
GRANT EXECUTE ON FUNCTION public.get_uuid_migration_stats() TO uuid_migration_monitor, uuid_lookup_reader;
