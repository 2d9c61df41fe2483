/**
 * The spec's SQL ("Monitoring Dashboard Queries", "Daily Monitoring",
 * "Migration Workflow", "Troubleshooting"), as the dashboards and the CLI's
 * reports run them. The stack test runs every one on PostgreSQL.
 */
export const specQueries = {
  lookupPerformance: {
    title: 'Lookup performance by service (7 days)',
    sql: `SELECT
  event_properties->>'micro_slug' as service,
  COUNT(*) as lookups,
  AVG((event_properties->>'lookup_time_ms')::numeric) as avg_time_ms,
  SUM(CASE WHEN (event_properties->>'success')::boolean THEN 1 ELSE 0 END) as successful,
  SUM(CASE WHEN (event_properties->>'fallback_used')::boolean THEN 1 ELSE 0 END) as fallbacks
FROM analytics_events
WHERE event_name = 'uuid_lookup'
  AND created_at > NOW() - INTERVAL '7 days'
GROUP BY service
ORDER BY lookups DESC`,
  },
  /**
   * The same figures from the hourly rollup per service (20261128001300): what
   * `uuid-lookup report lookup-performance` runs, in constant time. The window
   * counts whole hours; slugs with no service are one row, `__unknown__`, as in
   * the metrics. The dashboard panel runs lookupPerformanceRollupSql over the
   * time picker's range.
   */
  lookupPerformanceRollup: {
    title: 'Lookup performance by service (7 days)',
    sql: lookupPerformanceRollupSql("NOW() - INTERVAL '7 days'"),
  },
  slowLookups: {
    title: 'Slow lookups (> 100 ms)',
    sql: slowLookupsSql(),
  },
  migrationStats: {
    title: 'Migration statistics',
    sql: 'SELECT * FROM get_uuid_migration_stats()',
  },
  migrationProgress: {
    title: 'Migration progress by status',
    sql: `SELECT
  migration_status,
  COUNT(*) as count,
  ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 2) as percentage
FROM uuid_migration_log
GROUP BY migration_status`,
  },
  failuresByError: {
    title: 'Failed migrations by error',
    sql: `SELECT
  error_message,
  COUNT(*) as occurrences,
  array_agg(DISTINCT micro_slug) as affected_slugs
FROM uuid_migration_log
WHERE migration_status = 'failed'
GROUP BY error_message
ORDER BY occurrences DESC`,
  },
  reviewFailures: {
    title: 'Failed and skipped jobs (latest first)',
    sql: `SELECT * FROM uuid_migration_log
WHERE migration_status IN ('failed', 'skipped')
ORDER BY created_at DESC
LIMIT 100`,
  },
  failedJobs: {
    title: 'Failed jobs by error',
    sql: `SELECT
  error_message,
  COUNT(*) as count,
  array_agg(job_id) as failed_jobs
FROM uuid_migration_log
WHERE migration_status = 'failed'
GROUP BY error_message`,
  },
  missingServices: {
    title: 'Slugs without a micro_service',
    sql: `SELECT DISTINCT micro_id
FROM jobs
WHERE micro_uuid IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM micro_services
    WHERE slug = jobs.micro_id
  )`,
  },
} as const;

export type SpecQueryName = keyof typeof specQueries;

/**
 * Two of the spec's migration queries in the form the dashboard runs them at
 * scale: the same rows (test/db/migration-log.suite.ts holds them equal), read
 * from the counters, and by a loose index scan of idx_jobs_without_micro_uuid_slug
 * (one probe per distinct slug), instead of every row of the log or every job
 * without a UUID.
 */
export const dashboardForms = {
  migrationProgress: `SELECT
  v.migration_status,
  v.count,
  ROUND(v.count * 100.0 / SUM(v.count) OVER (), 2) as percentage
FROM get_uuid_migration_stats() s,
  LATERAL (VALUES ('success', s.successful_migrations), ('failed', s.failed_migrations), ('skipped', s.skipped_migrations)) v(migration_status, count)
WHERE v.count > 0`,
  missingServices: `WITH RECURSIVE slugs(micro_id) AS (
  (SELECT micro_id FROM jobs WHERE micro_uuid IS NULL AND micro_id IS NOT NULL ORDER BY micro_id LIMIT 1)
  UNION ALL
  SELECT (SELECT j.micro_id FROM jobs j WHERE j.micro_uuid IS NULL AND j.micro_id > slugs.micro_id ORDER BY j.micro_id LIMIT 1)
  FROM slugs WHERE slugs.micro_id IS NOT NULL
)
SELECT micro_id FROM slugs
WHERE micro_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM micro_services WHERE slug = slugs.micro_id)
UNION ALL
SELECT NULL WHERE EXISTS (SELECT 1 FROM jobs WHERE micro_uuid IS NULL AND micro_id IS NULL)`,
} as const satisfies Partial<Record<SpecQueryName, string>>;

/**
 * The per-service figures from the hourly rollup from `from` (an SQL
 * timestamptz expression, counted from the start of its hour) up to `to`
 * (exclusive; none: up to now).
 */
export function lookupPerformanceRollupSql(from: string, to?: string): string {
  const until = to === undefined ? '' : `\n  AND bucket < ${to}`;
  return `SELECT
  micro_slug as service,
  SUM(lookups) as lookups,
  SUM(total_ms) / SUM(lookups) as avg_time_ms,
  SUM(successful) as successful,
  SUM(fallbacks) as fallbacks
FROM analytics_lookup_service_hourly
WHERE bucket >= date_trunc('hour', ${from})${until}
GROUP BY service
HAVING SUM(lookups) > 0
ORDER BY lookups DESC`;
}

/** The spec's slow-lookups query, verbatim; with `timeFilter` (an SQL condition) as one more condition of its WHERE. */
export function slowLookupsSql(timeFilter?: string): string {
  const filter = timeFilter === undefined ? '' : `\n  AND ${timeFilter}`;
  return `SELECT
  event_properties->>'micro_slug' as service,
  (event_properties->>'lookup_time_ms')::numeric as time_ms
FROM analytics_events
WHERE event_name = 'uuid_lookup'
  AND (event_properties->>'lookup_time_ms')::numeric > 100${filter}
ORDER BY time_ms DESC
LIMIT 20`;
}
