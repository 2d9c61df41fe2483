-- The spec's "Review slow lookups (> 100ms)" query orders uuid_lookup events by
-- lookup_time_ms: this index answers it by reading the top 20 entries instead of
-- every event (bench/dashboard-queries.bench.ts measures both).
CREATE INDEX IF NOT EXISTS idx_analytics_events_uuid_lookup_time
  ON public.analytics_events (((event_properties ->> 'lookup_time_ms')::numeric))
  WHERE event_name = 'uuid_lookup';
