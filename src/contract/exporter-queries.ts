/**
 * The Postgres exporter's custom queries (prometheus/postgres-exporter/queries.yml,
 * rendered from here by `npm run generate:monitoring` and `uuid-lookup mixin render`):
 * each query's key is the namespace of its metrics, each column a metric named
 * `<namespace>_<column>`. The rules and dashboards take those names from here.
 */

/** A metric of a query: a column, as postgres_exporter reads it. */
export interface ExporterMetric {
  readonly column: string;
  /** GAUGE: a value; LABEL: a label on the row's gauges. */
  readonly usage: 'GAUGE' | 'LABEL';
  readonly description: string;
}

/** One custom query of the exporter. */
export interface ExporterQuery {
  /** The query's key: the prefix of its metrics' names. */
  readonly namespace: string;
  /** Why the query is there and what it costs: the comment above it in the file. */
  readonly about: string;
  readonly sql: string;
  /** postgres_exporter's cache_seconds; none: run on every scrape. */
  readonly cacheSeconds?: number;
  readonly metrics: readonly ExporterMetric[];
}

/** What the file says first, before its queries. */
export const EXPORTER_QUERIES_ABOUT =
  'Custom queries for prometheus-community/postgres_exporter (--extend.query-path), rendered from ' +
  'src/contract/exporter-queries.ts: each key and its columns make the metric names the rules and ' +
  'dashboards read (uuid_migration_total_jobs, ..., uuid_migration_run_batches_time_efficiency_ratio). ' +
  'The exporter logs in as a member of uuid_migration_monitor, which may execute ' +
  'get_uuid_migration_stats(), compact_uuid_migration_counters() and ' +
  'fold_lookup_analytics_rollups() (all SECURITY DEFINER), reads nothing else, and ' +
  'writes only through the compaction and the fold. ' +
  'Custom queries are deprecated since postgres_exporter 0.13 but still work; the ' +
  'stack and the tests run 0.17.1 (npm run tools builds it). sql_exporter is the way out ' +
  'if they are removed.';

export const EXPORTER_QUERIES = Object.freeze([
  {
    namespace: 'uuid_migration',
    about:
      'The scrape also folds the counters\' deltas (compact_uuid_migration_counters(), migration 20261203000200; it never waits: another compaction at work, it skips). The stats read the statement\'s snapshot, so they are exact either way.',
    sql: `SELECT s.total_jobs, s.jobs_with_uuid, s.jobs_without_uuid, s.successful_migrations,
       s.failed_migrations, s.skipped_migrations, s.completion_percentage
FROM (SELECT public.compact_uuid_migration_counters() AS folded) c, public.get_uuid_migration_stats() s
`,
    cacheSeconds: 15,
    metrics: [
      { column: 'total_jobs', usage: 'GAUGE', description: 'Jobs in the jobs table.' },
      { column: 'jobs_with_uuid', usage: 'GAUGE', description: 'Jobs whose micro_uuid is set.' },
      { column: 'jobs_without_uuid', usage: 'GAUGE', description: 'Jobs still without micro_uuid.' },
      { column: 'successful_migrations', usage: 'GAUGE', description: 'Jobs whose latest migration outcome is success.' },
      { column: 'failed_migrations', usage: 'GAUGE', description: 'Jobs whose latest migration outcome is failed.' },
      { column: 'skipped_migrations', usage: 'GAUGE', description: 'Jobs whose latest migration outcome is skipped (no matching service).' },
      { column: 'completion_percentage', usage: 'GAUGE', description: 'Percentage of jobs with micro_uuid.' },
    ],
  },
  {
    namespace: 'uuid_lookup_rollups',
    about:
      'Lookup events reach the rollups the dashboards\' SQL panels read in folds (one insert statement in 32; migration 20261129000600). Each scrape folds what is pending, without waiting: when another fold holds the lock (a long transaction that folded), the scrape skips it and the other metrics are not held up. Not cached: every scrape folds.',
    sql: `SELECT COALESCE(f.folded, 0) AS folded_events, (f.folded IS NULL)::int AS fold_skipped
FROM (SELECT public.fold_lookup_analytics_rollups(false) AS folded) f
`,
    metrics: [
      { column: 'folded_events', usage: 'GAUGE', description: 'Lookup events this scrape folded into the rollups (stored since the last fold, not yet on the SQL panels).' },
      { column: 'fold_skipped', usage: 'GAUGE', description: '1 when this scrape could not fold because another fold held the lock, else 0.' },
    ],
  },
  {
    namespace: 'uuid_migration_runs',
    about:
      'Back-fill runs (migration 20261203000100), whoever runs them: the worker, a one-off `uuid-lookup migrate`, from any machine. One row per state a running run can be in, so the series stay while no run is going (0).',
    sql: `SELECT s.state, COALESCE(r.runs, 0) AS active, COALESCE(r.hold_age, 0) AS longest_hold_seconds,
       COALESCE(r.silent, 0) AS longest_silence_seconds
FROM unnest(ARRAY['running', 'held', 'paused']) AS s(state)
LEFT JOIN (SELECT u.state, count(*) AS runs,
                  max(extract(epoch FROM clock_timestamp() - u.held_since)) AS hold_age,
                  max(extract(epoch FROM clock_timestamp() - u.heartbeat_at)) AS silent
           FROM public.uuid_migration_runs u
           WHERE u.finished_at IS NULL
           GROUP BY u.state) r ON r.state = s.state
`,
    cacheSeconds: 15,
    metrics: [
      { column: 'state', usage: 'LABEL', description: 'running, held (the database\'s health), paused (an operator).' },
      { column: 'active', usage: 'GAUGE', description: 'Back-fill runs not finished, by state.' },
      { column: 'longest_hold_seconds', usage: 'GAUGE', description: 'How long the longest-held run of this state has been held (0 while none is).' },
      { column: 'longest_silence_seconds', usage: 'GAUGE', description: 'Time since the runner of this state\'s most silent run last wrote a heartbeat (a batch, or a hold check); long when its process died.' },
    ],
  },
  {
    namespace: 'uuid_migration_run_batches',
    about:
      'Batches of the runs not finished (migration 20261203000300), every runner together: what the worker\'s own histograms say of its runs, for a one-off `uuid-lookup migrate` too. jobs and batch_seconds grow while runs go (the dashboard takes their deriv()); time_efficiency is time in batches over time since the start (1: never waits; lower when held, paused or paced).',
    sql: `SELECT COALESCE(sum(r.jobs), 0) AS jobs, COALESCE(sum(r.batches), 0) AS batches,
       COALESCE(sum(r.batch_seconds), 0) AS batch_seconds,
       COALESCE(max(r.last_batch_ms), 0) / 1000 AS last_batch_seconds,
       COALESCE(max(r.batch_size), 0) AS batch_size,
       COALESCE(sum(r.batch_seconds) / NULLIF(sum(extract(epoch FROM clock_timestamp() - r.started_at)), 0), 0) AS time_efficiency_ratio
FROM public.uuid_migration_runs r
WHERE r.finished_at IS NULL
`,
    cacheSeconds: 15,
    metrics: [
      { column: 'jobs', usage: 'GAUGE', description: 'Jobs the back-fill runs not finished have done so far.' },
      { column: 'batches', usage: 'GAUGE', description: 'Batches the back-fill runs not finished have committed so far.' },
      { column: 'batch_seconds', usage: 'GAUGE', description: 'Seconds the back-fill runs not finished have spent in committed batches.' },
      { column: 'last_batch_seconds', usage: 'GAUGE', description: 'The slowest of the running runs\' last batches, in seconds (0 while none runs).' },
      { column: 'batch_size', usage: 'GAUGE', description: 'The largest batch size a running run asks for now.' },
      { column: 'time_efficiency_ratio', usage: 'GAUGE', description: 'Time in batches over time since the start, of the runs not finished (1 never waits; lower when held, paused or paced).' },
    ],
  },
] as const satisfies readonly ExporterQuery[]);

type Query = (typeof EXPORTER_QUERIES)[number];
type Namespace = Query['namespace'];
type ColumnOf<N extends Namespace> = Extract<Query, { namespace: N }>['metrics'][number]['column'];

/** A metric's Prometheus name: `<namespace>_<column>`, both checked against the queries at compile time. */
export function exporterMetricName<N extends Namespace>(namespace: N, column: ColumnOf<N>): string {
  return `${namespace}_${column}`;
}
