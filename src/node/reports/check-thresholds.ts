import type { Threshold, ThresholdState } from '../../contract/thresholds.ts';
import { MIN_LOOKUPS, thresholdFor, thresholdState } from '../../contract/thresholds.ts';
import type { Queryable } from '../db/database.ts';
import { getUuidMigrationStats, migrationFailurePercent } from '../migration/migration-stats.ts';

/** One threshold judged against the data. */
export interface ThresholdCheck {
  key: Threshold['key'];
  title: string;
  value: number | null;
  unit: Threshold['unit'];
  warning: number;
  critical: number;
  state: ThresholdState;
  basis: string;
}

/** Options of {@link checkThresholds}. */
export interface CheckThresholdsOptions {
  /** The window of analytics events judged. Default 60 minutes. */
  sinceMinutes?: number;
  /** Fewer lookups than this is no traffic, never a breach (as in the alert rules). Default {@link MIN_LOOKUPS}. */
  minLookups?: number;
}

/**
 * The spec's thresholds against current data: lookups from analytics_events in
 * the window, migration failures from get_uuid_migration_stats().
 */
export async function checkThresholds(db: Queryable, options: CheckThresholdsOptions = {}): Promise<ThresholdCheck[]> {
  const since = options.sinceMinutes ?? 60;
  const minLookups = options.minLookups ?? MIN_LOOKUPS;
  const { rows } = await db.query<{ lookups: string; avg_ms: string | null; failures: string; fallbacks: string }>(
    `SELECT count(*) AS lookups,
            avg((event_properties->>'lookup_time_ms')::numeric) AS avg_ms,
            count(*) FILTER (WHERE NOT (event_properties->>'success')::boolean) AS failures,
            count(*) FILTER (WHERE (event_properties->>'fallback_used')::boolean) AS fallbacks
     FROM public.analytics_events
     WHERE event_name = 'uuid_lookup' AND created_at > now() - make_interval(mins => $1::int)`,
    [since],
  );
  const row = rows[0];
  const lookups = Number(row?.lookups ?? 0);
  const enough = lookups >= minLookups;
  const basis = `${lookups} lookups in the last ${since} min${enough ? '' : ` (under ${minLookups}: not judged)`}`;
  const stats = await getUuidMigrationStats(db);
  const attempted = stats.successful_migrations + stats.failed_migrations + stats.skipped_migrations;
  const values: Record<Threshold['key'], { value: number | null; basis: string }> = {
    lookup_latency: { value: enough ? Number(row?.avg_ms) : null, basis },
    lookup_failure_rate: { value: enough ? (100 * Number(row?.failures)) / lookups : null, basis },
    lookup_fallback_rate: { value: enough ? (100 * Number(row?.fallbacks)) / lookups : null, basis },
    migration_failure_rate: { value: migrationFailurePercent(stats), basis: `${attempted} jobs attempted` },
  };
  return (Object.keys(values) as Threshold['key'][]).map((key) => {
    const threshold = thresholdFor(key);
    const { value, basis: why } = values[key];
    return {
      key,
      title: threshold.title,
      value: value === null ? null : Number(value.toFixed(2)),
      unit: threshold.unit,
      warning: threshold.warning,
      critical: threshold.critical,
      state: thresholdState(threshold, value),
      basis: why,
    };
  });
}

/** Exit status for cron and CI: 0 ok (or no data), 1 warning, 2 critical. */
export function checkExitCode(checks: readonly ThresholdCheck[]): 0 | 1 | 2 {
  if (checks.some((c) => c.state === 'critical')) return 2;
  if (checks.some((c) => c.state === 'warning')) return 1;
  return 0;
}
