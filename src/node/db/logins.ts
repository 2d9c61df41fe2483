import type { Queryable } from './database.ts';

// Only the product's read-only roles may be handed out this way.
const GRANTABLE = new Set(['uuid_migration_monitor', 'uuid_lookup_reader']);
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates (or updates) a login role that is a member of one of the read-only roles. */
export async function createLogin(db: Queryable, name: string, memberOf: string, password: string): Promise<'created' | 'updated'> {
  if (!ROLE_NAME.test(name)) throw new Error(`role name must match ${ROLE_NAME.source}, got ${JSON.stringify(name)}`);
  if (!GRANTABLE.has(memberOf)) throw new Error(`--member-of must be one of ${[...GRANTABLE].join(', ')}`);
  if (password.length < 12) throw new Error('the password must have at least 12 characters');
  const { rows } = await db.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists', [name]);
  const exists = rows[0]?.exists === true;
  // format(%I, %L) quotes the identifier and the literal: no SQL from the caller.
  const statement = await db.query<{ sql: string }>(
    exists
      ? "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql"
      : "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql",
    [name, password],
  );
  await db.exec(statement.rows[0]?.sql ?? '');
  const grant = await db.query<{ sql: string }>("SELECT format('GRANT %I TO %I', $1::text, $2::text) AS sql", [memberOf, name]);
  await db.exec(grant.rows[0]?.sql ?? '');
  return exists ? 'updated' : 'created';
}
