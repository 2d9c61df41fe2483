import type { Command } from 'commander';
import { createLogin } from '../../node/db/logins.ts';
import { applyMigrations } from '../../node/schema/apply-migrations.ts';
import { seedDatabase } from '../../node/schema/seed-database.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions } from '../cli-options.ts';
import { printRecord } from '../output.ts';

/** The tables whose statistics doctor judges, and the events the reports read. */
const ANALYZED_TABLES = ['micro_services', 'jobs', 'uuid_migration_log', 'analytics_events'];

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the database schema, sample data and logins');
  databaseOptions(db.command('apply').description('apply the migrations in supabase/migrations')).action(
    async (options: DatabaseCommandOptions) => {
      await withDatabase(options, async (database) => {
        const result = await applyMigrations(database);
        // JSON: the list of migrations applied ([] when none); for people, one line.
        const applied = options.json === true ? result.applied : result.applied.join(' ') || '(none)';
        printRecord({ applied, already_applied: result.alreadyApplied.length }, options.json);
      }, { create: true });
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
      .command('analyze')
      .description("refresh the planner's statistics of the product's tables (ANALYZE), as doctor's fix asks; the one way on the embedded database"),
  ).action(async (options: DatabaseCommandOptions) => {
    await withDatabase(options, async (database) => {
      for (const table of ANALYZED_TABLES) await database.exec(`ANALYZE public.${table}`);
      printRecord({ analyzed: options.json === true ? ANALYZED_TABLES : ANALYZED_TABLES.join(' ') }, options.json);
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
