-- Row Level Security and grants (Supabase).
--
-- Supabase's defaults (ALTER DEFAULT PRIVILEGES in schema public) grant anon,
-- authenticated and service_role every privilege on new tables, functions and
-- sequences, and PostgreSQL grants EXECUTE on new functions to PUBLIC. This file
-- revokes what the API roles must not have, then grants exactly what the wizard
-- needs. Re-running it leaves the same state.

ALTER TABLE public.micro_services     ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.jobs               ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.analytics_events   ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.uuid_migration_log ENABLE ROW LEVEL SECURITY;

-- micro_services: the wizard (signed in or not) reads the catalogue; nobody
-- writes it through the API.
REVOKE ALL ON public.micro_services FROM anon, authenticated;
GRANT SELECT ON public.micro_services TO anon, authenticated;
DROP POLICY IF EXISTS micro_services_read_all ON public.micro_services;
CREATE POLICY micro_services_read_all ON public.micro_services
  FOR SELECT TO anon, authenticated USING (true);

-- analytics_events: the SDK may insert well-formed uuid_lookup events and read
-- nothing back. Column grants keep created_at (the server's clock, what the
-- dashboards order by) and user_id (auth.uid(), set by the default) out of the
-- client's hands; the policy checks the same again, each layer on its own.
REVOKE ALL ON public.analytics_events FROM anon, authenticated;
GRANT INSERT (id, event_name, event_category, event_properties, session_id, region, client_created_at)
  ON public.analytics_events TO anon, authenticated;
-- No SELECT, not even of id: INSERT ... ON CONFLICT (id) would need it, and
-- with it every new row would have to pass a SELECT policy. A retried batch is
-- made harmless by the skip_duplicate_uuid_lookup_event trigger instead.
DROP POLICY IF EXISTS analytics_events_insert_uuid_lookup ON public.analytics_events;
CREATE POLICY analytics_events_insert_uuid_lookup ON public.analytics_events
  FOR INSERT TO anon, authenticated
  WITH CHECK (
    event_name = 'uuid_lookup'
    AND event_category = 'wizard_flow'
    AND user_id IS NOT DISTINCT FROM (SELECT auth.uid())
    AND created_at BETWEEN now() - interval '1 minute' AND now() + interval '1 minute'
  );

-- jobs: owned by the application since earlier phases. Where the table has no
-- policies yet (a fresh database), signed-in users submit and read their own
-- jobs; existing policies are left as the application defined them. The API roles
-- never get TRUNCATE, TRIGGER or REFERENCES, which RLS does not govern.
REVOKE TRUNCATE, TRIGGER, REFERENCES ON public.jobs FROM anon, authenticated;
REVOKE ALL ON public.jobs FROM anon;
DO $jobs_policies$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policies WHERE schemaname = 'public' AND tablename = 'jobs')
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                 WHERE attrelid = 'public.jobs'::regclass AND attname = 'user_id' AND NOT attisdropped)
  THEN
    REVOKE ALL ON public.jobs FROM authenticated;
    GRANT SELECT, INSERT ON public.jobs TO authenticated;
    CREATE POLICY jobs_insert_own ON public.jobs
      FOR INSERT TO authenticated WITH CHECK (user_id = (SELECT auth.uid()));
    CREATE POLICY jobs_select_own ON public.jobs
      FOR SELECT TO authenticated USING (user_id = (SELECT auth.uid()));
  END IF;
END
$jobs_policies$;

-- uuid_migration_log: operators only (service_role bypasses RLS; no policy
-- exists for the API roles, and no grant either).
REVOKE ALL ON public.uuid_migration_log FROM anon, authenticated;

-- service_role: on Supabase it already holds everything by default privileges;
-- on plain PostgreSQL it gets what the migration needs.
GRANT SELECT ON public.micro_services TO service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.jobs, public.analytics_events, public.uuid_migration_log TO service_role;
GRANT INSERT, UPDATE, DELETE ON public.micro_services TO service_role;

-- Functions: the migration's functions revoke EXECUTE from PUBLIC and the API
-- roles and grant it to the operators' roles where they are defined
-- (20261128001100).

-- The event shape check is used by a CHECK constraint, which evaluates with the
-- inserting role's EXECUTE right; it is pure and reads nothing.
GRANT EXECUTE ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) TO anon, authenticated, service_role;
