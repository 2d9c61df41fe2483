import type { Database, Queryable } from '../db/database.ts';
import { DatabaseError } from '../db/database.ts';
import type { MigrationFile } from './migration-files.ts';
import { readMigrationFiles } from './migration-files.ts';

/** What {@link applyMigrations} did. */
export interface ApplyMigrationsResult {
  applied: string[];
  alreadyApplied: string[];
}

// The Supabase CLI's own history table (supabase/cli, pkg/migration/history.go):
// recording versions here makes a project that adopts the CLI later see them as
// applied, and `supabase migration list` show them.
export const HISTORY_DDL = `
  CREATE SCHEMA IF NOT EXISTS supabase_migrations;
  CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
  ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
  ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;
`;

// Appliers on several machines take turns: one transaction-scoped lock per file.
export const APPLY_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('supabase_migrations.apply', 0))`;

/**
 * The columns the migrations build on, in tables an app may have made before them:
 * a column of another type is refused before anything is applied. A column that
 * is absent is fine (the migrations add it); so is varchar for text.
 */
const NEEDED_COLUMNS: { table: string; column: string; types: string[]; what: string }[] = [
  { table: 'jobs', column: 'id', types: ['uuid'], what: 'uuid' },
  { table: 'jobs', column: 'micro_id', types: ['text', 'character varying'], what: 'text (the service slug)' },
  { table: 'jobs', column: 'micro_uuid', types: ['uuid'], what: 'uuid' },
  { table: 'jobs', column: 'session_id', types: ['text', 'character varying'], what: 'text' },
  { table: 'jobs', column: 'created_at', types: ['timestamp with time zone'], what: 'timestamptz' },
  { table: 'micro_services', column: 'id', types: ['uuid'], what: 'uuid' },
  { table: 'micro_services', column: 'slug', types: ['text', 'character varying'], what: 'text' },
  { table: 'analytics_events', column: 'id', types: ['uuid'], what: 'uuid' },
  { table: 'analytics_events', column: 'event_properties', types: ['jsonb'], what: 'jsonb' },
  { table: 'analytics_events', column: 'created_at', types: ['timestamp with time zone'], what: 'timestamptz' },
];

/**
 * The columns of existing tables whose types are not what the migrations build on
 * (`public.jobs.micro_id is integer, the migrations need text (the service slug)`);
 * empty when there are none. `db apply` refuses such a database before applying
 * anything (the migrations would apply, and the back-fill fail later with a wrong
 * hint); `doctor` names them on a database another tool migrated.
 */
export async function findWrongColumns(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = ANY($1::text[])`,
    [[...new Set(NEEDED_COLUMNS.map((c) => c.table))]],
  );
  return NEEDED_COLUMNS.flatMap((needed) => {
    const found = rows.find((r) => r.table_name === needed.table && r.column_name === needed.column);
    return found === undefined || needed.types.includes(found.data_type)
      ? []
      : [`public.${needed.table}.${needed.column} is ${found.data_type}, the migrations need ${needed.what}`];
  });
}

/**
 * Applies the migrations not yet recorded in `supabase_migrations.schema_migrations`,
 * each in its own transaction, in version order.
 *
 * @example
 * ```ts
 * const { applied } = await applyMigrations(db);
 * ```
 */
export async function applyMigrations(
  db: Database,
  options: { files?: MigrationFile[] } = {},
): Promise<ApplyMigrationsResult> {
  const files = options.files ?? (await readMigrationFiles());
  const wrong = await findWrongColumns(db);
  if (wrong.length > 0) {
    throw new DatabaseError(`existing tables of another shape: ${wrong.join('; ')}. Nothing was applied.`, {
      code: '42804',
      hint: "uuid-lookup builds on the booking wizard's tables as the spec has them: change these columns, or apply to another database",
    });
  }
  await db.transaction(async (tx) => {
    await tx.query(APPLY_LOCK);
    await tx.exec(HISTORY_DDL);
  });
  const result: ApplyMigrationsResult = { applied: [], alreadyApplied: [] };
  for (const file of files) {
    const applied = await db.transaction(async (tx) => {
      await tx.query(APPLY_LOCK);
      const { rows } = await tx.query('SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = $1', [
        file.version,
      ]);
      if (rows.length > 0) return false;
      try {
        await tx.exec(file.sql);
      } catch (error) {
        const cause = error instanceof DatabaseError ? error : undefined;
        throw new DatabaseError(`migration ${file.version}_${file.name}.sql failed: ${String(cause?.message ?? error)}`, {
          code: cause?.code,
          detail: cause?.detail,
          hint: cause?.hint,
          cause: error,
        });
      }
      await tx.query('INSERT INTO supabase_migrations.schema_migrations (version, name, statements) VALUES ($1, $2, $3)', [
        file.version,
        file.name,
        [file.sql],
      ]);
      return true;
    });
    (applied ? result.applied : result.alreadyApplied).push(file.version);
  }
  return result;
}
