/**
 * The migration's contract (docs/architecture.md, "Contracts"): how the id space
 * is cut, which jobs a run visits, and the fields of get_uuid_migration_stats(),
 * which the Postgres exporter turns into metrics named `uuid_migration_<field>`.
 */
import { exporterMetricName } from './exporter-queries.ts';

/** The id space of jobs is cut into this many fixed shards (the first hex digit of jobs.id). */
export const MIGRATION_SHARDS = 16;

/** Which jobs without a UUID a run visits: the spec's `all`, never attempted (`new`), or what can now succeed (`retry`). */
export type MigrationMode = 'all' | 'new' | 'retry';

/** The modes, in the order `--help` lists them. */
export const MIGRATION_MODES: readonly MigrationMode[] = Object.freeze(['all', 'new', 'retry']);

/** The spec's seven fields of get_uuid_migration_stats(), in its order. */
export const MIGRATION_STATS_FIELDS = Object.freeze([
  'total_jobs',
  'jobs_with_uuid',
  'jobs_without_uuid',
  'successful_migrations',
  'failed_migrations',
  'skipped_migrations',
  'completion_percentage',
] as const);

export type MigrationStatsField = (typeof MIGRATION_STATS_FIELDS)[number];

/** The Prometheus name of a stats field (the exporter's namespace `uuid_migration`). */
export function migrationMetricName(field: MigrationStatsField): string {
  return exporterMetricName('uuid_migration', field);
}

/** The migration worker's own metrics (prom-client, its /metrics endpoint). */
export const WORKER_METRIC_NAMES = Object.freeze({
  runs: 'uuid_migration_worker_runs_total',
  jobs: 'uuid_migration_worker_jobs_total',
  batchDuration: 'uuid_migration_worker_batch_duration_seconds',
  lastSuccess: 'uuid_migration_worker_last_success_timestamp_seconds',
});
