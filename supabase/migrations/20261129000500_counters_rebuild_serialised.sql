-- rebuild_uuid_migration_counters() (20261128001200) took SHARE locks on jobs and
-- the log. They hold off writers but not a second rebuild: two at once both
-- emptied the counters and the second then failed on the slots' primary key
-- (23505) once the first committed. SHARE ROW EXCLUSIVE conflicts with itself,
-- so the second waits and rebuilds from the tables as the first left them, as
-- rebuild_lookup_analytics_rollups() (20261129000400) does. The body is
-- otherwise the same.
CREATE OR REPLACE FUNCTION public.rebuild_uuid_migration_counters()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  LOCK TABLE public.jobs, public.uuid_migration_log IN SHARE ROW EXCLUSIVE MODE;
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
