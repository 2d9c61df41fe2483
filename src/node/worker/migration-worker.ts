import { WORKER_METRIC_NAMES } from '../../contract/migration.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/database.ts';
import { getUuidMigrationStats } from '../migration/migration-stats.ts';
import type { MigrationPacing, UuidMigrationRunResult } from '../migration/run-job-uuid-migration.ts';
import { describeStarter } from '../migration/migration-runs.ts';
import { runJobUuidMigration } from '../migration/run-job-uuid-migration.ts';

/** Options of {@link createMigrationWorker}. */
export interface MigrationWorkerOptions {
  db: Database;
  /** Time between runs for new jobs. Default 5 minutes. */
  intervalMillis?: number;
  /** Time between retries of failed jobs (and skipped ones whose service now exists). Default 1 hour. */
  retryIntervalMillis?: number;
  batchSize?: number;
  concurrency?: number;
  /** Holds for the database's health and a delay between batches (default: the runner's). */
  pacing?: MigrationPacing;
  /** Serve /metrics (prom-client) on this port; 0 picks a free one. Off when absent. */
  metricsPort?: number;
  /** The address /metrics listens on. Default 127.0.0.1; 0.0.0.0 in a container. */
  metricsHost?: string;
  /** POSTed a JSON summary after every run that did something, or failed. */
  notifyUrl?: string;
  /** Progress lines (one JSON object each). Default: stdout. */
  log?: (line: Record<string, unknown>) => void;
}

/** A scheduled migration: runs for new jobs, retries, its own metrics. */
export interface MigrationWorker {
  readonly registry: Registry;
  /** The metrics endpoint's address once started, e.g. http://127.0.0.1:9465/metrics. */
  readonly metricsUrl: string | undefined;
  start(): Promise<void>;
  /** Runs one migration pass now (new jobs, or retries). */
  runOnce(kind: 'new' | 'retry'): Promise<UuidMigrationRunResult>;
  /** Stops between batches and closes the endpoint. */
  stop(): Promise<void>;
}

/**
 * Phase 6 "Automated Migration": a scheduled background job with auto-retry and
 * progress notifications, exposing its counters (and the process's) for Prometheus.
 *
 * @example
 * ```ts
 * const worker = createMigrationWorker({ db, metricsPort: 9465 });
 * await worker.start();
 * ```
 */
export function createMigrationWorker(options: MigrationWorkerOptions): MigrationWorker {
  const intervalMillis = options.intervalMillis ?? 5 * 60_000;
  const retryIntervalMillis = options.retryIntervalMillis ?? 60 * 60_000;
  for (const [name, value] of [['intervalMillis', intervalMillis], ['retryIntervalMillis', retryIntervalMillis]] as const) {
    if (!Number.isFinite(value) || value < 100) throw new RangeError(`uuid-lookup: ${name} must be at least 100, got ${value}`);
  }
  const log = options.log ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
  const { registry, runs, jobs, batchSeconds, lastSuccess } = createWorkerMetrics();
  // Jobs without a UUID and the runs' holds are the Postgres exporter's (uuid_migration_*,
  // uuid_migration_runs_*): they count every runner, not only this one.

  const stopping = new AbortController();
  let server: http.Server | undefined;
  let metricsUrl: string | undefined;
  const timers = new Map<'new' | 'retry', ReturnType<typeof setTimeout>>();
  let running: Promise<unknown> = Promise.resolve();

  const notify = async (summary: Record<string, unknown>): Promise<void> => {
    if (options.notifyUrl === undefined) return;
    try {
      await fetch(options.notifyUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(summary), signal: AbortSignal.timeout(5000) });
    } catch (error) {
      log({ event: 'notify_failed', error: error instanceof Error ? error.message : String(error) });
    }
  };

  const runOnce = async (kind: 'new' | 'retry'): Promise<UuidMigrationRunResult> => {
    try {
      const result = await runJobUuidMigration(options.db, {
        mode: kind,
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        signal: stopping.signal,
        startedBy: describeStarter(`worker (${kind})`),
        ...(options.pacing === undefined ? {} : { pacing: options.pacing }),
        onHold: (hold) => {
          log({ event: hold.ended ? 'resumed' : 'held', kind, reason: hold.reason, detail: hold.detail, ...(hold.ended ? { held_ms: Math.round(hold.heldMillis) } : {}) });
        },
        onBatch: (batch) => {
          batchSeconds.observe(batch.durationMs / 1000);
          jobs.inc({ status: 'success' }, batch.succeeded);
          jobs.inc({ status: 'skipped' }, batch.skipped);
          jobs.inc({ status: 'failed' }, batch.failed);
          log({
            event: 'batch',
            kind,
            processed: batch.processed,
            succeeded: batch.succeeded,
            skipped: batch.skipped,
            failed: batch.failed,
            ms: Math.round(batch.durationMs),
            batch_size: batch.batchSize,
            ...(batch.nextBatchSize === batch.batchSize ? {} : { next_batch_size: batch.nextBatchSize }),
          });
        },
      });
      runs.inc({ kind, result: 'ok' });
      lastSuccess.setToCurrentTime();
      const stats = await getUuidMigrationStats(options.db);
      const summary = {
        event: 'run',
        kind,
        run_id: result.runId,
        processed: result.processed,
        succeeded: result.succeeded,
        skipped: result.skipped,
        failed: result.failed,
        ...(result.cancelled ? { cancelled: true } : {}),
        completion_percentage: stats.completion_percentage,
      };
      log(summary);
      if (result.processed > 0) await notify(summary);
      return result;
    } catch (error) {
      runs.inc({ kind, result: 'error' });
      const summary = { event: 'run_failed', kind, error: error instanceof Error ? error.message : String(error) };
      log(summary);
      await notify(summary);
      throw error;
    }
  };

  // Runs never overlap: each waits for the one before.
  const schedule = (kind: 'new' | 'retry', every: number): void => {
    const tick = (): void => {
      if (stopping.signal.aborted) return;
      running = running.then(() => runOnce(kind)).catch(() => {});
      void running.then(() => {
        if (!stopping.signal.aborted) timers.set(kind, setTimeout(tick, every));
      });
    };
    tick();
  };

  return {
    registry,
    get metricsUrl() {
      return metricsUrl;
    },
    async start(): Promise<void> {
      if (options.metricsPort !== undefined) {
        const served = await serveMetrics(registry, options.metricsPort, options.metricsHost ?? '127.0.0.1');
        server = served.server;
        metricsUrl = served.url;
      }
      schedule('new', intervalMillis);
      schedule('retry', retryIntervalMillis);
    },
    runOnce,
    async stop(): Promise<void> {
      stopping.abort();
      for (const timer of timers.values()) clearTimeout(timer);
      await running;
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

/** The worker's own series, in a registry of its own with the process's default metrics. */
function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runs = new Counter({
    name: WORKER_METRIC_NAMES.runs,
    help: 'Migration runs of the worker, by kind (new jobs or retries) and result.',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  const jobs = new Counter({
    name: WORKER_METRIC_NAMES.jobs,
    help: 'Jobs processed by the worker, by outcome.',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: WORKER_METRIC_NAMES.batchDuration,
    help: 'Time of one migration batch (one transaction).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: WORKER_METRIC_NAMES.lastSuccess,
    help: 'When a run last finished without error (Unix time).',
    registers: [registry],
  });
  return { registry, runs, jobs, batchSeconds, lastSuccess };
}

/** Serves `registry` on http://host:port/metrics; a port in use is one clear error. */
async function serveMetrics(registry: Registry, port: number, host: string): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `uuid-lookup: the metrics port ${host}:${port} is in use: pick another with --metrics-port`
            : `uuid-lookup: cannot serve metrics on ${host}:${port}: ${error.message}`,
        ),
      );
    });
    server.listen(port, host, resolve);
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return { server, url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}/metrics` };
}
