-- Row level security, its policies, and what each role may do.
-- The schema as the migrations leave it (supabase/migrations/ is the upgrade path);
-- test/servers/schema-files.test.ts holds the two equal. Written by `npm run schema:dump`.

SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);

ALTER TABLE public.analytics_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_events_insert_uuid_lookup ON public.analytics_events FOR INSERT TO anon, authenticated WITH CHECK (((event_name = 'uuid_lookup'::text) AND (event_category = 'wizard_flow'::text) AND (NOT (user_id IS DISTINCT FROM ( SELECT auth.uid() AS uid))) AND ((created_at >= (now() - '00:01:00'::interval)) AND (created_at <= (now() + '00:01:00'::interval)))));

CREATE POLICY analytics_events_read_monitoring ON public.analytics_events FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_journey_daily ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_journey_daily_read_monitoring ON public.analytics_journey_daily FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_journey_slug_daily ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_journey_slug_daily_read_monitoring ON public.analytics_journey_slug_daily FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_lookup_hourly ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_lookup_hourly_read_monitoring ON public.analytics_lookup_hourly FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_lookup_service_hourly ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_lookup_service_hourly_read_monitoring ON public.analytics_lookup_service_hourly FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_lookup_sessions ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_lookup_sessions_read_monitoring ON public.analytics_lookup_sessions FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_rollup_limits ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_rollup_limits_change ON public.analytics_rollup_limits FOR UPDATE TO service_role USING (true) WITH CHECK (true);

CREATE POLICY analytics_rollup_limits_read ON public.analytics_rollup_limits FOR SELECT TO service_role, uuid_migration_monitor, uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_rollup_pending ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.analytics_rollup_pending_jobs ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_rollup_pending_jobs_read ON public.analytics_rollup_pending_jobs FOR SELECT TO service_role, uuid_migration_monitor, uuid_lookup_reader USING (true);

CREATE POLICY analytics_rollup_pending_read ON public.analytics_rollup_pending FOR SELECT TO service_role, uuid_lookup_reader USING (true);

ALTER TABLE public.analytics_rollup_relabelled ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_rollup_relabelled_read ON public.analytics_rollup_relabelled FOR SELECT TO service_role, uuid_migration_monitor, uuid_lookup_reader USING (true);

ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;

CREATE POLICY jobs_insert_own ON public.jobs FOR INSERT TO authenticated WITH CHECK ((user_id = ( SELECT auth.uid() AS uid)));

CREATE POLICY jobs_read_monitoring ON public.jobs FOR SELECT TO uuid_lookup_reader USING (true);

CREATE POLICY jobs_select_own ON public.jobs FOR SELECT TO authenticated USING ((user_id = ( SELECT auth.uid() AS uid)));

ALTER TABLE public.micro_services ENABLE ROW LEVEL SECURITY;

CREATE POLICY micro_services_read_all ON public.micro_services FOR SELECT TO anon, authenticated USING (true);

CREATE POLICY micro_services_read_monitoring ON public.micro_services FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.uuid_migration_counter_deltas ENABLE ROW LEVEL SECURITY;

CREATE POLICY uuid_migration_counter_deltas_read_monitoring ON public.uuid_migration_counter_deltas FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.uuid_migration_counters ENABLE ROW LEVEL SECURITY;

CREATE POLICY uuid_migration_counters_read_monitoring ON public.uuid_migration_counters FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.uuid_migration_log ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.uuid_migration_log_history ENABLE ROW LEVEL SECURITY;

CREATE POLICY uuid_migration_log_history_read_monitoring ON public.uuid_migration_log_history FOR SELECT TO uuid_lookup_reader USING (true);

CREATE POLICY uuid_migration_log_read_monitoring ON public.uuid_migration_log FOR SELECT TO uuid_lookup_reader USING (true);

ALTER TABLE public.uuid_migration_runs ENABLE ROW LEVEL SECURITY;

CREATE POLICY uuid_migration_runs_read_monitoring ON public.uuid_migration_runs FOR SELECT TO uuid_migration_monitor, uuid_lookup_reader USING (true);

CREATE POLICY uuid_migration_runs_service ON public.uuid_migration_runs TO service_role USING (true) WITH CHECK (true);


--

-- Privileges: every one taken, then given back as the migrations leave them.
REVOKE ALL ON FUNCTION public._analytics_journey_change(public.analytics_lookup_sessions[],public.analytics_lookup_sessions[]) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._rebuild_lookup_analytics_rollups_replay(integer) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._uuid_migration_apply(uuid[],tid[],text[],uuid,text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._uuid_migration_apply_isolating(uuid[],tid[],text[],uuid,text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._uuid_migration_count(bigint,bigint,bigint,bigint,bigint) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._uuid_migration_mode(text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._uuid_migration_pick(integer,uuid,text,integer) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public._uuid_migration_retire(uuid[],text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_job_time_usable(timestamp with time zone) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_rollup_defer() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_rollup_fold_deleted() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_rollup_on_delete() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_rollup_on_insert() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_rollup_on_truncate() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_session_job_defer() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.analytics_session_on_job() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.compact_uuid_migration_counters() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.fold_lookup_analytics_rollups(boolean) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.get_uuid_migration_stats() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.list_job_uuid_migration_runs() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.map_job_slug_to_service(text,text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.migrate_job_uuids(integer,text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.migrate_job_uuids_batch(integer,uuid,text,uuid,integer) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.preview_job_uuid_migration(text) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.rebuild_uuid_migration_counters() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.rollback_job_uuid_migration(uuid) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.uuid_migration_count_jobs() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.uuid_migration_count_log() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.uuid_migration_count_truncate() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.uuid_migration_log_forget_deleted_jobs() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON FUNCTION public.uuid_migration_log_next_id() FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON SEQUENCE public.analytics_rollup_fold_tick FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_events FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_journey_daily FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_journey_slug_daily FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_lookup_hourly FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_lookup_service_hourly FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_lookup_sessions FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_rollup_limits FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_rollup_pending FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_rollup_pending_jobs FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.analytics_rollup_relabelled FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.jobs FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.micro_services FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.uuid_migration_counter_deltas FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.uuid_migration_counters FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.uuid_migration_log FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.uuid_migration_log_history FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
REVOKE ALL ON TABLE public.uuid_migration_runs FROM anon, authenticated, service_role, uuid_migration_monitor, uuid_lookup_reader, PUBLIC;
GRANT EXECUTE ON FUNCTION public._analytics_journey_change(public.analytics_lookup_sessions[],public.analytics_lookup_sessions[]) TO service_role;
GRANT EXECUTE ON FUNCTION public._uuid_migration_apply(uuid[],tid[],text[],uuid,text) TO service_role;
GRANT EXECUTE ON FUNCTION public._uuid_migration_apply_isolating(uuid[],tid[],text[],uuid,text) TO service_role;
GRANT EXECUTE ON FUNCTION public._uuid_migration_count(bigint,bigint,bigint,bigint,bigint) TO service_role;
GRANT EXECUTE ON FUNCTION public._uuid_migration_mode(text) TO service_role;
GRANT EXECUTE ON FUNCTION public._uuid_migration_pick(integer,uuid,text,integer) TO service_role;
GRANT EXECUTE ON FUNCTION public._uuid_migration_retire(uuid[],text) TO service_role;
GRANT EXECUTE ON FUNCTION public.analytics_job_time_usable(timestamp with time zone) TO service_role;
GRANT EXECUTE ON FUNCTION public.compact_uuid_migration_counters() TO service_role;
GRANT EXECUTE ON FUNCTION public.compact_uuid_migration_counters() TO uuid_migration_monitor;
GRANT EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups(boolean) TO service_role;
GRANT EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups(boolean) TO uuid_lookup_reader;
GRANT EXECUTE ON FUNCTION public.fold_lookup_analytics_rollups(boolean) TO uuid_migration_monitor;
GRANT EXECUTE ON FUNCTION public.get_uuid_migration_stats() TO service_role;
GRANT EXECUTE ON FUNCTION public.get_uuid_migration_stats() TO uuid_lookup_reader;
GRANT EXECUTE ON FUNCTION public.get_uuid_migration_stats() TO uuid_migration_monitor;
GRANT EXECUTE ON FUNCTION public.list_job_uuid_migration_runs() TO service_role;
GRANT EXECUTE ON FUNCTION public.map_job_slug_to_service(text,text) TO service_role;
GRANT EXECUTE ON FUNCTION public.migrate_job_uuids(integer,text) TO service_role;
GRANT EXECUTE ON FUNCTION public.migrate_job_uuids_batch(integer,uuid,text,uuid,integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.preview_job_uuid_migration(text) TO service_role;
GRANT EXECUTE ON FUNCTION public.rebuild_lookup_analytics_rollups(integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.rebuild_uuid_migration_counters() TO service_role;
GRANT EXECUTE ON FUNCTION public.rollback_job_uuid_migration(uuid) TO service_role;
GRANT EXECUTE ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) TO anon;
GRANT EXECUTE ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) TO authenticated;
GRANT EXECUTE ON FUNCTION public.uuid_lookup_event_properties_valid(jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.uuid_migration_count_jobs() TO service_role;
GRANT EXECUTE ON FUNCTION public.uuid_migration_count_log() TO service_role;
GRANT EXECUTE ON FUNCTION public.uuid_migration_count_truncate() TO service_role;
GRANT EXECUTE ON FUNCTION public.uuid_migration_log_forget_deleted_jobs() TO service_role;
GRANT EXECUTE ON FUNCTION public.uuid_migration_log_next_id() TO service_role;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.analytics_events TO service_role;
GRANT SELECT ON TABLE public.analytics_events TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.analytics_journey_daily TO service_role;
GRANT SELECT ON TABLE public.analytics_journey_daily TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.analytics_journey_slug_daily TO service_role;
GRANT SELECT ON TABLE public.analytics_journey_slug_daily TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.analytics_lookup_hourly TO service_role;
GRANT SELECT ON TABLE public.analytics_lookup_hourly TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.analytics_lookup_service_hourly TO service_role;
GRANT SELECT ON TABLE public.analytics_lookup_service_hourly TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.analytics_lookup_sessions TO service_role;
GRANT SELECT ON TABLE public.analytics_lookup_sessions TO uuid_lookup_reader;
GRANT SELECT ON TABLE public.analytics_rollup_limits TO service_role;
GRANT SELECT ON TABLE public.analytics_rollup_limits TO uuid_lookup_reader;
GRANT SELECT ON TABLE public.analytics_rollup_limits TO uuid_migration_monitor;
GRANT SELECT ON TABLE public.analytics_rollup_pending TO service_role;
GRANT SELECT ON TABLE public.analytics_rollup_pending TO uuid_lookup_reader;
GRANT SELECT ON TABLE public.analytics_rollup_pending_jobs TO service_role;
GRANT SELECT ON TABLE public.analytics_rollup_pending_jobs TO uuid_lookup_reader;
GRANT SELECT ON TABLE public.analytics_rollup_pending_jobs TO uuid_migration_monitor;
GRANT SELECT ON TABLE public.analytics_rollup_relabelled TO service_role;
GRANT SELECT ON TABLE public.analytics_rollup_relabelled TO uuid_lookup_reader;
GRANT SELECT ON TABLE public.analytics_rollup_relabelled TO uuid_migration_monitor;
GRANT INSERT, SELECT ON TABLE public.jobs TO authenticated;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.jobs TO service_role;
GRANT SELECT ON TABLE public.micro_services TO anon;
GRANT SELECT ON TABLE public.micro_services TO authenticated;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.micro_services TO service_role;
GRANT SELECT ON TABLE public.micro_services TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.uuid_migration_counter_deltas TO service_role;
GRANT SELECT ON TABLE public.uuid_migration_counter_deltas TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.uuid_migration_counters TO service_role;
GRANT SELECT ON TABLE public.uuid_migration_counters TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.uuid_migration_log TO service_role;
GRANT SELECT ON TABLE public.uuid_migration_log TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.uuid_migration_log_history TO service_role;
GRANT SELECT ON TABLE public.uuid_migration_log_history TO uuid_lookup_reader;
GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE public.uuid_migration_runs TO service_role;
GRANT SELECT ON TABLE public.uuid_migration_runs TO uuid_lookup_reader;
GRANT SELECT ON TABLE public.uuid_migration_runs TO uuid_migration_monitor;
GRANT INSERT (client_created_at, event_category, event_name, event_properties, id, region, session_id) ON TABLE public.analytics_events TO anon;
GRANT INSERT (client_created_at, event_category, event_name, event_properties, id, region, session_id) ON TABLE public.analytics_events TO authenticated;
GRANT UPDATE (other_slugs_per_day, regions_per_hour) ON TABLE public.analytics_rollup_limits TO service_role;
GRANT SELECT (created_at, id, micro_id, micro_uuid) ON TABLE public.jobs TO uuid_lookup_reader;
