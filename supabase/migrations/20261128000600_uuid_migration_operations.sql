-- Operating the migration: a dry run, the list of runs, and rolling a run back.

-- What a run would do, writing nothing: jobs that would get a UUID, be skipped
-- (no service) or fail (an ambiguous slug), by slug. p_retry picks the jobs a
-- retry run would (see _uuid_migration_pick).
CREATE OR REPLACE FUNCTION public.preview_job_uuid_migration(p_retry boolean DEFAULT false)
RETURNS TABLE (micro_slug text, would_be text, jobs bigint)
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  WITH candidates AS (
    SELECT j.micro_id
    FROM public.jobs j
    WHERE j.micro_uuid IS NULL
      AND CASE WHEN COALESCE(p_retry, false)
               THEN EXISTS (SELECT 1 FROM public.uuid_migration_log l
                            WHERE l.job_id = j.id AND l.is_latest
                              AND (l.migration_status <> 'skipped'
                                   OR EXISTS (SELECT 1 FROM public.micro_services ms WHERE ms.slug = j.micro_id)))
               ELSE NOT EXISTS (SELECT 1 FROM public.uuid_migration_log l WHERE l.job_id = j.id AND l.is_latest)
          END
  ), services AS (
    SELECT ms.slug, pg_catalog.count(*) AS matches FROM public.micro_services ms GROUP BY ms.slug
  )
  SELECT COALESCE(c.micro_id, ''),
         CASE WHEN s.matches = 1 THEN 'success' WHEN s.matches > 1 THEN 'failed' ELSE 'skipped' END,
         pg_catalog.count(*)
  FROM candidates c LEFT JOIN services s ON s.slug = c.micro_id
  GROUP BY 1, 2
  ORDER BY 3 DESC, 1
$$;

-- The runs recorded in the log, newest first.
CREATE OR REPLACE FUNCTION public.list_job_uuid_migration_runs()
RETURNS TABLE (run_id uuid, started_at timestamptz, finished_at timestamptz, jobs bigint,
               succeeded bigint, skipped bigint, failed bigint, rolled_back bigint)
LANGUAGE sql STABLE
SET search_path = ''
AS $$
  SELECT l.run_id, pg_catalog.min(l.created_at), pg_catalog.max(l.created_at), pg_catalog.count(*),
         pg_catalog.count(*) FILTER (WHERE l.migration_status = 'success'),
         pg_catalog.count(*) FILTER (WHERE l.migration_status = 'skipped'),
         pg_catalog.count(*) FILTER (WHERE l.migration_status = 'failed'),
         pg_catalog.count(*) FILTER (WHERE l.migration_status = 'success' AND NOT l.is_latest)
  FROM public.uuid_migration_log l
  GROUP BY l.run_id
  ORDER BY 2 DESC
$$;

-- Undoes what a run wrote: jobs it gave a UUID get NULL again, where they still
-- carry that UUID (a job changed since is left alone), and their log rows are
-- retired, so the jobs count as never attempted and a later run takes them.
-- The log itself is the snapshot: a run only ever fills micro_uuid that was NULL.
CREATE OR REPLACE FUNCTION public.rollback_job_uuid_migration(p_run_id uuid)
RETURNS TABLE (jobs_reverted bigint, jobs_changed_since bigint)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  v_reverted bigint;
  v_changed bigint;
BEGIN
  IF p_run_id IS NULL THEN
    RAISE EXCEPTION 'uuid migration: run id must not be null' USING ERRCODE = '22004';
  END IF;
  -- One run's rollback at a time, and never during a batch.
  FOR v_shard IN 0..15 LOOP
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('public.migrate_job_uuids', v_shard));
  END LOOP;

  WITH reverted AS (
    UPDATE public.jobs j SET micro_uuid = NULL
    FROM public.uuid_migration_log l
    WHERE l.run_id = p_run_id AND l.migration_status = 'success' AND l.is_latest
      AND j.id = l.job_id AND j.micro_uuid = l.micro_uuid
    RETURNING j.id
  ), retired AS (
    UPDATE public.uuid_migration_log l SET is_latest = false
    FROM reverted r WHERE l.job_id = r.id AND l.run_id = p_run_id AND l.is_latest
    RETURNING l.job_id
  )
  SELECT pg_catalog.count(*) INTO v_reverted FROM retired;

  SELECT pg_catalog.count(*) INTO v_changed
  FROM public.uuid_migration_log l JOIN public.jobs j ON j.id = l.job_id
  WHERE l.run_id = p_run_id AND l.migration_status = 'success' AND l.is_latest
    AND j.micro_uuid IS DISTINCT FROM l.micro_uuid;

  RETURN QUERY SELECT v_reverted, v_changed;
END
$$;

REVOKE EXECUTE ON FUNCTION
  public.preview_job_uuid_migration(boolean),
  public.list_job_uuid_migration_runs(),
  public.rollback_job_uuid_migration(uuid)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION
  public.preview_job_uuid_migration(boolean),
  public.list_job_uuid_migration_runs(),
  public.rollback_job_uuid_migration(uuid)
  TO service_role;
