-- The uuid_lookup event shape through the public insert path (anon, as PostgREST
-- sets it): a success whose UUID is not a UUID (the spec's own 'uuid-123') lands
-- as micro_uuid null plus micro_uuid_raw (20261128001000_lookup_event_raw_uuid.sql),
-- and counts as a success in the spec's lookup-performance query and the rollups.
BEGIN;
SELECT plan(8);

SET LOCAL ROLE anon;
SELECT set_config('request.jwt.claims', '{"role": "anon"}', true) IS NOT NULL AS claims_set \gset

SELECT lives_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "wall-painting", "micro_uuid": null, "micro_uuid_raw": "uuid-123",
            "lookup_time_ms": 25, "success": true, "fallback_used": false}')
$$, 'anon inserts a success whose UUID is the app''s text');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": "00000000-0000-4000-8000-000000000001", "micro_uuid_raw": "x",
            "lookup_time_ms": 1, "success": true, "fallback_used": false}')
$$, '23514', NULL, 'an event with both a UUID and a raw text is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "micro_uuid_raw": "uuid-123",
            "lookup_time_ms": 1, "success": false, "fallback_used": false}')
$$, '23514', NULL, 'a failure with a raw text is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          jsonb_build_object('micro_slug', 'a', 'micro_uuid', null, 'micro_uuid_raw', repeat('x', 129),
                             'lookup_time_ms', 1, 'success', true, 'fallback_used', false))
$$, '23514', NULL, 'a raw text over 128 characters is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "micro_uuid_raw": {"x": 1},
            "lookup_time_ms": 1, "success": true, "fallback_used": false}')
$$, '23514', NULL, 'a raw text that is an object is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": true, "fallback_used": false}')
$$, '23514', NULL, 'a success naming nothing is still refused');

RESET ROLE;
SELECT results_eq($$
  SELECT COUNT(*)::int, SUM(CASE WHEN (event_properties->>'success')::boolean THEN 1 ELSE 0 END)::int
  FROM public.analytics_events
  WHERE event_name = 'uuid_lookup' AND created_at > NOW() - INTERVAL '7 days'
    AND event_properties->>'micro_slug' = 'wall-painting'
$$, $$VALUES (1, 1)$$, 'the spec''s lookup-performance query counts it as a successful lookup');
-- Folded first: inserts reach the rollups in folds (20261129000600).
DO $$ BEGIN PERFORM public.fold_lookup_analytics_rollups(); END $$;
SELECT results_eq($$SELECT sum(lookups)::int, sum(failures)::int FROM public.analytics_lookup_hourly$$,
  $$VALUES (1, 0)$$, 'the hourly rollup counts it as a lookup, not a failure');

SELECT * FROM finish();
ROLLBACK;
