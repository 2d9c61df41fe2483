-- The migration log holds each job's current outcome; the attempts it replaced
-- live in uuid_migration_log_history. And the spec's process for a plain
-- migrate_job_uuids(): every job without micro_uuid, failed and skipped ones
-- included, each visited once per run (docs/architecture.md, "Database").
--
-- Why: the spec's monitoring queries (progress by status, failures by error,
-- "review failures") read uuid_migration_log verbatim. With one row per attempt
-- they counted attempts that a retry or a rollback had retired, and disagreed
-- with get_uuid_migration_stats(). With one row per job they agree by
-- construction: the stats count the same rows (get_uuid_migration_stats() is
-- defined with its counters in 20261128001200).
--
-- Modes of a run (p_mode):
--   'all'   the spec's process, the default: every job without micro_uuid;
--   'new'   jobs never attempted (no log row): the scheduled worker's pass, which
--           must not re-log the same skipped jobs every few minutes;
--   'retry' jobs attempted without a UUID that may now get one: failed ones, and
--           skipped ones whose slug has a service by now (the worker's auto-retry).
--
-- Upgrades a database on the earlier shape (one row per attempt, is_latest)
-- in place: retired rows move to the history, the column goes.

CREATE TABLE IF NOT EXISTS public.uuid_migration_log_history (
  id               uuid PRIMARY KEY,
  job_id           uuid NOT NULL,
  run_id           uuid NOT NULL,
  micro_slug       text NOT NULL,
  micro_uuid       uuid,
  migration_status text NOT NULL
    CONSTRAINT uuid_migration_log_history_status_check
    CHECK (migration_status IN ('pending', 'success', 'failed', 'skipped')),
  error_message    text,
  error_code       text,
  migrated_at      timestamptz,
  created_at       timestamptz NOT NULL,
  -- When and why the attempt stopped being the job's current outcome:
  -- 'superseded' by a later attempt, or 'rolled_back' with its run.
  retired_at       timestamptz NOT NULL DEFAULT now(),
  retired_reason   text NOT NULL
    CONSTRAINT uuid_migration_log_history_reason_check
    CHECK (retired_reason IN ('superseded', 'rolled_back'))
);
COMMENT ON TABLE public.uuid_migration_log_history IS
  'Attempts to back-fill jobs.micro_uuid that are no longer a job''s current outcome (uuid_migration_log holds that).';
CREATE INDEX IF NOT EXISTS idx_uuid_migration_log_history_job ON public.uuid_migration_log_history (job_id);

DO $upgrade$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
             WHERE attrelid = 'public.uuid_migration_log'::regclass AND attname = 'is_latest' AND NOT attisdropped) THEN
    -- A retired success was rolled back (a job with a UUID is never attempted again).
    INSERT INTO public.uuid_migration_log_history
      (id, job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code,
       migrated_at, created_at, retired_reason)
    SELECT id, job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code,
           migrated_at, created_at,
           CASE WHEN migration_status = 'success' THEN 'rolled_back' ELSE 'superseded' END
    FROM public.uuid_migration_log WHERE NOT is_latest
    ON CONFLICT (id) DO NOTHING;
    DELETE FROM public.uuid_migration_log WHERE NOT is_latest;
    -- Drops the partial indexes on is_latest with it.
    ALTER TABLE public.uuid_migration_log DROP COLUMN is_latest;
  END IF;
END
$upgrade$;

-- One current outcome per job: the integrity the stats rely on, the probe that
-- tells a never-attempted job from one already tried, and the conflict target
-- of a new attempt.
CREATE UNIQUE INDEX IF NOT EXISTS uuid_migration_log_job ON public.uuid_migration_log (job_id);
COMMENT ON TABLE public.uuid_migration_log IS
  'Each job''s current outcome of the back-fill of jobs.micro_uuid; replaced attempts are in uuid_migration_log_history.';

-- ON DELETE CASCADE from jobs, and TRUNCATE with it, for the log and its
-- history. SECURITY DEFINER: the role deleting a job (a signed-in user deleting
-- their own) has no right on either.
CREATE OR REPLACE FUNCTION public.uuid_migration_log_forget_deleted_jobs()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE public.uuid_migration_log, public.uuid_migration_log_history;
    RETURN NULL;
  END IF;
  DELETE FROM public.uuid_migration_log l USING deleted_jobs d WHERE l.job_id = d.id;
  DELETE FROM public.uuid_migration_log_history h USING deleted_jobs d WHERE h.job_id = d.id;
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

-- The earlier signatures took a boolean "retry"; the mode replaces it. A
-- procedure that commits cannot carry SET search_path (Supabase's linter asks
-- every function for it), so the pure-SQL batched run is now a DO block:
-- supabase/snippets/run_job_uuid_migration.sql.
DROP PROCEDURE IF EXISTS public.run_job_uuid_migration(integer, boolean);
DROP FUNCTION IF EXISTS public.migrate_job_uuids(integer, boolean);
DROP FUNCTION IF EXISTS public.migrate_job_uuids_batch(integer, uuid, boolean, uuid, integer);
DROP FUNCTION IF EXISTS public._uuid_migration_pick(integer, uuid, boolean, integer);
DROP FUNCTION IF EXISTS public._uuid_migration_apply_isolating(uuid[], tid[], text[], uuid, boolean);
DROP FUNCTION IF EXISTS public._uuid_migration_apply(uuid[], tid[], text[], uuid, boolean);
DROP FUNCTION IF EXISTS public.preview_job_uuid_migration(boolean);

-- The mode's name, checked: NULL is the spec's 'all'.
CREATE OR REPLACE FUNCTION public._uuid_migration_mode(p_mode text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
  IF p_mode IS NULL THEN
    RETURN 'all';
  END IF;
  IF p_mode NOT IN ('all', 'new', 'retry') THEN
    RAISE EXCEPTION 'uuid migration: mode must be all, new or retry, got %', p_mode USING ERRCODE = '22023';
  END IF;
  RETURN p_mode;
END
$$;

-- Retires the current outcomes of these jobs: each moves from the log to the
-- history with the reason ('superseded' by a new attempt, or 'rolled_back').
-- One set-based statement. Every read is an index probe by job_id (sequential
-- scans off), so its cost follows the jobs given, never the log's size or its
-- statistics.
CREATE OR REPLACE FUNCTION public._uuid_migration_retire(p_job_ids uuid[], p_reason text)
RETURNS bigint
LANGUAGE sql
SET search_path = ''
SET enable_seqscan = off
AS $$
  WITH retired AS (
    DELETE FROM public.uuid_migration_log l WHERE l.job_id = ANY (p_job_ids)
    RETURNING l.*
  ), archived AS (
    INSERT INTO public.uuid_migration_log_history
      (id, job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code,
       migrated_at, created_at, retired_reason)
    SELECT r.id, r.job_id, r.run_id, r.micro_slug, r.micro_uuid, r.migration_status, r.error_message,
           r.error_code, r.migrated_at, r.created_at, p_reason
    FROM retired r
    RETURNING 1
  )
  SELECT pg_catalog.count(*) FROM archived
$$;

-- Records the outcome of an attempt on jobs the caller holds locked: the job's
-- earlier outcome, if any, is retired first, and the new one takes its place.
-- Jobs picked as never attempted have none: no probe for them.
--
-- One set-based statement for a list of jobs the caller has locked, with the
-- row addresses (ctid) and slugs it read when it locked them, so jobs is not
-- searched again: a row this transaction holds locked cannot move. Jobs whose
-- slug matches exactly one service get its id; no match is 'skipped'; a slug that
-- matches several services (possible on a pre-existing table without a unique
-- slug) is 'failed' rather than guessed.
CREATE OR REPLACE FUNCTION public._uuid_migration_apply(
  p_job_ids uuid[], p_ctids tid[], p_slugs text[], p_run_id uuid, p_mode text)
RETURNS public.uuid_migration_batch_summary
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_result public.uuid_migration_batch_summary;
BEGIN
  IF p_mode <> 'new' THEN
    PERFORM public._uuid_migration_retire(p_job_ids, 'superseded');
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
    INSERT INTO public.uuid_migration_log AS l
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
    RETURNING l.migration_status
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
  p_job_ids uuid[], p_ctids tid[], p_slugs text[], p_run_id uuid, p_mode text)
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
    RETURN public._uuid_migration_apply(p_job_ids, p_ctids, p_slugs, p_run_id, p_mode);
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
      PERFORM public._uuid_migration_retire(p_job_ids, 'superseded');
      INSERT INTO public.uuid_migration_log
        (job_id, run_id, micro_slug, micro_uuid, migration_status, error_message, error_code)
      SELECT j.id, p_run_id, COALESCE(j.micro_id, ''), NULL, 'failed', pg_catalog.left(v_msg, 1000), v_state
      FROM public.jobs j WHERE j.id = p_job_ids[1];
      RETURN ROW(1, 0, 0, 1, NULL)::public.uuid_migration_batch_summary;
    END IF;
    v_half := v_n / 2;
    v_a := public._uuid_migration_apply_isolating(
      p_job_ids[1:v_half], p_ctids[1:v_half], p_slugs[1:v_half], p_run_id, p_mode);
    v_b := public._uuid_migration_apply_isolating(
      p_job_ids[v_half + 1:v_n], p_ctids[v_half + 1:v_n], p_slugs[v_half + 1:v_n], p_run_id, p_mode);
    RETURN ROW(v_a.processed + v_b.processed, v_a.succeeded + v_b.succeeded, v_a.skipped + v_b.skipped,
               v_a.failed + v_b.failed, NULL)::public.uuid_migration_batch_summary;
  END;
END
$$;

-- Picks (and locks) up to p_batch_size jobs without micro_uuid after the keyset
-- cursor p_after, of the mode's set (see the top of this file). The cursor
-- moves forward only, so a run visits each job once.
CREATE OR REPLACE FUNCTION public._uuid_migration_pick(
  p_batch_size integer, p_after uuid, p_mode text, p_shard integer,
  OUT job_ids uuid[], OUT ctids tid[], OUT slugs text[])
LANGUAGE plpgsql
SET search_path = ''
-- Plan with the real cursor each time: a generic plan cannot see that id > $1
-- selects a narrow range and falls back to hashing the whole log.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  v_mode  text := public._uuid_migration_mode(p_mode);
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

  -- Three statements rather than one with a CASE, so each gets its own plan:
  -- 'all' is a range scan of idx_jobs_without_micro_uuid and nothing else.
  IF v_mode = 'all' THEN
    SELECT COALESCE(pg_catalog.array_agg(c.id ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.ctid ORDER BY c.id), '{}'),
           COALESCE(pg_catalog.array_agg(c.micro_id ORDER BY c.id), '{}')
      INTO job_ids, ctids, slugs
      FROM (SELECT j.id, j.ctid, j.micro_id FROM public.jobs j
            WHERE j.micro_uuid IS NULL AND j.id > v_after AND j.id <= v_last
            ORDER BY j.id
            LIMIT p_batch_size
            FOR UPDATE OF j SKIP LOCKED) c;
  ELSIF v_mode = 'retry' THEN
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
                          WHERE l.job_id = j.id AND l.job_id > v_after
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
                              WHERE l.job_id = j.id AND l.job_id > v_after)
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
  p_mode       text    DEFAULT 'all',
  p_run_id     uuid    DEFAULT NULL,
  p_shard      integer DEFAULT NULL)
RETURNS public.uuid_migration_batch_summary
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_mode   text := public._uuid_migration_mode(p_mode);
  v_ids    uuid[];
  v_ctids  tid[];
  v_slugs  text[];
  v_result public.uuid_migration_batch_summary;
BEGIN
  SELECT p.job_ids, p.ctids, p.slugs INTO v_ids, v_ctids, v_slugs
  FROM public._uuid_migration_pick(p_batch_size, p_after, v_mode, p_shard) p;
  v_result := public._uuid_migration_apply_isolating(
    v_ids, v_ctids, v_slugs, COALESCE(p_run_id, pg_catalog.gen_random_uuid()), v_mode);
  v_result.last_job_id := v_ids[pg_catalog.cardinality(v_ids)];
  RETURN v_result;
END
$$;

-- The spec's form: SELECT * FROM migrate_job_uuids(); does the spec's process
-- (every job without a UUID, failed and skipped ones included, each once) and
-- returns job_id | micro_slug | found_uuid | status for every job it visited.
-- It runs in the caller's one transaction, so on a large table prefer the
-- batched forms (migrate_job_uuids_batch from a client, `uuid-lookup migrate`,
-- or the DO block in supabase/snippets/), which commit per batch.
CREATE OR REPLACE FUNCTION public.migrate_job_uuids(
  p_batch_size integer DEFAULT 5000,
  p_mode       text    DEFAULT 'all')
RETURNS SETOF public.uuid_migration_result
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_mode  text := public._uuid_migration_mode(p_mode);
  v_run   uuid := pg_catalog.gen_random_uuid();
  v_after uuid;
  v_ids   uuid[];
  v_ctids tid[];
  v_slugs text[];
BEGIN
  LOOP
    SELECT p.job_ids, p.ctids, p.slugs INTO v_ids, v_ctids, v_slugs
    FROM public._uuid_migration_pick(p_batch_size, v_after, v_mode, NULL) p;
    EXIT WHEN pg_catalog.cardinality(v_ids) = 0;
    PERFORM public._uuid_migration_apply_isolating(v_ids, v_ctids, v_slugs, v_run, v_mode);
    v_after := v_ids[pg_catalog.cardinality(v_ids)];
  END LOOP;
  RETURN QUERY
    SELECT l.job_id, l.micro_slug, l.micro_uuid, l.migration_status
    FROM public.uuid_migration_log l
    WHERE l.run_id = v_run;
END
$$;

-- What a run of the mode would do, writing nothing: jobs that would get a UUID,
-- be skipped (no service) or fail (an ambiguous slug), by slug.
CREATE OR REPLACE FUNCTION public.preview_job_uuid_migration(p_mode text DEFAULT 'all')
RETURNS TABLE (micro_slug text, would_be text, jobs bigint)
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
  v_mode text := public._uuid_migration_mode(p_mode);
BEGIN
  RETURN QUERY
  WITH candidates AS (
    SELECT j.micro_id
    FROM public.jobs j
    WHERE j.micro_uuid IS NULL
      AND CASE v_mode
            WHEN 'all' THEN true
            WHEN 'retry' THEN EXISTS (SELECT 1 FROM public.uuid_migration_log l
                                      WHERE l.job_id = j.id
                                        AND (l.migration_status <> 'skipped'
                                             OR EXISTS (SELECT 1 FROM public.micro_services ms WHERE ms.slug = j.micro_id)))
            ELSE NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l WHERE l.job_id = j.id)
          END
  ), services AS (
    SELECT ms.slug, pg_catalog.count(*) AS matches FROM public.micro_services ms GROUP BY ms.slug
  )
  SELECT COALESCE(c.micro_id, ''),
         CASE WHEN s.matches = 1 THEN 'success' WHEN s.matches > 1 THEN 'failed' ELSE 'skipped' END,
         pg_catalog.count(*)
  FROM candidates c LEFT JOIN services s ON s.slug = c.micro_id
  GROUP BY 1, 2
  ORDER BY 3 DESC, 1;
END
$$;

-- The runs recorded in the log and its history, newest first. jobs: attempts
-- the run made; rolled_back: its successes undone by a rollback.
CREATE OR REPLACE FUNCTION public.list_job_uuid_migration_runs()
RETURNS TABLE (run_id uuid, started_at timestamptz, finished_at timestamptz, jobs bigint,
               succeeded bigint, skipped bigint, failed bigint, rolled_back bigint)
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT a.run_id, pg_catalog.min(a.created_at), pg_catalog.max(a.created_at), pg_catalog.count(*),
         pg_catalog.count(*) FILTER (WHERE a.migration_status = 'success'),
         pg_catalog.count(*) FILTER (WHERE a.migration_status = 'skipped'),
         pg_catalog.count(*) FILTER (WHERE a.migration_status = 'failed'),
         pg_catalog.count(*) FILTER (WHERE a.rolled_back)
  FROM (SELECT l.run_id, l.created_at, l.migration_status, false AS rolled_back
        FROM public.uuid_migration_log l
        UNION ALL
        SELECT h.run_id, h.created_at, h.migration_status, h.retired_reason = 'rolled_back'
        FROM public.uuid_migration_log_history h) a
  GROUP BY a.run_id
  ORDER BY 2 DESC
$$;

-- Undoes what a run wrote: jobs it gave a UUID get NULL again, where they still
-- carry that UUID (a job changed since is left alone), and their outcomes move
-- to the history as 'rolled_back', so the jobs count as never attempted and a
-- later run takes them. The log itself is the snapshot: a run only ever fills
-- micro_uuid that was NULL. A run id the log has never seen is an error.
CREATE OR REPLACE FUNCTION public.rollback_job_uuid_migration(p_run_id uuid)
RETURNS TABLE (jobs_reverted bigint, jobs_changed_since bigint)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_ids      uuid[];
  v_reverted bigint;
  v_changed  bigint;
BEGIN
  IF p_run_id IS NULL THEN
    RAISE EXCEPTION 'uuid migration: run id must not be null' USING ERRCODE = '22004';
  END IF;
  -- One run's rollback at a time, and never during a batch.
  FOR v_shard IN 0..15 LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l WHERE l.run_id = p_run_id)
     AND NOT EXISTS (SELECT 1 FROM public.uuid_migration_log_history h WHERE h.run_id = p_run_id) THEN
    RAISE EXCEPTION 'uuid migration: no run % in the log', p_run_id
      USING ERRCODE = 'P0002', HINT = 'uuid-lookup migrate runs lists the runs';
  END IF;

  WITH reverted AS (
    UPDATE public.jobs j SET micro_uuid = NULL
    FROM public.uuid_migration_log l
    WHERE l.run_id = p_run_id AND l.migration_status = 'success'
      AND j.id = l.job_id AND j.micro_uuid = l.micro_uuid
    RETURNING j.id
  )
  SELECT pg_catalog.array_agg(r.id) INTO v_ids FROM reverted r;
  v_reverted := public._uuid_migration_retire(COALESCE(v_ids, '{}'), 'rolled_back');

  SELECT pg_catalog.count(*) INTO v_changed
  FROM public.uuid_migration_log l JOIN public.jobs j ON j.id = l.job_id
  WHERE l.run_id = p_run_id AND l.migration_status = 'success'
    AND j.micro_uuid IS DISTINCT FROM l.micro_uuid;

  RETURN QUERY SELECT v_reverted, v_changed;
END
$$;

-- The way forward for jobs whose slug no service has and none should have as
-- it is (`wall_painting`, `Wall-Painting` for `wall-painting`): give every such
-- job without a UUID the UUID of the service the operator names, as one run of
-- the migration: logged 'success', undone by rollback_job_uuid_migration(run).
CREATE OR REPLACE FUNCTION public.map_job_slug_to_service(p_job_slug text, p_service_slug text)
RETURNS TABLE (run_id uuid, jobs_mapped bigint)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_run     uuid := pg_catalog.gen_random_uuid();
  v_service uuid;
  v_ids     uuid[];
  v_mapped  bigint;
BEGIN
  IF p_job_slug IS NULL OR p_service_slug IS NULL THEN
    RAISE EXCEPTION 'uuid migration: both slugs are needed' USING ERRCODE = '22004';
  END IF;
  SELECT ms.id INTO v_service FROM public.micro_services ms WHERE ms.slug = p_service_slug;
  IF v_service IS NULL THEN
    RAISE EXCEPTION 'uuid migration: no micro_services row with slug %', p_service_slug
      USING ERRCODE = 'P0002', HINT = 'map to a slug that exists (uuid-lookup services add adds one)';
  END IF;
  -- As a batch does: never beside one.
  FOR v_shard IN 0..15 LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;
  WITH mapped AS (
    UPDATE public.jobs j SET micro_uuid = v_service
    WHERE j.micro_uuid IS NULL AND j.micro_id = p_job_slug
    RETURNING j.id
  )
  SELECT pg_catalog.array_agg(m.id) INTO v_ids FROM mapped m;
  PERFORM public._uuid_migration_retire(COALESCE(v_ids, '{}'), 'superseded');
  INSERT INTO public.uuid_migration_log (job_id, run_id, micro_slug, micro_uuid, migration_status, migrated_at)
  SELECT k.id, v_run, p_job_slug, v_service, 'success', pg_catalog.now() FROM pg_catalog.unnest(v_ids) AS k (id);
  v_mapped := COALESCE(pg_catalog.cardinality(v_ids), 0);
  RETURN QUERY SELECT v_run, v_mapped;
END
$$;

-- Row Level Security and grants, as for the log (20261128000400, 20261128000500):
-- operators only; the monitoring reader may read.
ALTER TABLE public.uuid_migration_log_history ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.uuid_migration_log_history FROM anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.uuid_migration_log_history TO service_role;
GRANT SELECT ON public.uuid_migration_log_history TO uuid_lookup_reader;
DROP POLICY IF EXISTS uuid_migration_log_history_read_monitoring ON public.uuid_migration_log_history;
CREATE POLICY uuid_migration_log_history_read_monitoring ON public.uuid_migration_log_history
  FOR SELECT TO uuid_lookup_reader USING (true);

REVOKE EXECUTE ON FUNCTION
  public._uuid_migration_retire(uuid[], text),
  public._uuid_migration_mode(text),
  public._uuid_migration_apply(uuid[], tid[], text[], uuid, text),
  public._uuid_migration_apply_isolating(uuid[], tid[], text[], uuid, text),
  public._uuid_migration_pick(integer, uuid, text, integer),
  public.migrate_job_uuids_batch(integer, uuid, text, uuid, integer),
  public.migrate_job_uuids(integer, text),
  public.preview_job_uuid_migration(text),
  public.list_job_uuid_migration_runs(),
  public.rollback_job_uuid_migration(uuid),
  public.map_job_slug_to_service(text, text)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION
  public._uuid_migration_retire(uuid[], text),
  public._uuid_migration_mode(text),
  public._uuid_migration_apply(uuid[], tid[], text[], uuid, text),
  public._uuid_migration_apply_isolating(uuid[], tid[], text[], uuid, text),
  public._uuid_migration_pick(integer, uuid, text, integer),
  public.migrate_job_uuids_batch(integer, uuid, text, uuid, integer),
  public.migrate_job_uuids(integer, text),
  public.preview_job_uuid_migration(text),
  public.list_job_uuid_migration_runs(),
  public.rollback_job_uuid_migration(uuid),
  public.map_job_slug_to_service(text, text)
  TO service_role;
