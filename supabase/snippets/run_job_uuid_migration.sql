-- The back-fill from SQL alone, one transaction per batch: run it with psql
-- (`psql "$DATABASE_URL" -f supabase/snippets/run_job_uuid_migration.sql`) or
-- paste it into any client that sends it as its own statement, outside a
-- transaction block. Stopped midway, it keeps every committed batch; run it
-- again to go on.
--
-- A DO block rather than a procedure: a procedure that commits cannot carry
-- SET search_path, which Supabase's database linter asks of every function
-- (function_search_path_mutable). Every name below is schema-qualified.
--
-- Edit the two values to change the batch size or the mode: 'all' (the spec's
-- process: every job without micro_uuid), 'new' (never attempted) or 'retry'
-- (failed, or skipped with a service by now).
DO $run$
DECLARE
  v_batch_size constant integer := 5000;
  v_mode       constant text    := 'all';
  v_run        constant uuid    := pg_catalog.gen_random_uuid();
  v_after      uuid;
  v_batch      public.uuid_migration_batch_summary;
  v_total      bigint := 0;
BEGIN
  LOOP
    v_batch := public.migrate_job_uuids_batch(v_batch_size, v_after, v_mode, v_run);
    EXIT WHEN v_batch.processed = 0;
    v_total := v_total + v_batch.processed;
    v_after := v_batch.last_job_id;
    COMMIT;
  END LOOP;
  RAISE NOTICE 'uuid migration run %: % jobs', v_run, v_total;
END
$run$;
