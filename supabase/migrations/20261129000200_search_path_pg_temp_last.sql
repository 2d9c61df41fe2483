-- Every function of ours searches pg_catalog first and the session's temporary
-- schema last, so a type name written without its schema cannot be taken over.
--
-- The functions so far pinned `search_path = ''`. With an empty path PostgreSQL
-- still searches two schemas it was not told about: pg_catalog, and before it
-- the session's temporary schema (pg_temp), for relation and type names
-- (PostgreSQL's manual, "search_path", and "Writing SECURITY DEFINER Functions
-- Safely"). Several functions cast with unqualified type names (`::date` in
-- _analytics_journey_change, `::text` in the migration's functions). A role with
-- a direct SQL session and the TEMP privilege could create `pg_temp.date` (a
-- domain over text that fails its CHECK, say) and make a SECURITY DEFINER
-- function, run with its owner's rights, read it as the type. Seen: with an
-- empty path, `t::date` inside such a function resolved to the session's domain.
-- Supabase's API roles reach the database through PostgREST, which offers no
-- such session; a role with psql access (a dashboard user, the monitor role of
-- 20261128000500) has one.
--
-- `SET search_path = pg_catalog, pg_temp` names both: pg_catalog first, pg_temp
-- last, and nothing else. Every other name in these functions is written with
-- its schema (public.…), as before, so nothing else changes; Supabase's linter
-- (function_search_path_mutable) asks only that search_path be set.
--
-- The same goes for auth.uid() where 20261128000100 created it (a database
-- without Supabase's auth schema): it is the default of jobs.user_id and
-- analytics_events.user_id, so it runs in every insert. Supabase's own auth.uid()
-- does not pin search_path = '' and is left alone.
--
-- ALTER ROUTINE changes only the setting: bodies, owners, grants and the
-- triggers using the functions stay as they are. Functions owned by an extension
-- (pgTAP in the test database, say) are left to their extension. A later
-- migration that replaces a function must write the same SET clause: the pgTAP
-- security test and `uuid-lookup check` both list any function that does not.
DO $$
DECLARE
  routine regprocedure;
BEGIN
  FOR routine IN
    SELECT p.oid::regprocedure
    FROM pg_catalog.pg_proc p
    LEFT JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    WHERE (p.pronamespace = 'public'::regnamespace
           OR p.oid = pg_catalog.to_regprocedure('auth.uid()'))
      AND d.objid IS NULL
      AND p.proconfig @> ARRAY['search_path=""']
  LOOP
    EXECUTE format('ALTER ROUTINE %s SET search_path = pg_catalog, pg_temp', routine);
  END LOOP;
END
$$;
