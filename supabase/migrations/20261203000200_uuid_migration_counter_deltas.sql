-- The migration counters as append-only deltas: the app's writes to jobs never
-- wait or fail for them (issue 22).
--
-- Until now (20261128001200) every statement on jobs or the log that changed a
-- count updated one of 16 counter rows, chosen by pg_backend_pid() % 16, and held
-- its lock until the transaction ended. Two unrelated transactions on backends
-- with the same remainder therefore queued on that row: a job insert waited for
-- another open transaction's insert (or for a whole migration batch), an
-- update-then-update pattern that only waits without the triggers deadlocked
-- (40P01), and at REPEATABLE READ a job insert failed (40001) when an unrelated
-- job write had changed that row after the snapshot. And one idle transaction
-- that inserted a job stalled every migration batch on its slot.
--
-- Now:
-- * The triggers (unchanged) add what a statement changed as a new row of
--   uuid_migration_counter_deltas. An insert takes no lock that another
--   transaction waits for, and conflicts with no other write.
-- * uuid_migration_counters keeps one row (slot 0): the deltas folded so far.
--   get_uuid_migration_stats() adds that row and the deltas not yet folded, in
--   one snapshot, so it is exact whenever it runs.
-- * compact_uuid_migration_counters() folds the committed deltas into slot 0 and
--   returns how many rows it folded. Only it, the rebuild and TRUNCATE write
--   slot 0, each under the counters' advisory lock (key below); compaction only
--   tries it (returns NULL when taken), and does nothing in a read-only
--   transaction or above READ COMMITTED, where a delete of rows another
--   compaction deleted would fail. It never runs on the app's path.
--   postgres_exporter calls it with the stats on each scrape of the
--   uuid_migration query (prometheus/postgres-exporter/queries.yml), as the CLI
--   does before it reads the stats; without the exporter, pg_cron can call it
--   every minute (README). Until something compacts, the stats read one more
--   row per statement that changed a count: exact, only slower.

CREATE TABLE IF NOT EXISTS public.uuid_migration_counter_deltas (
  jobs              bigint NOT NULL DEFAULT 0,
  jobs_without_uuid bigint NOT NULL DEFAULT 0,
  log_success       bigint NOT NULL DEFAULT 0,
  log_failed        bigint NOT NULL DEFAULT 0,
  log_skipped       bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE public.uuid_migration_counter_deltas IS
  'What each statement on jobs or uuid_migration_log changed in the counts, until compact_uuid_migration_counters() folds it into uuid_migration_counters.';
ALTER TABLE public.uuid_migration_counter_deltas ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.uuid_migration_counter_deltas FROM anon, authenticated;
GRANT SELECT ON public.uuid_migration_counter_deltas TO service_role, uuid_lookup_reader;
DROP POLICY IF EXISTS uuid_migration_counter_deltas_read_monitoring ON public.uuid_migration_counter_deltas;
CREATE POLICY uuid_migration_counter_deltas_read_monitoring ON public.uuid_migration_counter_deltas
  FOR SELECT TO uuid_lookup_reader USING (true);

-- The spec's seven fields: the counters and the deltas not yet folded, in one
-- snapshot (first, so the stats stay exact while the rest of this migration runs).
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
SET search_path = pg_catalog, pg_temp
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

-- Adds one statement's deltas: a new row, no shared one.
CREATE OR REPLACE FUNCTION public._uuid_migration_count(
  p_jobs bigint, p_without bigint, p_success bigint, p_failed bigint, p_skipped bigint)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  INSERT INTO public.uuid_migration_counter_deltas (jobs, jobs_without_uuid, log_success, log_failed, log_skipped)
  SELECT p_jobs, p_without, p_success, p_failed, p_skipped
  WHERE p_jobs <> 0 OR p_without <> 0 OR p_success <> 0 OR p_failed <> 0 OR p_skipped <> 0
$$;

-- The 16 slots become slot 0: from here on the triggers write deltas, not slots.
-- One statement (supabase db push runs a migration's statements outside a
-- transaction block), holding off the writers of the slots that remain.
DO $fold$
BEGIN
  LOCK TABLE public.jobs, public.uuid_migration_log IN SHARE ROW EXCLUSIVE MODE;
  INSERT INTO public.uuid_migration_counters (slot) VALUES (0) ON CONFLICT (slot) DO NOTHING;
  UPDATE public.uuid_migration_counters c
  SET jobs = s.jobs, jobs_without_uuid = s.without, log_success = s.success, log_failed = s.failed, log_skipped = s.skipped
  FROM (SELECT pg_catalog.sum(jobs) AS jobs, pg_catalog.sum(jobs_without_uuid) AS without, pg_catalog.sum(log_success) AS success,
               pg_catalog.sum(log_failed) AS failed, pg_catalog.sum(log_skipped) AS skipped
        FROM public.uuid_migration_counters) s
  WHERE c.slot = 0;
  DELETE FROM public.uuid_migration_counters WHERE slot <> 0;
END
$fold$;

-- Folds the committed deltas into slot 0; the number of rows folded, or NULL when
-- it did not run (another compaction holds the lock; a read-only transaction; an
-- isolation level above READ COMMITTED).
CREATE OR REPLACE FUNCTION public.compact_uuid_migration_counters()
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

-- Counts everything again, in one transaction that holds off writers and
-- compactions: the repair after a bulk load without triggers.
CREATE OR REPLACE FUNCTION public.rebuild_uuid_migration_counters()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

-- TRUNCATE holds the table exclusively, so every delta of its columns has
-- committed: zero its columns in the deltas and in the counters.
CREATE OR REPLACE FUNCTION public.uuid_migration_count_truncate()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

REVOKE EXECUTE ON FUNCTION public.compact_uuid_migration_counters() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.compact_uuid_migration_counters() TO service_role, uuid_migration_monitor;
