-- Each back-fill run as a row: its real start and finish, its state, its holds,
-- and what an operator asked of it (pause, resume, cancel) from any machine.
-- The running CLI or worker writes its progress here after each batch and reads
-- the request in the same statement, so it obeys within one batch.
--
-- Before, a run was only what uuid_migration_log recorded: a run of one batch
-- showed started_at = finished_at, a run that had written nothing yet did not
-- exist, and nothing told a rollback that the run it undid was still going (it
-- reverted the batches so far, then the run went on under the same id).
--
-- state, written by the runner:
--   running    between and during batches;
--   held       waiting for the database's health (hold_reason: lock_waits,
--              vacuum, wal_rate, replication_lag, prometheus);
--   paused     waiting because an operator asked (requested = 'pause');
--   finished, cancelled (asked), stopped (Ctrl-C, SIGTERM), failed (error):
--              ended, with finished_at.
-- A runner killed outright leaves its row running: heartbeat_at says since when
-- nothing was heard of it (uuid-lookup migrate runs shows it).
CREATE TABLE IF NOT EXISTS public.uuid_migration_runs (
  run_id       uuid PRIMARY KEY,
  mode         text NOT NULL CHECK (mode IN ('all', 'new', 'retry')),
  state        text NOT NULL DEFAULT 'running'
               CHECK (state IN ('running', 'held', 'paused', 'finished', 'cancelled', 'stopped', 'failed')),
  requested    text NOT NULL DEFAULT 'run' CHECK (requested IN ('run', 'pause', 'cancel')),
  started_by   text NOT NULL DEFAULT '' CHECK (pg_catalog.length(started_by) <= 200),
  started_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  heartbeat_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  finished_at  timestamptz,
  batches      bigint NOT NULL DEFAULT 0,
  jobs         bigint NOT NULL DEFAULT 0,
  batch_size   integer,
  hold_reason  text,
  hold_detail  text,
  -- Since when the run holds for hold_reason (NULL while it runs).
  held_since   timestamptz,
  -- Seconds spent held, by reason ('paused' included).
  held_seconds jsonb NOT NULL DEFAULT '{}'::jsonb,
  error        text,
  CHECK ((finished_at IS NULL) = (state IN ('running', 'held', 'paused')))
);
COMMENT ON TABLE public.uuid_migration_runs IS
  'Back-fill runs: state, holds and operator requests (pause, resume, cancel), written by uuid-lookup migrate and worker.';
CREATE INDEX IF NOT EXISTS uuid_migration_runs_unfinished
  ON public.uuid_migration_runs (started_at) WHERE finished_at IS NULL;

ALTER TABLE public.uuid_migration_runs ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.uuid_migration_runs FROM PUBLIC, anon, authenticated;
GRANT SELECT, INSERT, UPDATE ON public.uuid_migration_runs TO service_role;
GRANT SELECT ON public.uuid_migration_runs TO uuid_lookup_reader, uuid_migration_monitor;
DROP POLICY IF EXISTS uuid_migration_runs_service ON public.uuid_migration_runs;
CREATE POLICY uuid_migration_runs_service ON public.uuid_migration_runs
  FOR ALL TO service_role USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS uuid_migration_runs_read_monitoring ON public.uuid_migration_runs;
CREATE POLICY uuid_migration_runs_read_monitoring ON public.uuid_migration_runs
  FOR SELECT TO uuid_lookup_reader, uuid_migration_monitor USING (true);
