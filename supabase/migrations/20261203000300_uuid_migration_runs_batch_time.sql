-- Batch time in the runs table, so every run's batches reach Prometheus, not
-- only the worker's: a one-off `uuid-lookup migrate` has no /metrics of its own,
-- and the Postgres exporter reads this table on each scrape
-- (prometheus/postgres-exporter/queries.yml, uuid_migration_run_batches).
--
-- batch_seconds: time spent in committed batches (the runner's clock, from the
-- batch's start to its commit); with started_at it gives the run's time
-- efficiency (time in batches over time since the start: 1 never waits; lower
-- when held, paused or paced). last_batch_ms: the last committed batch's time.
ALTER TABLE public.uuid_migration_runs
  ADD COLUMN IF NOT EXISTS batch_seconds double precision NOT NULL DEFAULT 0 CHECK (batch_seconds >= 0),
  ADD COLUMN IF NOT EXISTS last_batch_ms double precision CHECK (last_batch_ms >= 0);
COMMENT ON COLUMN public.uuid_migration_runs.batch_seconds IS
  'Seconds spent in committed batches; over the time since started_at, the run''s time efficiency.';
COMMENT ON COLUMN public.uuid_migration_runs.last_batch_ms IS
  'The last committed batch''s time in milliseconds (NULL before the first).';
