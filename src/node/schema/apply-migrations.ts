import type { Database } from '../db/database.ts';
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
const HISTORY_DDL = `
  CREATE SCHEMA IF NOT EXISTS supabase_migrations;
  CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
  ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
  ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;
`;

// Appliers on several machines take turns: one transaction-scoped lock per file.
const APPLY_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('supabase_migrations.apply', 0))`;

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
