import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Queryable } from '../../node/db/database.ts';
import { applyMigrations } from '../../node/schema/apply-migrations.ts';
import { supabaseDir } from '../../node/schema/migration-files.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions } from '../cli-options.ts';
import { printRecord } from '../output.ts';

/** Loads supabase/seed.sql (sample services and jobs; idempotent). */
export async function seedDatabase(db: Queryable): Promise<void> {
  await db.exec(await readFile(path.join(supabaseDir, 'seed.sql'), 'utf8'));
}

// Only the product's read-only roles may be handed out this way.
const GRANTABLE = new Set(['uuid_migration_monitor', 'uuid_lookup_reader']);
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates (or updates) a login role that is a member of one of the read-only roles. */
export async function createLogin(db: Queryable, name: string, memberOf: string, password: string): Promise<'created' | 'updated'> {
  if (!ROLE_NAME.test(name)) throw new CliError(`role name must match ${ROLE_NAME.source}, got ${JSON.stringify(name)}`);
  if (!GRANTABLE.has(memberOf)) throw new CliError(`--member-of must be one of ${[...GRANTABLE].join(', ')}`);
  if (password.length < 12) throw new CliError('the password must have at least 12 characters');
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

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the database schema, sample data and logins');
  databaseOptions(db.command('apply').description('apply the migrations in supabase/migrations')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        const result = await applyMigrations(database);
        printRecord({ applied: result.applied.join(' ') || '(none)', already_applied: result.alreadyApplied.length }, options.json);
      });
    },
  );
  databaseOptions(db.command('seed').description('load supabase/seed.sql (sample services and jobs)')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        await seedDatabase(database);
        printRecord({ seeded: true }, options.json);
      });
    },
  );
  databaseOptions(
    db
      .command('create-login <name>')
      .description('create or update a login for the Postgres exporter or Grafana, as a member of a read-only role')
      .requiredOption('--member-of <role>', 'uuid_migration_monitor (exporter) or uuid_lookup_reader (dashboards)')
      .requiredOption('--password-env <variable>', 'environment variable that holds the password (never a command-line argument)'),
  ).action(async (name: string, options: DatabaseCommandOptions & { memberOf: string; passwordEnv: string }) => {
    const password = process.env[options.passwordEnv];
    if (password === undefined || password === '') throw new CliError(`environment variable ${options.passwordEnv} is not set`);
    await withDatabase(options, async (database) => {
      const outcome = await createLogin(database, name, options.memberOf, password);
      printRecord({ role: name, member_of: options.memberOf, outcome }, options.json);
    });
  });
}
