import type { Database } from '../../src/node/db/database.ts';

/**
 * What a database holds of ours, one line per fact, sorted: tables and their
 * columns, constraints, indexes, functions (their whole definition, as md5),
 * triggers, policies, row level security, privileges on tables, columns,
 * functions and schemas, types, sequences, comments, our roles, auth.uid(), and
 * the rows of public's tables. Two databases built two ways hold the same
 * schema when their snapshots are equal.
 */
export async function catalogSnapshot(db: Database): Promise<string[]> {
  // With no search path every name is written with its schema, whatever the session had.
  const { rows } = await db.transaction(async (tx) => {
    await tx.query("SET LOCAL search_path = ''");
    return tx.query<{ line: string }>(`
    WITH rel AS (
      SELECT c.oid, c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    ),
    grantee AS (SELECT 0::oid AS oid, 'PUBLIC' AS name UNION ALL SELECT oid, rolname FROM pg_roles)
    SELECT line FROM (
      SELECT format('relation %s: kind %s, rls %s, forced %s, options %s', r.relname, r.relkind, c.relrowsecurity, c.relforcerowsecurity, c.reloptions) AS line
        FROM rel r JOIN pg_class c ON c.oid = r.oid
      UNION ALL
      SELECT format('column %s.%s: %s, not null %s, default %s, identity %s, generated %s', r.relname, a.attname,
                    format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated)
        FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
        WHERE r.relkind IN ('r', 'c', 'v', 'p')
      UNION ALL
      SELECT format('constraint %s.%s: %s, valid %s, deferrable %s', r.relname, con.conname, pg_get_constraintdef(con.oid), con.convalidated, con.condeferrable)
        FROM pg_constraint con JOIN rel r ON r.oid = con.conrelid
      UNION ALL
      SELECT format('index %s: %s', r.relname, pg_get_indexdef(r.oid)) FROM rel r WHERE r.relkind = 'i'
      UNION ALL
      SELECT format('sequence %s: %s', r.relname, (SELECT format('%s %s %s %s %s', seqtypid::regtype, seqstart, seqincrement, seqmin, seqmax) FROM pg_sequence WHERE seqrelid = r.oid))
        FROM rel r WHERE r.relkind = 'S'
      UNION ALL
      SELECT format('function %s: %s', p.oid::regprocedure, md5(pg_get_functiondef(p.oid)))
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace OR p.oid = to_regprocedure('auth.uid()')
      UNION ALL
      SELECT format('trigger %s.%s: %s, enabled %s', r.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled)
        FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
      UNION ALL
      SELECT format('policy %s.%s: %s %s to %s using %s check %s', r.relname, pol.polname, pol.polcmd, pol.polpermissive,
                    (SELECT string_agg(g.name, ',' ORDER BY g.name) FROM grantee g WHERE g.oid = ANY (pol.polroles)),
                    pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))
        FROM pg_policy pol JOIN rel r ON r.oid = pol.polrelid
      UNION ALL
      SELECT format('privilege on %s: %s %s%s', r.relname, g.name, a.privilege_type, CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END)
        FROM rel r JOIN pg_class c ON c.oid = r.oid, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a JOIN grantee g ON g.oid = a.grantee
        WHERE r.relkind IN ('r', 'S', 'v') AND a.grantee <> c.relowner
      UNION ALL
      SELECT format('privilege on %s.%s: %s %s', r.relname, at.attname, g.name, a.privilege_type)
        FROM rel r JOIN pg_attribute at ON at.attrelid = r.oid AND at.attacl IS NOT NULL, aclexplode(at.attacl) a JOIN grantee g ON g.oid = a.grantee
      UNION ALL
      SELECT format('privilege on %s: %s %s', p.oid::regprocedure, g.name, a.privilege_type)
        FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a JOIN grantee g ON g.oid = a.grantee
        WHERE (p.pronamespace = 'public'::regnamespace OR p.oid = to_regprocedure('auth.uid()')) AND a.grantee <> p.proowner
      UNION ALL
      SELECT format('privilege on schema %s: %s %s', n.nspname, g.name, a.privilege_type)
        FROM pg_namespace n, aclexplode(n.nspacl) a JOIN grantee g ON g.oid = a.grantee
        WHERE n.nspname IN ('public', 'auth') AND a.grantee <> n.nspowner
      UNION ALL
      SELECT format('type %s: %s', t.typname, t.typtype) FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('c', 'e', 'd') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
      UNION ALL
      SELECT format('comment on %s (column %s): %s', r.relname, d.objsubid, md5(d.description)) FROM pg_description d
        JOIN rel r ON r.oid = d.objoid AND d.classoid = 'pg_class'::regclass
      UNION ALL
      SELECT format('comment on function %s: %s', d.objoid::regprocedure, md5(d.description)) FROM pg_description d
        JOIN pg_proc p ON p.oid = d.objoid AND d.classoid = 'pg_proc'::regclass WHERE p.pronamespace = 'public'::regnamespace
      UNION ALL
      SELECT format('role %s: login %s, inherit %s, bypassrls %s', rolname, rolcanlogin, rolinherit, rolbypassrls) FROM pg_roles
        WHERE rolname IN ('anon', 'authenticated', 'service_role', 'uuid_migration_monitor', 'uuid_lookup_reader')
      UNION ALL
      SELECT format('rows of %s: %s', r.relname, (xpath('/row/rows/text()', query_to_xml(
               format('SELECT coalesce(md5(string_agg(t::text, %L ORDER BY t::text)), %L) AS rows FROM public.%I t', E'\\n', 'none', r.relname), false, true, '')))[1]::text)
        FROM rel r WHERE r.relkind = 'r'
    ) facts ORDER BY line`);
  });
  return rows.map((r) => r.line);
}
