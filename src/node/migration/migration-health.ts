import type { Queryable } from '../db/database.ts';

/**
 * What makes the back-fill hold before its next batch (GitLab's batched background
 * migrations call them health indicators): the database is busy in a way that one
 * more batch would make worse for the app. Each is off with `false`.
 */
export interface MigrationHealthLimits {
  /** Hold while more than this many sessions wait for a lock on `jobs` (a row or the table). Default 0. */
  maxLockWaits?: number | false;
  /** Hold while a VACUUM (autovacuum's or anyone's) runs on `jobs`. Default true. */
  holdDuringVacuum?: boolean;
  /** Hold while WAL is written faster than this, in bytes per minute (since the last check). Default off. */
  maxWalBytesPerMinute?: number | false;
  /** Hold while a replica's replay lag (`pg_stat_replication`) exceeds this many seconds. Default 30. */
  maxReplicationLagSeconds?: number | false;
  /** Hold while this PromQL query returns any series (e.g. `ALERTS{alertstate="firing",severity="critical"}`). */
  prometheus?: { url: string; query: string; timeoutMillis?: number };
}

/** The reasons a run holds; `paused` is an operator's request, the others the database's health. */
export type HoldReason = 'paused' | 'lock_waits' | 'vacuum' | 'wal_rate' | 'replication_lag' | 'prometheus';

/** One reason to hold now, with what was measured. */
export interface Unhealthy {
  reason: Exclude<HoldReason, 'paused'>;
  detail: string;
}

/** The default Prometheus query: any critical alert firing. */
export const DEFAULT_HOLD_QUERY = 'ALERTS{alertstate="firing",severity="critical"}';

/** Checks the indicators in turn; the first that says hold is the answer. */
export interface HealthCheck {
  check(db: Queryable): Promise<Unhealthy | undefined>;
}

/** Validates `limits` (a RangeError names the bad one) and returns the check. */
export function createHealthCheck(limits: MigrationHealthLimits = {}): HealthCheck {
  const maxLockWaits = limitOf('maxLockWaits', limits.maxLockWaits, 0);
  const maxWal = limitOf('maxWalBytesPerMinute', limits.maxWalBytesPerMinute, false);
  const maxLag = limitOf('maxReplicationLagSeconds', limits.maxReplicationLagSeconds, 30);
  const vacuum = limits.holdDuringVacuum ?? true;
  const prometheus = limits.prometheus;
  if (prometheus !== undefined) {
    let url: URL;
    try {
      url = new URL(prometheus.url);
    } catch {
      throw new RangeError(`uuid-lookup: the Prometheus URL must be an http(s) URL, got ${JSON.stringify(prometheus.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RangeError(`uuid-lookup: the Prometheus URL must be an http(s) URL, got ${JSON.stringify(prometheus.url)}`);
    }
    if (prometheus.query.trim() === '') throw new RangeError('uuid-lookup: the Prometheus hold query must not be empty');
  }
  // WAL written per minute, from two readings of the WAL position.
  let lastWal: { lsn: bigint; at: number } | undefined;

  return {
    async check(db) {
      const { rows } = await db.query<{ lock_waits: number; vacuums: number; lag_s: number | null; lsn: string | null }>(
        `SELECT (SELECT pg_catalog.count(DISTINCT a.pid)::int
                 FROM pg_catalog.pg_stat_activity a
                 JOIN pg_catalog.pg_locks l ON l.pid = a.pid
                 WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_catalog.pg_backend_pid()
                   AND l.relation = 'public.jobs'::regclass
                   -- waiting for the table, or for a row of it (the waiter holds the row's tuple lock)
                   AND (NOT l.granted OR l.locktype = 'tuple')) AS lock_waits,
                (SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_stat_progress_vacuum v
                 WHERE v.relid = 'public.jobs'::regclass) AS vacuums,
                (SELECT pg_catalog.max(extract(epoch FROM r.replay_lag))::float8 FROM pg_catalog.pg_stat_replication r) AS lag_s,
                CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
                     ELSE (pg_catalog.pg_current_wal_lsn() - '0/0'::pg_lsn)::text END AS lsn`,
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      const now = performance.now();
      let walPerMinute: number | undefined;
      if (row.lsn !== null) {
        const lsn = BigInt(row.lsn.split('.')[0] ?? '0');
        if (lastWal !== undefined && now > lastWal.at) walPerMinute = (Number(lsn - lastWal.lsn) / (now - lastWal.at)) * 60_000;
        // The rate is measured from one check to the next: a hold re-checks and sees the quiet.
        lastWal = { lsn, at: now };
      }
      if (maxLockWaits !== false && row.lock_waits > maxLockWaits) {
        return { reason: 'lock_waits', detail: `${row.lock_waits} session(s) waiting for a lock on jobs (limit ${maxLockWaits})` };
      }
      if (vacuum && row.vacuums > 0) return { reason: 'vacuum', detail: 'VACUUM running on jobs' };
      if (maxLag !== false && row.lag_s !== null && row.lag_s > maxLag) {
        return { reason: 'replication_lag', detail: `a replica's replay lag is ${row.lag_s.toFixed(1)} s (limit ${maxLag} s)` };
      }
      if (maxWal !== false && walPerMinute !== undefined && walPerMinute > maxWal) {
        return { reason: 'wal_rate', detail: `WAL at ${formatBytes(walPerMinute)}/min (limit ${formatBytes(maxWal)}/min)` };
      }
      if (prometheus !== undefined) return firingInPrometheus(prometheus);
      return undefined;
    },
  };
}

/** Holds while the query returns series; an unreachable Prometheus holds too (no health known is not health). */
async function firingInPrometheus(prometheus: NonNullable<MigrationHealthLimits['prometheus']>): Promise<Unhealthy | undefined> {
  const url = new URL('api/v1/query', prometheus.url.endsWith('/') ? prometheus.url : `${prometheus.url}/`);
  url.searchParams.set('query', prometheus.query);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(prometheus.timeoutMillis ?? 5_000) });
    const body = (await response.json()) as { status?: string; error?: string; data?: { result?: { metric?: Record<string, string> }[] } };
    if (!response.ok || body.status !== 'success') {
      return { reason: 'prometheus', detail: `Prometheus refused the hold query (HTTP ${response.status}): ${body.error ?? 'no answer'}` };
    }
    const result = body.data?.result ?? [];
    if (result.length === 0) return undefined;
    const names = [...new Set(result.map((r) => r.metric?.alertname ?? r.metric?.__name__ ?? 'series'))].slice(0, 5);
    return { reason: 'prometheus', detail: `${result.length} series from the hold query: ${names.join(', ')}` };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message})` : '';
    return { reason: 'prometheus', detail: `Prometheus at ${prometheus.url} did not answer: ${error instanceof Error ? error.message : String(error)}${cause}` };
  }
}

function limitOf(name: string, value: number | false | undefined, fallback: number | false): number | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`uuid-lookup: ${name} must be a number of at least 0, or false (off), got ${String(value)}`);
  }
  return value;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
