-- The booking wizard's tables: micro_services, jobs, analytics_events, and the event shape.
-- The schema as the migrations leave it (supabase/migrations/ is the upgrade path);
-- test/servers/schema-files.test.ts holds the two equal. Written by `npm run schema:dump`.

SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.uuid_lookup_event_properties_valid(p jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  -- COALESCE: a missing key makes a comparison NULL, and a CHECK passes on NULL.
  SELECT COALESCE(pg_catalog.jsonb_typeof(p) = 'object'
    -- Small: the SDK's events are ~200 bytes; 2 KiB leaves room for an error message.
    AND pg_catalog.octet_length(p::text) <= 2048
    -- The keys the spec's dashboard queries read, the UUID (as a UUID or as the
    -- app's text) and the error message; nothing else.
    AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.jsonb_object_keys(p) AS k
      WHERE k NOT IN ('micro_slug', 'micro_uuid', 'micro_uuid_raw', 'lookup_time_ms', 'success', 'fallback_used',
                      'error_message')
    )
    AND pg_catalog.jsonb_typeof(p -> 'micro_slug') = 'string'
    AND pg_catalog.char_length(p ->> 'micro_slug') BETWEEN 1 AND 200
    AND pg_catalog.jsonb_typeof(p -> 'success') = 'boolean'
    AND pg_catalog.jsonb_typeof(p -> 'fallback_used') = 'boolean'
    AND pg_catalog.jsonb_typeof(p -> 'lookup_time_ms') = 'number'
    -- A lookup longer than ten minutes is not a measurement.
    AND (p ->> 'lookup_time_ms')::numeric BETWEEN 0 AND 600000
    AND COALESCE(pg_catalog.jsonb_typeof(p -> 'micro_uuid'), 'null') IN ('null', 'string')
    AND COALESCE(
          p ->> 'micro_uuid' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
          true)
    AND COALESCE(pg_catalog.jsonb_typeof(p -> 'micro_uuid_raw'), 'null') IN ('null', 'string')
    AND COALESCE(pg_catalog.char_length(p ->> 'micro_uuid_raw'), 0) <= 128
    -- At most one of the two.
    AND NOT (p ->> 'micro_uuid' IS NOT NULL AND p ->> 'micro_uuid_raw' IS NOT NULL)
    -- A success names what it resolved to (a UUID, or the app's text); a failure names nothing.
    AND ((p ->> 'success')::boolean = (p ->> 'micro_uuid' IS NOT NULL OR p ->> 'micro_uuid_raw' IS NOT NULL))
    AND COALESCE(pg_catalog.jsonb_typeof(p -> 'error_message'), 'null') IN ('null', 'string')
    AND COALESCE(pg_catalog.char_length(p ->> 'error_message'), 0) <= 1000, false)
$_$;

COMMENT ON FUNCTION public.uuid_lookup_event_properties_valid(p jsonb) IS 'True when event_properties is a well-formed uuid_lookup event (see DESIGN.md, Analytics event contract; a success whose UUID is not one carries micro_uuid null and micro_uuid_raw, see 20261128001000_lookup_event_raw_uuid.sql).';

CREATE TABLE public.analytics_events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    event_name text NOT NULL,
    event_category text,
    event_properties jsonb DEFAULT '{}'::jsonb NOT NULL,
    session_id text,
    user_id uuid DEFAULT auth.uid(),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    region text,
    client_created_at timestamp with time zone
);

CREATE TABLE public.jobs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    micro_id text,
    micro_uuid uuid,
    user_id uuid DEFAULT auth.uid(),
    session_id text,
    title text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.micro_services (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT micro_services_slug_format CHECK (((slug <> ''::text) AND (length(slug) <= 200)))
);

ALTER TABLE public.analytics_events
    ADD CONSTRAINT analytics_events_context_shape CHECK ((((region IS NULL) OR (region ~ '^[A-Za-z0-9_-]{1,32}$'::text)) AND ((session_id IS NULL) OR ((char_length(session_id) >= 1) AND (char_length(session_id) <= 128))))) NOT VALID;

ALTER TABLE ONLY public.analytics_events
    ADD CONSTRAINT analytics_events_pkey PRIMARY KEY (id);

ALTER TABLE public.analytics_events
    ADD CONSTRAINT analytics_events_uuid_lookup_shape CHECK (((event_name <> 'uuid_lookup'::text) OR ((event_category = 'wizard_flow'::text) AND public.uuid_lookup_event_properties_valid(event_properties)))) NOT VALID;

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.micro_services
    ADD CONSTRAINT micro_services_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.micro_services
    ADD CONSTRAINT micro_services_slug_key UNIQUE (slug);

CREATE INDEX idx_analytics_events_uuid_lookup_created_at ON public.analytics_events USING btree (created_at) WHERE (event_name = 'uuid_lookup'::text);

CREATE INDEX idx_analytics_events_uuid_lookup_time ON public.analytics_events USING btree ((((event_properties ->> 'lookup_time_ms'::text))::numeric)) WHERE (event_name = 'uuid_lookup'::text);

CREATE INDEX idx_jobs_micro_uuid ON public.jobs USING btree (micro_uuid);

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_micro_uuid_fkey FOREIGN KEY (micro_uuid) REFERENCES public.micro_services(id);
