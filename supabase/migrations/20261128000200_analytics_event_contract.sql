-- The uuid_lookup event contract (docs/architecture.md, "Analytics event"), enforced
-- by the database, not only by the SDK: the public insert path (anon and
-- authenticated through PostgREST) is reachable by anyone holding the anon key.

CREATE OR REPLACE FUNCTION public.uuid_lookup_event_properties_valid(p jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = ''
AS $$
  -- COALESCE: a missing key makes a comparison NULL, and a CHECK passes on NULL.
  SELECT COALESCE(pg_catalog.jsonb_typeof(p) = 'object'
    -- Small: the SDK's events are ~200 bytes; 2 KiB leaves room for an error message.
    AND pg_catalog.octet_length(p::text) <= 2048
    -- Exactly the keys the spec's dashboard queries read, nothing else.
    AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.jsonb_object_keys(p) AS k
      WHERE k NOT IN ('micro_slug', 'micro_uuid', 'lookup_time_ms', 'success', 'fallback_used', 'error_message')
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
    -- A success names its UUID; a failure has none.
    AND ((p ->> 'success')::boolean = (p ->> 'micro_uuid' IS NOT NULL))
    AND COALESCE(pg_catalog.jsonb_typeof(p -> 'error_message'), 'null') IN ('null', 'string')
    AND COALESCE(pg_catalog.char_length(p ->> 'error_message'), 0) <= 1000, false)
$$;

COMMENT ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) IS
  'True when event_properties is a well-formed uuid_lookup event (see docs/architecture.md, Analytics event).';

-- NOT VALID: rows written before this migration (other phases, other event names)
-- are not re-checked; every new or updated row is.
DO $contract$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint
    WHERE conrelid = 'public.analytics_events'::regclass AND conname = 'analytics_events_uuid_lookup_shape'
  ) THEN
    ALTER TABLE public.analytics_events
      ADD CONSTRAINT analytics_events_uuid_lookup_shape CHECK (
        event_name <> 'uuid_lookup'
        OR (event_category = 'wizard_flow' AND public.uuid_lookup_event_properties_valid(event_properties))
      ) NOT VALID;
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint
    WHERE conrelid = 'public.analytics_events'::regclass AND conname = 'analytics_events_context_shape'
  ) THEN
    -- region is a coarse code the app knows (e.g. 'eu-west', 'DE-BY'), never an
    -- address; session_id an opaque token.
    ALTER TABLE public.analytics_events
      ADD CONSTRAINT analytics_events_context_shape CHECK (
        (region IS NULL OR region ~ '^[A-Za-z0-9_-]{1,32}$')
        AND (session_id IS NULL OR char_length(session_id) BETWEEN 1 AND 128)
      ) NOT VALID;
  END IF;
END
$contract$;

-- At-least-once delivery without duplicates: the SDK generates each event's id
-- and retries a batch whose fate it does not know. A plain INSERT of an id that
-- already landed is skipped here, so the public insert path needs no SELECT right
-- (which ON CONFLICT would) and no row is ever readable by the API roles.
-- SECURITY DEFINER: the check must see rows RLS hides from the inserting role.
-- Two copies racing in concurrent transactions still meet the primary key; the
-- loser's batch fails, is retried, and is skipped here.
CREATE OR REPLACE FUNCTION public.skip_duplicate_uuid_lookup_event()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM public.analytics_events e WHERE e.id = NEW.id) THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION public.skip_duplicate_uuid_lookup_event() FROM PUBLIC, anon, authenticated;

DROP TRIGGER IF EXISTS skip_duplicate_uuid_lookup_event ON public.analytics_events;
CREATE TRIGGER skip_duplicate_uuid_lookup_event
  BEFORE INSERT ON public.analytics_events
  FOR EACH ROW
  WHEN (NEW.event_name = 'uuid_lookup')
  EXECUTE FUNCTION public.skip_duplicate_uuid_lookup_event();
