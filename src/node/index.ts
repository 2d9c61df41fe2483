// Node-only: database access (node-postgres, PGlite), migrations, the migration runner.
export type { Database, Queryable, QueryResult } from './db/database.ts';
export { DatabaseError } from './db/database.ts';
export type { PgDatabaseOptions } from './db/pg-database.ts';
export { createPgDatabase } from './db/pg-database.ts';
export type { PgliteDatabaseOptions } from './db/pglite-database.ts';
export { createPgliteDatabase } from './db/pglite-database.ts';
export type { OpenDatabaseOptions } from './db/open-database.ts';
export { openDatabase } from './db/open-database.ts';
export type { MigrationFile } from './schema/migration-files.ts';
export { readMigrationFiles, supabaseDir } from './schema/migration-files.ts';
export type { ApplyMigrationsResult } from './schema/apply-migrations.ts';
export { applyMigrations } from './schema/apply-migrations.ts';
export type { UuidMigrationStats } from './migration/migration-stats.ts';
export { getUuidMigrationStats, migrationFailurePercent } from './migration/migration-stats.ts';
export type {
  RunJobUuidMigrationOptions,
  UuidMigrationBatch,
  UuidMigrationRunResult,
} from './migration/run-job-uuid-migration.ts';
export { runJobUuidMigration } from './migration/run-job-uuid-migration.ts';
