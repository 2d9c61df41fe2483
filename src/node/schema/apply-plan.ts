import type { Database, Queryable } from '../db/database.ts';
import { APPLY_LOCK, HISTORY_DDL } from './apply-migrations.ts';
import type { MigrationFile } from './migration-files.ts';
import { readMigrationFiles } from './migration-files.ts';

/**
 * What applying the pending migrations would change in tables that exist already
 * (an app's `jobs` and `micro_services` on an existing project): measured by
 * applying them in one transaction, reading the catalog before and after, and
 * rolling back. Nothing is kept.
 */
export interface MigrationPlan {
  /** Versions that would be applied. */
  pending: string[];
  /** Tables the migrations would create. */
  newTables: string[];
  /** Each change to a table that exists, one line each (`public.jobs: revoke INSERT from anon`). */
  changes: string[];
  /** What the app's roles could do before and could not after (`anon can no longer INSERT into public.jobs: ...`). */
  lockouts: string[];
}

/** The roles an app's clients use (Supabase's anon key and signed-in users). */
const APP_ROLES = ['anon', 'authenticated'];
const COMMANDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

interface Catalog {
  tables: Map<string, { rls: boolean }>;
  /** `table|role|PRIVILEGE` (table grants) and `table.column|role|PRIVILEGE` (column grants), the owner's left out. */
  grants: Set<string>;
  /** `table|policy` → what it says. */
  policies: Map<string, { text: string; command: string; roles: string[]; permissive: boolean }>;
  /** `table.column` → type. */
  columns: Map<string, string>;
  /** `table|trigger` and `table|index`. */
  triggers: Set<string>;
  indexes: Set<string>;
}

async function readCatalog(db: Queryable): Promise<Catalog> {
  const tables = await db.query<{ name: string; rls: boolean }>(
    `SELECT relname AS name, relrowsecurity AS rls FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')`,
  );
  const grants = await db.query<{ target: string; role: string; privilege: string }>(
    `SELECT c.relname AS target, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS role, a.privilege_type AS privilege
     FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.grantee <> c.relowner
     UNION ALL
     SELECT c.relname || '.' || t.attname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type
     FROM pg_class c JOIN pg_attribute t ON t.attrelid = c.oid AND t.attnum > 0 AND NOT t.attisdropped
     CROSS JOIN LATERAL aclexplode(t.attacl) a
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.grantee <> c.relowner`,
  );
  const policies = await db.query<{ tablename: string; policyname: string; cmd: string; roles: string[] | string; permissive: string; qual: string | null; with_check: string | null }>(
    `SELECT tablename, policyname, cmd, roles::text[] AS roles, permissive, qual, with_check FROM pg_policies WHERE schemaname = 'public'`,
  );
  const columns = await db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const triggers = await db.query<{ target: string }>(
    `SELECT c.relname || '|' || t.tgname AS target FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal`,
  );
  const indexes = await db.query<{ target: string }>(`SELECT tablename || '|' || indexname AS target FROM pg_indexes WHERE schemaname = 'public'`);
  const roleList = (roles: string[] | string): string[] => (Array.isArray(roles) ? roles : roles.replace(/^\{|\}$/g, '').split(',').filter(Boolean));
  return {
    tables: new Map(tables.rows.map((r) => [r.name, { rls: r.rls }])),
    grants: new Set(grants.rows.map((r) => `${r.target}|${r.role}|${r.privilege}`)),
    policies: new Map(
      policies.rows.map((p) => [
        `${p.tablename}|${p.policyname}`,
        {
          text: `FOR ${p.cmd} TO ${roleList(p.roles).join(', ')}${p.qual === null ? '' : ` USING (${p.qual})`}${p.with_check === null ? '' : ` WITH CHECK (${p.with_check})`}`,
          command: p.cmd,
          roles: roleList(p.roles),
          permissive: p.permissive === 'PERMISSIVE',
        },
      ]),
    ),
    columns: new Map(columns.rows.map((c) => [`${c.table_name}.${c.column_name}`, c.data_type])),
    triggers: new Set(triggers.rows.map((r) => r.target)),
    indexes: new Set(indexes.rows.map((r) => r.target)),
  };
}

/** Whether `role` may run `command` on some rows of `table`: a grant (table or column, its own or PUBLIC's), and a policy when RLS is on. */
function may(catalog: Catalog, table: string, role: string, command: string): { granted: boolean; rows: boolean } {
  const holders = [role, 'PUBLIC'];
  const granted = [...catalog.grants].some((g) => {
    const [target = '', holder = '', privilege] = g.split('|');
    return privilege === command && holders.includes(holder) && (target === table || target.startsWith(`${table}.`));
  });
  if (!granted || catalog.tables.get(table)?.rls !== true) return { granted, rows: granted };
  const rows = [...catalog.policies].some(
    ([key, p]) => key.startsWith(`${table}|`) && p.permissive && (p.command === 'ALL' || p.command === command) && (p.roles.includes(role) || p.roles.includes('public')),
  );
  return { granted, rows };
}

function describeChanges(before: Catalog, after: Catalog): { changes: string[]; lockouts: string[] } {
  const changes: string[] = [];
  const lockouts: string[] = [];
  const existing = [...before.tables.keys()].filter((t) => after.tables.has(t)).sort();
  const under = (table: string, key: string): boolean => key === table || key.startsWith(`${table}.`) || key.startsWith(`${table}|`);
  for (const table of existing) {
    const name = `public.${table}`;
    const was = before.tables.get(table)?.rls === true;
    const is = after.tables.get(table)?.rls === true;
    if (was !== is) changes.push(`${name}: row level security ${is ? 'on' : 'off'}`);
    // Grants: table grants per role ("revoke SELECT, UPDATE from anon"), column
    // grants per role and privilege ("grant SELECT (columns id, micro_id) to ...").
    const grouped = new Map<string, string[]>();
    const note = (verb: string, key: string) => {
      const [target = '', role = '', privilege = ''] = key.split('|');
      const column = target.includes('.') ? target.slice(table.length + 1) : undefined;
      const group = column === undefined ? `${verb}|${role}|` : `${verb}|${role}|${privilege}`;
      grouped.set(group, [...(grouped.get(group) ?? []), column ?? privilege]);
    };
    for (const g of before.grants) if (under(table, g.split('|')[0] ?? '') && !after.grants.has(g)) note('revoke', g);
    for (const g of after.grants) if (under(table, g.split('|')[0] ?? '') && !before.grants.has(g)) note('grant', g);
    for (const [group, items] of [...grouped].sort()) {
      const [verb, role, privilege = ''] = group.split('|');
      const what = privilege === '' ? items.sort().join(', ') : `${privilege} (column${items.length > 1 ? 's' : ''} ${items.sort().join(', ')})`;
      changes.push(`${name}: ${verb} ${what} ${verb === 'grant' ? 'to' : 'from'} ${role}`);
    }
    for (const [key, p] of after.policies) {
      if (!under(table, key)) continue;
      const old = before.policies.get(key);
      if (old === undefined) changes.push(`${name}: new policy ${key.split('|')[1]} ${p.text}`);
      else if (old.text !== p.text) changes.push(`${name}: policy ${key.split('|')[1]} becomes ${p.text}`);
    }
    for (const key of before.policies.keys()) if (under(table, key) && !after.policies.has(key)) changes.push(`${name}: policy ${key.split('|')[1]} dropped`);
    for (const [key, type] of after.columns) {
      if (!under(table, key)) continue;
      const old = before.columns.get(key);
      if (old === undefined) changes.push(`${name}: new column ${key.slice(table.length + 1)} ${type}`);
      else if (old !== type) changes.push(`${name}: column ${key.slice(table.length + 1)} becomes ${type} (was ${old})`);
    }
    for (const t of after.triggers) if (under(table, t) && !before.triggers.has(t)) changes.push(`${name}: new trigger ${t.split('|')[1]}`);
    for (const i of after.indexes) if (under(table, i) && !before.indexes.has(i)) changes.push(`${name}: new index ${i.split('|')[1]}`);
    for (const role of APP_ROLES) {
      for (const command of COMMANDS) {
        const then = may(before, table, role, command);
        const now = may(after, table, role, command);
        if (!then.rows || now.rows) continue;
        const why = now.granted ? 'row level security is on and no policy lets it' : 'the privilege is revoked';
        lockouts.push(`${role} can no longer ${command} ${command === 'INSERT' ? 'into ' : ''}${name}: ${why}`);
      }
    }
  }
  return { changes, lockouts };
}

/**
 * What {@link applyMigrations} would change (see {@link MigrationPlan}): the pending
 * migrations applied in one transaction that is rolled back, the catalog read
 * before and inside it.
 */
export async function planMigrations(db: Database, options: { files?: MigrationFile[] } = {}): Promise<MigrationPlan> {
  const files = options.files ?? (await readMigrationFiles());
  // The transaction ends by a throw, so that it rolls back: the plan is kept here.
  let plan: MigrationPlan | undefined;
  try {
    await db.transaction(async (tx) => {
      await tx.query(APPLY_LOCK);
      const before = await readCatalog(tx);
      await tx.exec(HISTORY_DDL);
      const done = new Set((await tx.query<{ version: string }>('SELECT version FROM supabase_migrations.schema_migrations')).rows.map((r) => r.version));
      const pending = files.filter((f) => !done.has(f.version));
      if (pending.length === 0) {
        plan = { pending: [], newTables: [], changes: [], lockouts: [] };
        throw new Error('nothing to apply: rolled back');
      }
      for (const file of pending) await tx.exec(file.sql);
      const after = await readCatalog(tx);
      const newTables = [...after.tables.keys()].filter((t) => !before.tables.has(t)).sort().map((t) => `public.${t}`);
      plan = { pending: pending.map((f) => f.version), newTables, ...describeChanges(before, after) };
      throw new Error('plan measured: rolled back');
    });
  } catch (error) {
    if (plan !== undefined) return plan;
    throw error;
  }
  throw new Error('the plan transaction committed: it must roll back');
}
