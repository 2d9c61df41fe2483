-- The back-fill of jobs.micro_uuid: the migration log, migrate_job_uuids() and
-- get_uuid_migration_stats() (spec section 2, "Migration System").
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
--   batch is its own transaction (migrate_job_uuids_batch from a client, or
--   CALL run_job_uuid_migration()).
-- * A job's current outcome is its one log row with is_latest; re-runs add rows
--   and retire the old ones, so counts never double.

-- The spec's DDL, fixed: the CHECK named a column that does not exist (status),
-- id and created_at had no defaults, micro_slug could not hold a job without one.
-- job_id's REFERENCES jobs(id) is kept as a trigger-maintained ON DELETE CASCADE
-- (below) instead of a declared foreign key: a declared key costs a per-row
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
  is_latest        boolean NOT NULL DEFAULT true,
  migrated_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.uuid_migration_log IS
  'One row per attempt to back-fill jobs.micro_uuid; is_latest marks each job''s current outcome.';

-- The spec's index (the failure reviews filter by status).
CREATE INDEX IF NOT EXISTS idx_uuid_migration_log_status ON public.uuid_migration_log (migration_status);
-- One current outcome per job: the integrity the stats rely on, and the probe
-- that tells a never-attempted job from one to retry.
CREATE UNIQUE INDEX IF NOT EXISTS uuid_migration_log_latest_job
  ON public.uuid_migration_log (job_id) WHERE is_latest;
-- Retired outcomes by job: with the index above, every row of a job is found
-- by job_id (the cascade below and a job's history) without indexing the whole
-- log twice.
CREATE INDEX IF NOT EXISTS idx_uuid_migration_log_job_history
  ON public.uuid_migration_log (job_id) WHERE NOT is_latest;

-- ON DELETE CASCADE from jobs, and TRUNCATE with it. SECURITY DEFINER: the role
-- deleting a job (a signed-in user deleting their own) has no right on the log.
CREATE OR REPLACE FUNCTION public.uuid_migration_log_forget_deleted_jobs()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE public.uuid_migration_log;
    RETURN NULL;
  END IF;
  -- Two statements, so each uses its partial index.
  DELETE FROM public.uuid_migration_log l USING deleted_jobs d WHERE l.job_id = d.id AND l.is_latest;
  DELETE FROM public.uuid_migration_log l USING deleted_jobs d WHERE l.job_id = d.id AND NOT l.is_latest;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION public.uuid_migration_log_forget_deleted_jobs() FROM PUBLIC, anon, authenticated;

DROP TRIGGER IF EXISTS uuid_migration_log_cascade_delete ON public.jobs;
CREATE TRIGGER uuid_migration_log_cascade_delete
  AFTER DELETE ON public.jobs
  REFERENCING OLD TABLE AS deleted_jobs
  FOR EACH STATEMENT
  EXECUTE FUNCTION public.uuid_migration_log_forget_deleted_jobs();
DROP TRIGGER IF EXISTS uuid_migration_log_cascade_truncate ON public.jobs;
CREATE TRIGGER uuid_migration_log_cascade_truncate
  AFTER TRUNCATE ON public.jobs
  FOR EACH STATEMENT
  EXECUTE FUNCTION public.uuid_migration_log_forget_deleted_jobs();

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

-- One set-based statement for a list of jobs the caller has locked, with the
-- row addresses (ctid) and slugs it read when it locked them, so jobs is not
-- searched again: a row this transaction holds locked cannot move. Jobs whose
-- slug matches exactly one service get its id; no match is 'skipped'; a slug that
-- matches several services (possible on a pre-existing table without a unique
-- slug) is 'failed' rather than guessed.
CREATE OR REPLACE FUNCTION public._uuid_migration_apply(
  p_job_ids uuid[], p_ctids tid[], p_slugs text[], p_run_id uuid, p_retry boolean)
RETURNS public.uuid_migration_batch_summary
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_result public.uuid_migration_batch_summary;
BEGIN
  IF p_retry THEN
    -- Retire the outcome being retried; only jobs with an earlier attempt have one.
    UPDATE public.uuid_migration_log l SET is_latest = false
    WHERE l.job_id = ANY (p_job_ids) AND l.is_latest;
  END IF;

  WITH target AS (
    SELECT k.id, k.row_ctid, k.micro_id FROM unnest(p_job_ids, p_ctids, p_slugs) AS k (id, row_ctid, micro_id)
  ), service AS (
    SELECT ms.slug, (pg_catalog.array_agg(ms.id))[1] AS id, pg_catalog.count(*) AS matches
    FROM public.micro_services ms
    WHERE ms.slug IN (SELECT t.micro_id FROM target t)
    GROUP BY ms.slug
  ), resolved AS (
    SELECT t.id, t.row_ctid, t.micro_id, s.id AS service_id, COALESCE(s.matches, 0) AS matches
    FROM target t LEFT JOIN service s ON s.slug = t.micro_id
  ), updated AS (
    UPDATE public.jobs j SET micro_uuid = r.service_id
    FROM resolved r
    WHERE j.ctid = r.row_ctid AND j.id = r.id AND r.matches = 1
    RETURNING j.id
  ), logged AS (
    INSERT INTO public.uuid_migration_log
      (job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code, migrated_at)
    SELECT r.id, p_run_id, COALESCE(r.micro_id, ''),
           CASE WHEN u.id IS NOT NULL THEN r.service_id END,
           CASE WHEN u.id IS NOT NULL THEN 'success'
                WHEN r.matches = 0 THEN 'skipped'
                ELSE 'failed' END,
           CASE WHEN u.id IS NOT NULL THEN NULL
                WHEN r.micro_id IS NULL THEN 'job has no micro_id'
                WHEN r.matches = 0 THEN 'no micro_services row with this slug'
                ELSE pg_catalog.format('ambiguous slug: %s micro_services rows', r.matches) END,
           CASE WHEN u.id IS NULL AND r.matches > 1 THEN 'P0001' END,
           CASE WHEN u.id IS NOT NULL THEN pg_catalog.now() END
    FROM resolved r LEFT JOIN updated u ON u.id = r.id
    RETURNING migration_status
  )
  SELECT pg_catalog.count(*)::integer,
         (pg_catalog.count(*) FILTER (WHERE l.migration_status = 'success'))::integer,
         (pg_catalog.count(*) FILTER (WHERE l.migration_status = 'skipped'))::integer,
         (pg_catalog.count(*) FILTER (WHERE l.migration_status = 'failed'))::integer,
         NULL::uuid
    INTO v_result
    FROM logged l;
  RETURN v_result;
END
$$;

-- Applies a batch; on an unexpected error splits it until the failing jobs are
-- isolated and logs each of those 'failed'. One subtransaction per (sub)batch:
-- k failing rows in a batch of n cost O(k log n) of them, none on the clean path.
CREATE OR REPLACE FUNCTION public._uuid_migration_apply_isolating(
  p_job_ids uuid[], p_ctids tid[], p_slugs text[], p_run_id uuid, p_retry boolean)
RETURNS public.uuid_migration_batch_summary
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_n     integer := COALESCE(pg_catalog.cardinality(p_job_ids), 0);
  v_half  integer;
  v_msg   text;
  v_state text;
  v_a     public.uuid_migration_batch_summary;
  v_b     public.uuid_migration_batch_summary;
BEGIN
  IF v_n = 0 THEN
    RETURN ROW(0, 0, 0, 0, NULL)::public.uuid_migration_batch_summary;
  END IF;
  BEGIN
    RETURN public._uuid_migration_apply(p_job_ids, p_ctids, p_slugs, p_run_id, p_retry);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE;
    -- Conditions that are not a property of a row fail the whole batch, so the
    -- runner can retry it or stop with the reason, rather than marking every job
    -- failed: transaction rollbacks (40), resources (53), program limits (54),
    -- lock timeout (55P03), operator intervention (57), system (58), internal (XX)
    -- and a broken schema (42 but 42501, which RLS raises per row).
    -- query_canceled (statement_timeout) is never caught by WHEN OTHERS.
    IF pg_catalog.left(v_state, 2) IN ('40', '53', '54', '57', '58', 'XX', 'F0')
       OR v_state = '55P03'
       OR (pg_catalog.left(v_state, 2) = '42' AND v_state <> '42501') THEN
      RAISE;
    END IF;
    IF v_n = 1 THEN
      IF p_retry THEN
        UPDATE public.uuid_migration_log l SET is_latest = false
        WHERE l.job_id = p_job_ids[1] AND l.is_latest;
      END IF;
      INSERT INTO public.uuid_migration_log
        (job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code)
      SELECT j.id, p_run_id, COALESCE(j.micro_id, ''), NULL, 'failed',
             pg_catalog.left(v_msg, 1000), v_state
      FROM public.jobs j WHERE j.id = p_job_ids[1];
      RETURN ROW(1, 0, 0, 1, NULL)::public.uuid_migration_batch_summary;
    END IF;
    v_half := v_n / 2;
    v_a := public._uuid_migration_apply_isolating(
      p_job_ids[1:v_half], p_ctids[1:v_half], p_slugs[1:v_half], p_run_id, p_retry);
    v_b := public._uuid_migration_apply_isolating(
      p_job_ids[v_half + 1:v_n], p_ctids[v_half + 1:v_n], p_slugs[v_half + 1:v_n], p_run_id, p_retry);
    RETURN ROW(v_a.processed + v_b.processed, v_a.succeeded + v_b.succeeded, v_a.skipped + v_b.skipped,
               v_a.failed + v_b.failed, NULL)::public.uuid_migration_batch_summary;
  END;
END
$$;

-- Picks (and locks) up to p_batch_size jobs after the keyset cursor p_after.
-- p_retry = false: jobs never attempted; p_retry = true: jobs whose current
-- outcome did not give them a UUID and that may now get one (failed, or skipped
-- with a service for their slug by now), after the operator fixed the cause.
-- The two sets do not overlap, so a run visits each job once.
CREATE OR REPLACE FUNCTION public._uuid_migration_pick(
  p_batch_size integer, p_after uuid, p_retry boolean, p_shard integer,
  OUT job_ids uuid[], OUT ctids tid[], OUT slugs text[])
LANGUAGE plpgsql
SET search_path = ''
-- Plan with the real cursor each time: a generic plan cannot see that id > $1
-- selects a narrow range and falls back to hashing the whole log.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  v_after uuid := COALESCE(p_after, '00000000-0000-0000-0000-000000000000'::uuid);
  v_last  uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  v_shard integer;
BEGIN
  IF p_batch_size IS NULL OR p_batch_size < 1 OR p_batch_size > 100000 THEN
    RAISE EXCEPTION 'uuid migration: batch size must be between 1 and 100000, got %',
      COALESCE(p_batch_size::text, 'null')
      USING ERRCODE = '22023';
  END IF;
  IF p_shard IS NOT NULL AND (p_shard < 0 OR p_shard > 15) THEN
    RAISE EXCEPTION 'uuid migration: shard must be between 0 and 15, got %', p_shard USING ERRCODE = '22023';
  END IF;

  -- Serialise batches of a shard across sessions. Taken before the candidate
  -- query, so that query's snapshot sees every batch committed before this one.
  FOR v_shard IN SELECT g FROM pg_catalog.generate_series(COALESCE(p_shard, 0), COALESCE(p_shard, 15)) AS g LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;
  IF p_shard IS NOT NULL THEN
    v_after := GREATEST(v_after, (pg_catalog.to_hex(p_shard) || '0000000-0000-0000-0000-000000000000')::uuid);
    v_last := (pg_catalog.to_hex(p_shard) || 'fffffff-ffff-ffff-ffff-ffffffffffff')::uuid;
  END IF;

  IF COALESCE(p_retry, false) THEN
    SELECT COALESCE(pg_catalog.array_agg(c.id ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.ctid ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.micro_id ORDER BY c.id), '{}')
      INTO job_ids, ctids, slugs
      FROM (SELECT j.id, j.ctid, j.micro_id FROM public.jobs j
            WHERE j.micro_uuid IS NULL AND j.id > v_after AND j.id <= v_last
              -- Retry what can now succeed: failed jobs, and skipped jobs whose
              -- slug has a service by now (the operator added it). A skipped job
              -- whose slug still matches nothing would only be skipped again.
              AND EXISTS (SELECT 1 FROM public.uuid_migration_log l
                          WHERE l.job_id = j.id AND l.is_latest AND l.job_id > v_after
                            AND (l.migration_status <> 'skipped'
                                 OR EXISTS (SELECT 1 FROM public.micro_services ms WHERE ms.slug = j.micro_id)))
            ORDER BY j.id
            LIMIT p_batch_size
            FOR UPDATE OF j SKIP LOCKED) c;
  ELSE
    SELECT COALESCE(pg_catalog.array_agg(c.id ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.ctid ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.micro_id ORDER BY c.id), '{}')
      INTO job_ids, ctids, slugs
      FROM (SELECT j.id, j.ctid, j.micro_id FROM public.jobs j
            WHERE j.micro_uuid IS NULL AND j.id > v_after AND j.id <= v_last
              -- l.job_id > v_after is implied, and written out so that a merge
              -- join starts at the cursor instead of at the first log row.
              AND NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l
                              WHERE l.job_id = j.id AND l.is_latest AND l.job_id > v_after)
            ORDER BY j.id
            LIMIT p_batch_size
            FOR UPDATE OF j SKIP LOCKED) c;
  END IF;
END
$$;

-- The batched form for clients: one call, one batch, one transaction. Returns the
-- batch's counts and the cursor for the next call; processed = 0 means done.
-- With p_shard (0-15) the batch stays within that shard of the id space, and
-- batches of different shards may run at once on different connections.
CREATE OR REPLACE FUNCTION public.migrate_job_uuids_batch(
  p_batch_size integer DEFAULT 5000,
  p_after      uuid    DEFAULT NULL,
  p_retry      boolean DEFAULT false,
  p_run_id     uuid    DEFAULT NULL,
  p_shard      integer DEFAULT NULL)
RETURNS public.uuid_migration_batch_summary
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_ids    uuid[];
  v_ctids  tid[];
  v_slugs  text[];
  v_result public.uuid_migration_batch_summary;
BEGIN
  SELECT p.job_ids, p.ctids, p.slugs INTO v_ids, v_ctids, v_slugs FROM public._uuid_migration_pick(p_batch_size, p_after, p_retry, p_shard) p;
  v_result := public._uuid_migration_apply_isolating(
    v_ids, v_ctids, v_slugs, COALESCE(p_run_id, gen_random_uuid()), COALESCE(p_retry, false));
  v_result.last_job_id := v_ids[pg_catalog.cardinality(v_ids)];
  RETURN v_result;
END
$$;

-- The spec's form: SELECT * FROM migrate_job_uuids(); migrates every job without
-- a UUID and returns job_id | micro_slug | found_uuid | status. It runs in the
-- caller's one transaction, so on a large table prefer the batched forms
-- (migrate_job_uuids_batch from a client, or CALL run_job_uuid_migration()), which
-- commit per batch and hold no lock on jobs beyond it.
CREATE OR REPLACE FUNCTION public.migrate_job_uuids(
  p_batch_size integer DEFAULT 5000,
  p_retry      boolean DEFAULT false)
RETURNS SETOF public.uuid_migration_result
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_run   uuid := gen_random_uuid();
  v_after uuid;
  v_ids   uuid[];
  v_ctids tid[];
  v_slugs text[];
BEGIN
  LOOP
    SELECT p.job_ids, p.ctids, p.slugs INTO v_ids, v_ctids, v_slugs FROM public._uuid_migration_pick(p_batch_size, v_after, p_retry, NULL) p;
    EXIT WHEN pg_catalog.cardinality(v_ids) = 0;
    PERFORM public._uuid_migration_apply_isolating(v_ids, v_ctids, v_slugs, v_run, COALESCE(p_retry, false));
    v_after := v_ids[pg_catalog.cardinality(v_ids)];
  END LOOP;
  RETURN QUERY
    SELECT l.job_id, l.micro_slug, l.micro_uuid, l.migration_status
    FROM public.uuid_migration_log l
    WHERE l.run_id = v_run;
END
$$;

-- Pure-SQL batched run that commits after every batch: CALL run_job_uuid_migration();
-- (A procedure that commits cannot carry a SET search_path clause; every name in
-- it is schema-qualified instead.)
CREATE OR REPLACE PROCEDURE public.run_job_uuid_migration(
  p_batch_size integer DEFAULT 5000,
  p_retry      boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
  v_run   uuid := pg_catalog.gen_random_uuid();
  v_after uuid;
  v_batch public.uuid_migration_batch_summary;
BEGIN
  LOOP
    v_batch := public.migrate_job_uuids_batch(p_batch_size, v_after, p_retry, v_run);
    EXIT WHEN v_batch.processed = 0;
    v_after := v_batch.last_job_id;
    COMMIT;
  END LOOP;
END
$$;

-- Migration progress (spec: seven fields). Counts are exact and each job counts
-- once, by its current outcome (is_latest), however often it was retried.
-- At a million jobs this stays cheap: jobs_without_uuid is an index-only count of
-- idx_jobs_without_micro_uuid (a partial index that shrinks as jobs migrate),
-- total_jobs one sequential count, and the outcome counts one pass over the log
-- restricted to current rows; no DISTINCT ON, no sort, no join.
CREATE OR REPLACE FUNCTION public.get_uuid_migration_stats()
RETURNS TABLE (
  total_jobs            bigint,
  jobs_with_uuid        bigint,
  jobs_without_uuid     bigint,
  successful_migrations bigint,
  failed_migrations     bigint,
  skipped_migrations    bigint,
  completion_percentage numeric
)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  WITH jobs_total AS (
    SELECT pg_catalog.count(*) AS n FROM public.jobs
  ), jobs_missing AS (
    SELECT pg_catalog.count(*) AS n FROM public.jobs WHERE micro_uuid IS NULL
  ), outcomes AS (
    SELECT pg_catalog.count(*) FILTER (WHERE migration_status = 'success') AS success,
           pg_catalog.count(*) FILTER (WHERE migration_status = 'failed')  AS failed,
           pg_catalog.count(*) FILTER (WHERE migration_status = 'skipped') AS skipped
    FROM public.uuid_migration_log WHERE is_latest
  )
  SELECT t.n, t.n - m.n, m.n, o.success, o.failed, o.skipped,
         -- An empty jobs table has nothing left to migrate: 100 %, not a division by zero.
         CASE WHEN t.n = 0 THEN 100.00
              ELSE pg_catalog.round(100.0 * (t.n - m.n) / t.n, 2) END
  FROM jobs_total t, jobs_missing m, outcomes o
$$;
