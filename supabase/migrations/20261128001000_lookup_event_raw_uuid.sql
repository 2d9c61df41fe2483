-- A successful lookup whose UUID is not a UUID is still a lookup.
--
-- The spec's own usage example is `uuidLookupLogger.logSuccess('wall-painting',
-- 'uuid-123', 25, false)`, and DESIGN.md (SDK contract) says a lookup counts
-- whatever value the app passes as its UUID. The SDK therefore records such a
-- lookup as a success and keeps its event, shaped:
--
--   micro_uuid      null (the column only ever holds a UUID)
--   micro_uuid_raw  the app's value as text, at most 128 characters
--   success         true
--
-- The spec's lookup-performance query and the rollups of
-- 20261128000800_lookup_analytics_rollups.sql read `success` and
-- `fallback_used`, so the lookup is counted as successful there too.
--
-- This widens uuid_lookup_event_properties_valid (first defined in
-- 20261128000200_analytics_event_contract.sql) by exactly that shape:
--   * `micro_uuid_raw` is an allowed key: absent, JSON null, or a string of at
--     most 128 characters;
--   * a success names its UUID in `micro_uuid` or, failing that, in
--     `micro_uuid_raw`, never both; a failure has neither.
-- Every event valid before stays valid. CREATE OR REPLACE keeps the function's
-- grants and the CHECK constraint that calls it; applying this twice changes
-- nothing.

CREATE OR REPLACE FUNCTION public.uuid_lookup_event_properties_valid(p jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = ''
AS $$
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
$$;

COMMENT ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) IS
  'True when event_properties is a well-formed uuid_lookup event (see DESIGN.md, Analytics event contract; '
  'a success whose UUID is not one carries micro_uuid null and micro_uuid_raw, see 20261128001000_lookup_event_raw_uuid.sql).';
