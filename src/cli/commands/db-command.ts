import type { Command } from 'commander';
import { createLogin } from '../../node/db/logins.ts';
import { analyzeTables, analyzeWhereNoAutovacuum } from '../../node/db/analyze.ts';
import type { Database } from '../../node/db/database.ts';
import { applyMigrations, findWrongColumns } from '../../node/schema/apply-migrations.ts';
import type { MigrationPlan } from '../../node/schema/apply-plan.ts';
import { planMigrations } from '../../node/schema/apply-plan.ts';
import { seedDatabase } from '../../node/schema/seed-database.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions } from '../cli-options.ts';
import { printRecord } from '../output.ts';

/** The tables whose statistics doctor judges, and the events the reports read. */

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the database schema, sample data and logins');
  databaseOptions(
    db
      .command('apply')
      .description('apply the migrations in supabase/migrations; on a database that has tables already, first measure what they change and refuse to lock out the app')
      .option('--dry-run', "say what would change in the tables that exist (grants, row level security, policies, columns, triggers, indexes) and which of the app's rights would be lost; apply nothing")
      .option('--allow-lockout', "apply even when anon or signed-in users would lose a right they have on an existing table"),
  ).action(async (options: DatabaseCommandOptions & { dryRun?: boolean; allowLockout?: boolean }) => {
    await withDatabase(
      options,
      async (database) => {
        const wrong = await findWrongColumns(database);
        // applyMigrations refuses these with its own message; the plan would fail on them.
        const plan = wrong.length === 0 && (options.dryRun === true || (await hasTables(database))) ? await planMigrations(database) : undefined;
        if (options.dryRun === true) {
          printPlan(plan ?? { pending: [], newTables: [], changes: [], lockouts: [] }, options.json);
          return;
        }
        if (plan !== undefined && plan.lockouts.length > 0 && options.allowLockout !== true) {
          printPlan(plan, options.json, process.stderr);
          throw new CliError(
            `db apply would take away ${plan.lockouts.length} right(s) the app's clients have (listed above); nothing was applied. ` +
              'What to do about each: docs/database.md, "An existing project"; to apply anyway, run again with --allow-lockout',
          );
        }
        const result = await applyMigrations(database);
        // JSON: the list of migrations applied ([] when none); for people, one line.
        const applied = options.json === true ? result.applied : result.applied.join(' ') || '(none)';
        printRecord({ applied, already_applied: result.alreadyApplied.length }, options.json);
      },
      { create: options.dryRun !== true },
    );
  });
  databaseOptions(db.command('seed').description('load supabase/seed.sql (sample services and jobs)')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        await seedDatabase(database);
        await analyzeWhereNoAutovacuum(database);
        printRecord({ seeded: true }, options.json);
      });
    },
  );
  databaseOptions(
    db
      .command('analyze')
      .description("refresh the planner's statistics of the product's tables (ANALYZE), as doctor's fix asks; the one way on the embedded database"),
  ).action(async (options: DatabaseCommandOptions) => {
    await withDatabase(options, async (database) => {
      const analyzed = await analyzeTables(database);
      printRecord({ analyzed: options.json === true ? analyzed : analyzed.join(' ') }, options.json);
    });
  });
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

/** Whether `public` has any table: a database the app uses already, whose tables the migrations may change. */
async function hasTables(database: Database): Promise<boolean> {
  const { rows } = await database.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')",
  );
  return (rows[0]?.n ?? 0) > 0;
}

/** The plan for people (or JSON): what would be applied, and what it changes in tables that exist. */
function printPlan(plan: MigrationPlan, json: boolean | undefined, out: NodeJS.WritableStream = process.stdout): void {
  if (json === true) {
    out.write(`${JSON.stringify({ pending: plan.pending, new_tables: plan.newTables, changes: plan.changes, lockouts: plan.lockouts }, null, 2)}\n`);
    return;
  }
  const lines = [
    plan.pending.length === 0
      ? 'Nothing to apply.'
      : `Would apply ${plan.pending.length} migration(s): ${plan.pending[0]}${plan.pending.length > 1 ? ` to ${plan.pending.at(-1)}` : ''}.`,
    `New tables (${plan.newTables.length})${plan.newTables.length === 0 ? '' : `: ${plan.newTables.join(', ')}`}`,
    `Changes to tables that exist (${plan.changes.length})${plan.changes.length === 0 ? '' : ':'}`,
    ...plan.changes.map((c) => `  ${c}`),
    `Rights the app's clients (anon, authenticated) would lose (${plan.lockouts.length})${plan.lockouts.length === 0 ? '' : ':'}`,
    ...plan.lockouts.map((l) => `  ${l}`),
  ];
  out.write(`${lines.join('\n')}\n`);
}
