// Node-only: database access (node-postgres, PGlite), migrations, the migration runner.
export type { Database, Queryable, QueryResult } from './db/database.ts';
export { DatabaseError } from './db/database.ts';
export type { PgDatabaseOptions } from './db/pg-database.ts';
export { createPgDatabase } from './db/pg-database.ts';
export type { PgliteDatabaseOptions } from './db/pglite-database.ts';
export { createPgliteDatabase } from './db/pglite-database.ts';
export { DataDirError } from './db/data-dir-lock.ts';
export type { OpenDatabaseOptions } from './db/open-database.ts';
export { openDatabase } from './db/open-database.ts';
export type { MigrationFile } from './schema/migration-files.ts';
export { readMigrationFiles, supabaseDir } from './schema/migration-files.ts';
export type { ApplyMigrationsResult } from './schema/apply-migrations.ts';
export { applyMigrations } from './schema/apply-migrations.ts';
export type { UuidMigrationStats } from './migration/migration-stats.ts';
export { getUuidMigrationStats, migrationFailurePercent } from './migration/migration-stats.ts';
export type {
  MigrationHold,
  MigrationPacing,
  RunJobUuidMigrationOptions,
  UuidMigrationBatch,
  UuidMigrationRunResult,
} from './migration/run-job-uuid-migration.ts';
export type { HoldReason, MigrationHealthLimits } from './migration/migration-health.ts';
export { DEFAULT_HOLD_QUERY } from './migration/migration-health.ts';
export type { RunRequest, RunState } from './migration/migration-runs.ts';
export { requestRun as requestMigrationRun } from './migration/migration-runs.ts';
export { runJobUuidMigration } from './migration/run-job-uuid-migration.ts';
export type { MigrationPreviewRow, MigrationRun } from './migration/migration-operations.ts';
export {
  countMigrationCandidates,
  listMigrationRuns,
  mapJobSlugToService,
  previewJobUuidMigration,
  rollbackMigrationRun,
} from './migration/migration-operations.ts';
export type { MigrationMode } from '../contract/migration.ts';
export { MIGRATION_MODES, MIGRATION_SHARDS } from '../contract/migration.ts';
export { createPgAnalyticsSink } from './sdk/pg-analytics-sink.ts';
export { createPgSlugSource } from './sdk/pg-slug-source.ts';
export type { NodeTelemetry, NodeTelemetryOptions } from './sdk/node-telemetry.ts';
export { CollectorNamedPrometheusExporter, createNodeTelemetry } from './sdk/node-telemetry.ts';
export type { MigrationWorker, MigrationWorkerOptions } from './worker/migration-worker.ts';
export { createMigrationWorker } from './worker/migration-worker.ts';
export type { CheckThresholdsOptions, ThresholdCheck } from './reports/check-thresholds.ts';
export { checkExitCode, checkThresholds } from './reports/check-thresholds.ts';
export type { DoctorCheck } from './reports/doctor.ts';
export type { DuplicateIndexes } from './reports/doctor.ts';
export { findDuplicateIndexes, runDoctor } from './reports/doctor.ts';
export type { AnalyticsReportOptions, CostlyService, FoldOutcome, JourneyComparison, LookupFigures } from './reports/lookup-analytics.ts';
export { foldLookupRollups, lookupJourneys, lookupPatterns, lookupRegions } from './reports/lookup-analytics.ts';
export type { ReportName } from './reports/run-report.ts';
export { reportNames, runReport } from './reports/run-report.ts';
export { specQueries } from '../contract/spec-queries.ts';
export type { MicroServiceInput } from './services/micro-services.ts';
export { addMicroServices, parseServicesFile, ServiceInputError } from './services/micro-services.ts';
