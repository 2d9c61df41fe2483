-- Row Level Security and grants, as Supabase's API roles meet them: each test
-- switches role the way PostgREST does (SET ROLE plus request.jwt.claims).
-- Run with pg_prove against a database prepared with Supabase's default
-- privileges and our migrations (npm run test:pgtap does both).
BEGIN;
SELECT plan(78);

-- Fixtures, as the owner.
INSERT INTO public.micro_services (id, slug, name)
VALUES ('00000000-0000-4000-8000-000000000001', 'wall-painting', 'Wall painting');
INSERT INTO public.jobs (id, micro_id, user_id)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'wall-painting', '11111111-1111-4111-8111-111111111111');

-- RLS is on for every table.
SELECT ok(relrowsecurity, format('RLS is enabled on %s', relname))
FROM pg_class
WHERE oid IN ('public.micro_services'::regclass, 'public.jobs'::regclass,
              'public.analytics_events'::regclass, 'public.uuid_migration_log'::regclass)
ORDER BY relname;

-- SECURITY DEFINER functions pin search_path to pg_catalog, then pg_temp last:
-- an empty path would still search the caller's temporary schema first for
-- type names (20261129000200).
SELECT is(
  (SELECT count(*)::int FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace AND prosecdef
     AND NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)),
  0, 'every SECURITY DEFINER function in public sets search_path to pg_catalog, pg_temp');

-- ===== anon =====
SET LOCAL ROLE anon;
SELECT set_config('request.jwt.claims', '{"role": "anon"}', true) IS NOT NULL AS claims_set \gset

SELECT results_eq($$SELECT slug FROM public.micro_services$$, ARRAY['wall-painting'],
  'anon reads micro_services (the wizard needs it)');
SELECT throws_ok($$INSERT INTO public.micro_services (slug) VALUES ('x')$$, '42501', NULL,
  'anon cannot add a micro_service');

SELECT lives_ok($$
  INSERT INTO public.analytics_events (id, event_name, event_category, event_properties)
  VALUES ('00000000-0000-4000-8000-0000000000e1', 'uuid_lookup', 'wizard_flow',
          '{"micro_slug": "wall-painting", "micro_uuid": "00000000-0000-4000-8000-000000000001",
            "lookup_time_ms": 25, "success": true, "fallback_used": false}')
$$, 'anon inserts a well-formed uuid_lookup event');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (id, event_name, event_category, event_properties)
  VALUES ('00000000-0000-4000-8000-0000000000e1', 'uuid_lookup', 'wizard_flow',
          '{"micro_slug": "wall-painting", "micro_uuid": "00000000-0000-4000-8000-000000000001",
            "lookup_time_ms": 25, "success": true, "fallback_used": false}')
$$, '23505', NULL, 'anon retries the same event: the primary key refuses it (the SDK counts it as landed)');
SELECT lives_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties, session_id, region)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "unknown", "micro_uuid": null, "lookup_time_ms": 15.5, "success": false,
            "fallback_used": false, "error_message": "Service not found"}', 'session-1', 'eu-west')
$$, 'anon inserts a failure event with session and region');

SELECT throws_ok($$SELECT * FROM public.analytics_events$$, '42501', NULL, 'anon cannot read analytics_events');
SELECT throws_ok($$SELECT id FROM public.analytics_events$$, '42501', NULL, 'anon cannot read even the event ids');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('page_view', 'wizard_flow', '{}')
$$, '42501', NULL, 'anon cannot insert another event name (policy)');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": false, "fallback_used": false, "email": "x@y.z"}')
$$, '23514', NULL, 'an event with a key outside the contract is refused (constraint)');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          jsonb_build_object('micro_slug', 'a', 'micro_uuid', null, 'lookup_time_ms', 1, 'success', false,
                             'fallback_used', false, 'error_message', repeat('x', 5000)))
$$, '23514', NULL, 'an oversized event is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": "25", "success": false, "fallback_used": false}')
$$, '23514', NULL, 'an event with a string lookup_time_ms is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": -3, "success": false, "fallback_used": false}')
$$, '23514', NULL, 'an event with a negative lookup time is refused');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties, created_at)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": false, "fallback_used": false}',
          now() - interval '30 days')
$$, '42501', NULL, 'anon cannot forge created_at (column grant)');
SELECT throws_ok($$
  INSERT INTO public.analytics_events (event_name, event_category, event_properties, user_id)
  VALUES ('uuid_lookup', 'wizard_flow',
          '{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": false, "fallback_used": false}',
          '11111111-1111-4111-8111-111111111111')
$$, '42501', NULL, 'anon cannot claim a user id (column grant)');

SELECT throws_ok($$SELECT * FROM public.uuid_migration_log$$, '42501', NULL, 'anon cannot read the migration log');
SELECT throws_ok($$SELECT * FROM public.jobs$$, '42501', NULL, 'anon cannot read jobs');
SELECT throws_ok($$TRUNCATE public.jobs$$, '42501', NULL, 'anon cannot truncate jobs');
SELECT throws_ok($$SELECT * FROM public.migrate_job_uuids()$$, '42501', NULL, 'anon cannot run migrate_job_uuids()');
SELECT throws_ok($$SELECT * FROM public.migrate_job_uuids_batch(10)$$, '42501', NULL, 'anon cannot run a migration batch');
SELECT throws_ok($$SELECT * FROM public.get_uuid_migration_stats()$$, '42501', NULL, 'anon cannot read the migration stats');
SELECT throws_ok($$SELECT * FROM public.uuid_migration_log_history$$, '42501', NULL, 'anon cannot read the migration history');
SELECT throws_ok($$SELECT * FROM public.uuid_migration_runs$$, '42501', NULL, 'anon cannot read the migration runs');
SELECT throws_ok($$UPDATE public.uuid_migration_runs SET requested = 'cancel'$$, '42501', NULL, 'anon cannot pause or cancel a run');
SELECT throws_ok($$INSERT INTO public.uuid_migration_counter_deltas (jobs) VALUES (1000)$$, '42501', NULL, 'anon cannot skew the migration counters');
SELECT throws_ok($$SELECT public.compact_uuid_migration_counters()$$, '42501', NULL, 'anon cannot compact the migration counters');
SELECT throws_ok($$UPDATE public.analytics_rollup_limits SET regions_per_hour = 100000$$, '42501', NULL, 'anon cannot raise the rollups'' label bounds');
SELECT throws_ok($$INSERT INTO public.analytics_rollup_relabelled (id, region) VALUES (gen_random_uuid(), 'x')$$, '42501', NULL,
  'anon cannot change the labels the rollups counted events under');
SELECT throws_ok($$INSERT INTO public.analytics_rollup_pending_jobs (session_id, created_at) VALUES ('s', now())$$, '42501', NULL,
  'anon cannot add a pending job to the journeys');
SELECT throws_ok($$SELECT * FROM public.rollback_job_uuid_migration(gen_random_uuid())$$, '42501', NULL, 'anon cannot roll a run back');
SELECT throws_ok($$SELECT * FROM public._uuid_migration_apply(ARRAY[]::uuid[], ARRAY[]::tid[], ARRAY[]::text[], gen_random_uuid(), 'all')$$, '42501', NULL,
  'anon cannot call the internal apply function');

-- ===== authenticated =====
RESET ROLE;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "22222222-2222-4222-8222-222222222222", "role": "authenticated"}', true) IS NOT NULL AS claims_set \gset

SELECT lives_ok($$
  INSERT INTO public.analytics_events (id, event_name, event_category, event_properties)
  VALUES ('00000000-0000-4000-8000-0000000000e2', 'uuid_lookup', 'wizard_flow',
          '{"micro_slug": "wall-painting", "micro_uuid": "00000000-0000-4000-8000-000000000001",
            "lookup_time_ms": 40, "success": true, "fallback_used": true}')
$$, 'a signed-in user inserts an event');
SELECT throws_ok($$SELECT * FROM public.analytics_events$$, '42501', NULL, 'a signed-in user cannot read analytics_events');
SELECT throws_ok($$SELECT * FROM public.uuid_migration_log$$, '42501', NULL, 'a signed-in user cannot read the migration log');
SELECT throws_ok($$UPDATE public.uuid_migration_runs SET requested = 'cancel'$$, '42501', NULL, 'a signed-in user cannot pause or cancel a run');
SELECT throws_ok($$SELECT * FROM public.uuid_migration_counter_deltas$$, '42501', NULL, 'a signed-in user cannot read the counter deltas');
SELECT throws_ok($$SELECT * FROM public.migrate_job_uuids()$$, '42501', NULL, 'a signed-in user cannot run the migration');
SELECT throws_ok($$SELECT * FROM public.get_uuid_migration_stats()$$, '42501', NULL, 'a signed-in user cannot read the stats');
SELECT is_empty($$SELECT id FROM public.jobs$$, 'a signed-in user does not see another user''s job');
SELECT lives_ok($$INSERT INTO public.jobs (micro_id, micro_uuid) VALUES ('wall-painting', '00000000-0000-4000-8000-000000000001')$$,
  'a signed-in user submits a job with slug and UUID');
SELECT throws_ok($$INSERT INTO public.jobs (micro_id, user_id) VALUES ('wall-painting', '11111111-1111-4111-8111-111111111111')$$,
  '42501', NULL, 'a signed-in user cannot submit a job as someone else');

RESET ROLE;
SELECT is((SELECT user_id FROM public.analytics_events WHERE id = '00000000-0000-4000-8000-0000000000e2'),
  '22222222-2222-4222-8222-222222222222'::uuid, 'the event carries auth.uid(), set by the database');
SELECT is((SELECT count(*)::int FROM public.analytics_events WHERE id = '00000000-0000-4000-8000-0000000000e1'), 1,
  'the retried event landed once');

-- ===== each layer on its own: with a SELECT grant but no SELECT policy, RLS still hides every row =====
GRANT SELECT ON public.analytics_events, public.uuid_migration_log TO anon;
SET LOCAL ROLE anon;
SELECT is_empty($$SELECT id FROM public.analytics_events$$, 'RLS alone hides analytics_events from anon');
SELECT is_empty($$SELECT id FROM public.uuid_migration_log$$, 'RLS alone hides the migration log from anon');

-- ===== operators =====
RESET ROLE;
SET LOCAL ROLE uuid_migration_monitor;
SELECT lives_ok($$SELECT * FROM public.get_uuid_migration_stats()$$, 'the monitoring role reads the stats');
SELECT throws_ok($$SELECT * FROM public.migrate_job_uuids()$$, '42501', NULL, 'the monitoring role cannot run the migration');
RESET ROLE;
SET LOCAL ROLE service_role;
SELECT lives_ok($$SELECT * FROM public.migrate_job_uuids()$$, 'service_role runs the migration');
SELECT lives_ok($$SELECT public.rebuild_lookup_analytics_rollups()$$, 'service_role rebuilds the lookup rollups');
RESET ROLE;
SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT public.rebuild_lookup_analytics_rollups()$$, '42501', NULL, 'signed-in users cannot rebuild the lookup rollups');
RESET ROLE;
SET LOCAL ROLE uuid_lookup_reader;
SELECT throws_ok($$SELECT public.rebuild_lookup_analytics_rollups()$$, '42501', NULL, 'the dashboards'' reader cannot rebuild the lookup rollups');
SELECT lives_ok($$SELECT public.fold_lookup_analytics_rollups()$$, 'the dashboards'' reader folds the pending lookup events');
RESET ROLE;
SET LOCAL ROLE uuid_migration_monitor;
SELECT lives_ok($$SELECT public.fold_lookup_analytics_rollups()$$, 'the exporter''s role folds the pending lookup events');

-- ===== the pending lookup events (20261129000600) =====
RESET ROLE;
SET LOCAL ROLE anon;
SELECT throws_ok($$SELECT * FROM public.analytics_rollup_pending$$, '42501', NULL, 'anon cannot read the pending lookup events');
SELECT throws_ok($$INSERT INTO public.analytics_rollup_pending (id, event_name, event_properties, created_at)
                   VALUES (gen_random_uuid(), 'uuid_lookup', '{}', now())$$, '42501', NULL, 'anon cannot add pending lookup events');
SELECT throws_ok($$DELETE FROM public.analytics_rollup_pending$$, '42501', NULL, 'anon cannot fold by deleting pending events');
SELECT throws_ok($$SELECT nextval('public.analytics_rollup_fold_tick')$$, '42501', NULL, 'anon cannot move the fold tick');
SELECT throws_ok($$SELECT public.fold_lookup_analytics_rollups()$$, '42501', NULL, 'anon cannot fold the lookup rollups');
RESET ROLE;
SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT public.fold_lookup_analytics_rollups()$$, '42501', NULL, 'signed-in users cannot fold the lookup rollups');
SELECT throws_ok($$SELECT * FROM public.analytics_rollup_pending$$, '42501', NULL, 'signed-in users cannot read the pending lookup events');
SELECT throws_ok($$TRUNCATE public.analytics_rollup_pending$$, '42501', NULL, 'signed-in users cannot drop the pending lookup events');
RESET ROLE;
SET LOCAL ROLE service_role;
SELECT lives_ok($$SELECT count(*) FROM public.analytics_rollup_pending$$, 'service_role counts the pending lookup events');
SELECT throws_ok($$INSERT INTO public.analytics_rollup_pending (id, event_name, event_properties, created_at)
                   VALUES (gen_random_uuid(), 'uuid_lookup', '{"lookup_time_ms": "oops"}', now())$$, '42501', NULL,
  'service_role cannot add a pending lookup event (a malformed one would stop every fold)');
SELECT throws_ok($$UPDATE public.analytics_rollup_pending SET region = 'x'$$, '42501', NULL, 'service_role cannot change pending lookup events');
SELECT throws_ok($$TRUNCATE public.analytics_rollup_pending$$, '42501', NULL, 'service_role cannot drop pending lookup events unfolded');
SELECT lives_ok($$SELECT public.fold_lookup_analytics_rollups()$$, 'service_role folds the pending lookup events');
SELECT throws_ok($$DELETE FROM public.analytics_rollup_relabelled$$, '42501', NULL,
  'service_role cannot drop the labels the rollups counted events under (deletes would subtract elsewhere)');
SELECT lives_ok($$UPDATE public.analytics_rollup_limits SET regions_per_hour = 300$$, 'service_role sets the rollups'' label bounds');
SELECT throws_ok($$DELETE FROM public.analytics_rollup_limits$$, '42501', NULL, 'service_role cannot remove the rollups'' label bounds');
RESET ROLE;
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.analytics_rollup_pending'::regclass), true,
  'row level security is on for the pending lookup events');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.uuid_migration_counter_deltas'::regclass), true,
  'row level security is on for the migration counter deltas');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.analytics_rollup_limits'::regclass), true,
  'row level security is on for the rollups'' label bounds');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.analytics_rollup_relabelled'::regclass), true,
  'row level security is on for the relabelled events');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'public.analytics_rollup_pending_jobs'::regclass), true,
  'row level security is on for the pending jobs');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
