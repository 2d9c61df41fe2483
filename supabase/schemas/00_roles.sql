-- The roles and auth.uid() the other files build on: Supabase's API roles, the
-- monitoring roles, and auth.uid() where Supabase has not provided it.
-- Written by hand (npm run schema:dump leaves this file alone);
-- test/servers/schema-files.test.ts holds it and the migrations equal.

DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
    -- BYPASSRLS as on Supabase: the service key is trusted server-side code.
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  -- The Postgres exporter logs in as a member: it may call the stats, compaction and
  -- fold functions, and nothing else of ours.
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'uuid_migration_monitor') THEN
    CREATE ROLE uuid_migration_monitor NOLOGIN;
  END IF;
  -- Grafana's PostgreSQL datasource logs in as a member: read-only.
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'uuid_lookup_reader') THEN
    CREATE ROLE uuid_lookup_reader NOLOGIN;
  END IF;
END
$roles$;

CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role, uuid_lookup_reader, uuid_migration_monitor;

-- auth.uid() as Supabase defines it (GoTrue's JWT claims set by PostgREST).
DO $uid$
BEGIN
  IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS uuid
      LANGUAGE sql STABLE
      SET search_path TO 'pg_catalog', 'pg_temp'
    AS $function$
      SELECT NULLIF(
        COALESCE(
          pg_catalog.current_setting('request.jwt.claim.sub', true),
          (NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        ), '')::uuid
    $function$;
    GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
  END IF;
END
$uid$;
