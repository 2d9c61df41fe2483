-- Supabase's database linter (`supabase db lint`, plpgsql_check) at its default
-- level, warning, finds nothing in the migrations: test/servers/supabase-cli.test.ts
-- runs it on a database that `supabase db push` migrated.
--
-- It warned of one thing: _uuid_migration_pick (20261128001100) initialised a
-- uuid variable from a text literal without a cast. Restated below with the cast;
-- nothing else changes. (The rebuild's replay, restated in 20261203000400, reaches
-- its temporary tables through EXECUTE, which plpgsql_check does not read: it
-- reported them as missing, as it cannot know tables the function creates.)

CREATE OR REPLACE FUNCTION public._uuid_migration_pick(p_batch_size integer, p_after uuid, p_mode text, p_shard integer, OUT job_ids uuid[], OUT ctids tid[], OUT slugs text[])
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  v_mode  text := public._uuid_migration_mode(p_mode);
  v_after uuid := COALESCE(p_after, '00000000-0000-0000-0000-000000000000'::uuid);
  v_last  uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid;
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
