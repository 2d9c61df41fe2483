-- UUID lookup observability: roles, the auth.uid() shim and the three tables the
-- booking wizard already uses (micro_services, jobs, analytics_events).
--
-- Additive and idempotent: on a Supabase project these objects exist from earlier
-- phases and every statement below either adds what is missing or does nothing.
-- On plain PostgreSQL (tests, the embedded demo) it creates what Supabase would
-- have provided. Running this file twice is a no-op.

-- Supabase's API roles. On Supabase they exist; elsewhere they are created here so
-- that the grants and RLS policies of later migrations mean the same thing.
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
  -- Read-only role for monitoring (the Postgres exporter logs in as a member of it):
  -- it may call get_uuid_migration_stats() and nothing else of ours.
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'uuid_migration_monitor') THEN
    CREATE ROLE uuid_migration_monitor NOLOGIN;
  END IF;
END
$roles$;

-- auth.uid() as Supabase defines it (GoTrue's JWT claims set by PostgREST), only
-- where Supabase has not already provided it.
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

DO $uid$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'auth' AND p.proname = 'uid'
  ) THEN
    CREATE FUNCTION auth.uid() RETURNS uuid
      LANGUAGE sql STABLE
      SET search_path = ''
    AS $fn$
      SELECT NULLIF(
        COALESCE(
          pg_catalog.current_setting('request.jwt.claim.sub', true),
          (NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        ), '')::uuid
    $fn$;
    GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
  END IF;
END
$uid$;

-- micro_services: the slug → UUID catalogue the wizard reads.
CREATE TABLE IF NOT EXISTS public.micro_services (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug       text NOT NULL,
  name       text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT micro_services_slug_key UNIQUE (slug),
  CONSTRAINT micro_services_slug_format CHECK (slug <> '' AND length(slug) <= 200)
);

-- The spec's idx_micro_services_slug, but only where no index already leads with
-- slug: on a table we created, the UNIQUE constraint's index serves the lookup and
-- a second index would only slow writes.
DO $slug_index$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = 'public.micro_services'::regclass
      AND a.attname = 'slug'
      AND i.indpred IS NULL
  ) THEN
    CREATE INDEX idx_micro_services_slug ON public.micro_services (slug);
  END IF;
END
$slug_index$;

-- jobs: what the wizard submits. micro_id stays the slug for compatibility;
-- micro_uuid is the reference this product back-fills.
CREATE TABLE IF NOT EXISTS public.jobs (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  micro_id   text,
  micro_uuid uuid,
  user_id    uuid DEFAULT auth.uid(),
  session_id text,
  title      text,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.jobs ADD COLUMN IF NOT EXISTS micro_id text;
ALTER TABLE public.jobs ADD COLUMN IF NOT EXISTS micro_uuid uuid;
ALTER TABLE public.jobs ADD COLUMN IF NOT EXISTS session_id text;

-- The reference to micro_services. Added NOT VALID then validated: validation
-- takes only a SHARE UPDATE EXCLUSIVE lock, so a large live jobs table keeps
-- taking writes while it runs.
DO $jobs_fk$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint
    WHERE conrelid = 'public.jobs'::regclass AND contype = 'f'
      AND confrelid = 'public.micro_services'::regclass
  ) THEN
    ALTER TABLE public.jobs
      ADD CONSTRAINT jobs_micro_uuid_fkey FOREIGN KEY (micro_uuid)
      REFERENCES public.micro_services (id) NOT VALID;
    ALTER TABLE public.jobs VALIDATE CONSTRAINT jobs_micro_uuid_fkey;
  END IF;
END
$jobs_fk$;

-- The spec's index: the FK needs it (deleting a service must not scan jobs) and
-- so do lookups by UUID.
CREATE INDEX IF NOT EXISTS idx_jobs_micro_uuid ON public.jobs (micro_uuid);

-- The migration's work list: only jobs still lacking a UUID, in id order, so each
-- batch is an index range scan and the index shrinks to nothing as jobs are
-- migrated (new jobs carry micro_uuid from the wizard).
CREATE INDEX IF NOT EXISTS idx_jobs_without_micro_uuid ON public.jobs (id) WHERE micro_uuid IS NULL;

-- analytics_events: the SDK writes uuid_lookup events here (docs/architecture.md,
-- "Analytics event"). The id is generated by the client so that a retried batch
-- never lands twice (20261128000200 skips an id that already landed).
CREATE TABLE IF NOT EXISTS public.analytics_events (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_name       text NOT NULL,
  event_category   text,
  event_properties jsonb NOT NULL DEFAULT '{}'::jsonb,
  session_id       text,
  user_id          uuid DEFAULT auth.uid(),
  created_at       timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.analytics_events ADD COLUMN IF NOT EXISTS session_id text;
-- The signed-in user as Supabase knows it; set by the database, never by the client.
ALTER TABLE public.analytics_events ADD COLUMN IF NOT EXISTS user_id uuid DEFAULT auth.uid();
ALTER TABLE public.analytics_events ADD COLUMN IF NOT EXISTS region text;
-- The client's clock, kept apart from created_at: never trusted for ordering.
ALTER TABLE public.analytics_events ADD COLUMN IF NOT EXISTS client_created_at timestamptz;

-- The dashboards read uuid_lookup events by time; a partial index keeps other
-- event types out of it.
CREATE INDEX IF NOT EXISTS idx_analytics_events_uuid_lookup_created_at
  ON public.analytics_events (created_at)
  WHERE event_name = 'uuid_lookup';
