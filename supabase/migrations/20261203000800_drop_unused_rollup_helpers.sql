-- Three helpers of 20261128000800 that nothing calls: the first rollup functions
-- assembled their statements with format() from _analytics_rollup_sql() and
-- _analytics_sessions_sql(), and applied journeys with _analytics_journey_apply();
-- the fold has been restated in literal text since (20261203000600), and the
-- journeys go through _analytics_journey_change(). Dropped, so the schema holds
-- only what runs (supabase/schemas/40_rollups.sql).
DROP FUNCTION IF EXISTS public._analytics_rollup_sql(text, integer);
DROP FUNCTION IF EXISTS public._analytics_sessions_sql(text);
DROP FUNCTION IF EXISTS public._analytics_journey_apply(text[], integer);
