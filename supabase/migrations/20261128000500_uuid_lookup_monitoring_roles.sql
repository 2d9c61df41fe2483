-- Read access for dashboards (Grafana's PostgreSQL datasource runs the spec's
-- monitoring queries). The role is NOLOGIN: a deployment creates a login that
-- is a member of it (`uuid-lookup db create-login`), with its own password.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'uuid_lookup_reader') THEN
    CREATE ROLE uuid_lookup_reader NOLOGIN;
  END IF;
END
$roles$;

GRANT USAGE ON SCHEMA public TO uuid_lookup_reader, uuid_migration_monitor;
GRANT SELECT ON public.analytics_events, public.uuid_migration_log, public.micro_services TO uuid_lookup_reader;
-- Jobs: only what the spec's queries read, not the rest of a customer's job.
GRANT SELECT (id, micro_id, micro_uuid, created_at) ON public.jobs TO uuid_lookup_reader;

-- RLS is on for every table: the reader sees all rows of these, and may not write.
DROP POLICY IF EXISTS analytics_events_read_monitoring ON public.analytics_events;
CREATE POLICY analytics_events_read_monitoring ON public.analytics_events FOR SELECT TO uuid_lookup_reader USING (true);
DROP POLICY IF EXISTS uuid_migration_log_read_monitoring ON public.uuid_migration_log;
CREATE POLICY uuid_migration_log_read_monitoring ON public.uuid_migration_log FOR SELECT TO uuid_lookup_reader USING (true);
DROP POLICY IF EXISTS micro_services_read_monitoring ON public.micro_services;
CREATE POLICY micro_services_read_monitoring ON public.micro_services FOR SELECT TO uuid_lookup_reader USING (true);
DROP POLICY IF EXISTS jobs_read_monitoring ON public.jobs;
CREATE POLICY jobs_read_monitoring ON public.jobs FOR SELECT TO uuid_lookup_reader USING (true);
