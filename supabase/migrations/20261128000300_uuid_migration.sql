-- The back-fill of jobs.micro_uuid: the migration log and the types of
-- migrate_job_uuids() (spec section 2, "Migration System"). The functions, the
-- log's history and the cascade from jobs are in 20261128001100.
--
-- Design, for tables of millions of jobs:
-- * Work is done in batches, each one set-based statement (UPDATE jobs + INSERT
--   into the log in one data-modifying CTE). No per-row exception block: each one
--   would be a subtransaction.
-- * A batch that raises is split in halves until the failing rows are isolated;
--   those are logged 'failed' with the error and the rest of the batch proceeds.
-- * The key space of jobs.id is cut into 16 fixed shards (by the first hex digit).
--   Batches within a shard are serialised by a transaction-scoped advisory lock of
--   that shard, so concurrent runs never pick the same job, and batches of
--   different shards run in parallel (a run may use several connections); a batch
--   without a shard takes all 16 locks, in order. Row locks use SKIP LOCKED so the
--   migration never waits on a job the application holds. No lock outlives its batch when each
--   batch is its own transaction (migrate_job_uuids_batch from a client, or the
--   DO block in supabase/snippets/).
-- * The log holds one row per job, its current outcome; a new attempt moves the
--   one it replaces to uuid_migration_log_history, so counts never double and
--   the spec's queries over the log agree with get_uuid_migration_stats().

-- The spec's DDL, fixed: the CHECK named a column that does not exist (status),
-- id and created_at had no defaults, micro_slug could not hold a job without one.
-- job_id's REFERENCES jobs(id) is kept as a trigger-maintained ON DELETE CASCADE
-- (20261128001100) instead of a declared foreign key: a declared key costs a per-row
-- lookup in jobs on every insert (~4.5 us a row, about a fifth of a batch at a
-- million jobs), and the log is written only by the migration functions, for
-- jobs they hold locked in the same transaction, so the referenced row exists.
-- Time-ordered UUIDs (the layout of RFC 9562 version 7: 48 bits of Unix
-- milliseconds, then random bits) for the log's primary key: a batch's rows land
-- at the right edge of the index instead of at random pages, which at a million
-- rows is the difference between appending and a cache miss per row.
-- PostgreSQL 18 has uuidv7(); 15 to 17 do not.
CREATE OR REPLACE FUNCTION public.uuid_migration_log_next_id()
RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = ''
AS $$
  SELECT pg_catalog.encode(
    pg_catalog.set_bit(pg_catalog.set_bit(
      overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
        PLACING substring(pg_catalog.int8send(
          (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

REVOKE EXECUTE ON FUNCTION public.uuid_migration_log_next_id() FROM PUBLIC, anon, authenticated;

CREATE TABLE IF NOT EXISTS public.uuid_migration_log (
  id               uuid PRIMARY KEY DEFAULT public.uuid_migration_log_next_id(),
  job_id           uuid NOT NULL,
  run_id           uuid NOT NULL,
  micro_slug       text NOT NULL,
  micro_uuid       uuid,
  migration_status text NOT NULL
    CONSTRAINT uuid_migration_log_status_check
    CHECK (migration_status IN ('pending', 'success', 'failed', 'skipped')),
  error_message    text,
  -- SQLSTATE of a failure, so tools branch on the code, never on message text.
  error_code       text,
  migrated_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- The spec's index (the failure reviews filter by status).
CREATE INDEX IF NOT EXISTS idx_uuid_migration_log_status ON public.uuid_migration_log (migration_status);
-- One current outcome per job: the integrity the stats rely on, the probe that
-- tells a never-attempted job from one already tried, and the conflict target
-- of a new attempt.
CREATE UNIQUE INDEX IF NOT EXISTS uuid_migration_log_job ON public.uuid_migration_log (job_id);

DO $types$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typname = 'uuid_migration_result'
  ) THEN
    -- The spec's result columns: job_id | micro_slug | found_uuid | status
    CREATE TYPE public.uuid_migration_result AS (
      job_id     uuid,
      micro_slug text,
      found_uuid uuid,
      status     text
    );
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typname = 'uuid_migration_batch_summary'
  ) THEN
    CREATE TYPE public.uuid_migration_batch_summary AS (
      processed   integer,
      succeeded   integer,
      skipped     integer,
      failed      integer,
      last_job_id uuid
    );
  END IF;
END
$types$;
