// Writes supabase/schemas/: the schema as the migrations leave it, one file per area,
// every function in its literal text (as Supabase's declarative schemas keep it).
// test/servers/schema-files.test.ts holds the files and the migrations equal.
//
//   npm run schema:dump     (PostgreSQL at TEST_PG_URL, default 127.0.0.1:5432, and pg_dump)
//
// How a change is made: edit the schema file, write the migration that takes a
// database at the last migration there, run the test; or write the migration and
// run this to bring the files up to date. Either way the test decides.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createPgDatabase } from '../src/node/db/pg-database.ts';
import { applyMigrations } from '../src/node/schema/apply-migrations.ts';

const root = path.resolve(import.meta.dirname, '..');
const serverUrl = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const out = path.join(root, 'supabase/schemas');

/** The areas; an object goes to the first area whose rule takes it, and the files apply in the order of their names. */
const AREAS: { file: string; title: string; takes: (name: string, type: string) => boolean }[] = [
  {
    file: '30_counters.sql',
    title: 'The migration counters: statement triggers keep get_uuid_migration_stats() exact',
    takes: (name) => /(_?uuid_migration_count|get_uuid_migration_stats|compact_uuid_migration|rebuild_uuid_migration)/.test(name),
  },
  {
    file: '20_migration.sql',
    title: 'The back-fill: migrate_job_uuids() and its batched form, the log and its history, the runs, rollback',
    takes: (name) => /(^|\s|\.)(_?uuid_migration_(?!count|counter)|migrate_job_uuids|preview_job_uuid|rollback_job_uuid|list_job_uuid|map_job_slug|idx_uuid_migration_log|idx_jobs_without_micro_uuid)/.test(name) || /^jobs uuid_migration_log_cascade/.test(name),
  },
  {
    file: '40_rollups.sql',
    title: 'The Phase 6 rollups of lookup events: pending rows, the fold, hourly figures, sessions, journeys',
    takes: (name) =>
      /(^|\s)(_?analytics_(?!events)|fold_lookup|rebuild_lookup|_rebuild_lookup|idx_analytics_lookup)/.test(name) ||
      /^analytics_events analytics_rollup/.test(name) ||
      /^jobs analytics_session/.test(name),
  },
  {
    file: '10_lookups_and_events.sql',
    title: "The booking wizard's tables: micro_services, jobs, analytics_events, and the event shape",
    takes: () => true,
  },
];

const PREAMBLE = `SET check_function_bodies = false;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);
`;

async function main(): Promise<void> {
  const name = `uuid_lookup_schema_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // Ctrl-C in the middle: the scratch database goes too.
  const interrupted = (): void => {
    void admin
      .query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const db = createPgDatabase({ url: url.toString() });
    await db.exec(readFileSync(path.join(root, 'test/support/supabase-defaults.sql'), 'utf8'));
    await applyMigrations(db);
    const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '-n', 'public', url.toString()], { encoding: 'utf8' });
    const security = await securityStatements(db);
    const rows = await seedRows(db);
    await db.close();
    writeAreas(dump, security, rows);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** pg_dump's objects: each `-- Name: …; Type: …` block, in its order. */
function objectsOf(dump: string): { name: string; type: string; text: string }[] {
  const parts = dump.split(/\n--\n-- Name: /).slice(1);
  return parts.map((part) => {
    const header = /^(.*?); Type: (.*?); Schema:/.exec(part);
    const body = part.slice(part.indexOf('\n--\n') + 4).replace(/\n-- PostgreSQL database dump complete[\s\S]*$/, '');
    return { name: header?.[1] ?? '', type: header?.[2] ?? '', text: body.replace(/^\\(un)?restrict .*$/gm, '').trim() };
  });
}

function writeAreas(dump: string, security: string, rows: string): void {
  mkdirSync(out, { recursive: true });
  const files = new Map<string, string[]>(AREAS.map((a) => [a.file, []]));
  const securityObjects: string[] = [];
  for (const object of objectsOf(dump)) {
    if (object.type === 'SCHEMA' || object.name === 'SCHEMA public') continue;
    if (object.type === 'POLICY' || object.type === 'ROW SECURITY') {
      securityObjects.push(object.text);
      continue;
    }
    const area = AREAS.find((a) => a.takes(object.name, object.type)) ?? AREAS.at(-1);
    files.get(area?.file ?? '')?.push(object.text);
  }
  const header = (title: string) =>
    `-- ${title}.\n-- The schema as the migrations leave it (supabase/migrations/ is the upgrade path);\n` +
    '-- test/servers/schema-files.test.ts holds the two equal. Written by `npm run schema:dump`.\n\n';
  for (const area of [...AREAS].sort((x, y) => x.file.localeCompare(y.file))) {
    const seed = area.file === '30_counters.sql' || area.file === '40_rollups.sql' ? rowsFor(rows, area.file) : '';
    writeFileSync(path.join(out, area.file), header(area.title) + PREAMBLE + '\n' + (files.get(area.file) ?? []).join('\n\n') + '\n' + seed);
  }
  writeFileSync(
    path.join(out, '50_security.sql'),
    header('Row level security, its policies, and what each role may do') + PREAMBLE + '\n' + securityObjects.join('\n\n') + '\n\n' + security,
  );
}

/** The rows the migrations seed, as INSERTs, marked with the table they belong to. */
async function seedRows(db: ReturnType<typeof createPgDatabase>): Promise<string> {
  const { rows } = await db.query<{ table: string; row: string }>(
    `SELECT 'analytics_rollup_limits' AS table, to_jsonb(t)::text AS row FROM public.analytics_rollup_limits t
     UNION ALL SELECT 'uuid_migration_counters', to_jsonb(t)::text FROM public.uuid_migration_counters t ORDER BY 1, 2`,
  );
  return rows.map((r) => `${r.table}\t${r.row}`).join('\n');
}

function rowsFor(rows: string, file: string): string {
  const table = file === '30_counters.sql' ? 'uuid_migration_counters' : 'analytics_rollup_limits';
  const inserts = rows
    .split('\n')
    .filter((line) => line.startsWith(`${table}\t`))
    .map((line) => `INSERT INTO public.${table} SELECT * FROM pg_catalog.jsonb_populate_record(NULL::public.${table}, '${line.split('\t')[1]?.replaceAll("'", "''")}');`);
  return inserts.length === 0 ? '' : `\n-- The row the functions above read.\n${inserts.join('\n')}\n`;
}

/**
 * Every privilege on our objects, from the catalog: all taken from the API and
 * monitoring roles (a Supabase project's default privileges give them everything),
 * then given back as the migrations leave it.
 */
async function securityStatements(db: ReturnType<typeof createPgDatabase>): Promise<string> {
  const roles = "'anon', 'authenticated', 'service_role', 'uuid_migration_monitor', 'uuid_lookup_reader', 'PUBLIC'";
  // With no search path, regclass and regprocedure name their schema, as the files need.
  const { rows } = await db.transaction(async (tx) => {
    await tx.query("SET LOCAL search_path = ''");
    return tx.query<{ statement: string }>(
    `WITH objects AS (
       SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, c.oid::regclass::text AS name, c.relacl AS acl, c.relowner AS owner,
              CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END AS defaultkind
       FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S')
       UNION ALL
       SELECT 'FUNCTION', p.oid::regprocedure::text, p.proacl, p.proowner, 'f'
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
     ),
     grants AS (
       SELECT o.kind, o.name, a.privilege_type, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
       FROM objects o, pg_catalog.aclexplode(coalesce(o.acl, pg_catalog.acldefault(o.defaultkind::"char", o.owner))) a
       WHERE a.grantee <> o.owner
     ),
     columns AS (
       SELECT c.oid::regclass::text AS name, at.attname, a.privilege_type, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
       FROM pg_class c JOIN pg_attribute at ON at.attrelid = c.oid AND at.attacl IS NOT NULL, pg_catalog.aclexplode(at.attacl) a
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
     )
     SELECT format('REVOKE ALL ON %s %s FROM %s;', kind, name, ${"'" + roles.replaceAll("'", '') + "'"}) AS statement, 0 AS step, kind, name, '' AS extra
       FROM objects
     UNION ALL
     SELECT format('GRANT %s ON %s %s TO %s;', string_agg(privilege_type, ', ' ORDER BY privilege_type), kind, name, grantee), 1, kind, name, grantee
       FROM grants GROUP BY kind, name, grantee
     UNION ALL
     SELECT format('GRANT %s (%s) ON TABLE %s TO %s;', privilege_type, string_agg(quote_ident(attname), ', ' ORDER BY attname), name, grantee), 2, 'TABLE', name, grantee || privilege_type
       FROM columns GROUP BY name, grantee, privilege_type
     ORDER BY step, kind, name, extra`,
    );
  });
  return `-- Privileges: every one taken, then given back as the migrations leave them.\n${rows.map((r) => r.statement).join('\n')}\n`;
}

await main();
