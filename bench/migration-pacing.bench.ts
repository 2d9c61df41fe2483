// npm run bench:pacing: what the back-fill costs the live app. App-shaped writes
// (new jobs, edits of existing ones, at a steady rate on their own connections)
// run throughout; the back-fill runs beside them, paused and resumed in
// alternating windows (`migrate pause` / `resume`, as an operator would), so the
// app's latency without the back-fill is measured in the same run, on the same
// table, interleaved with the latency beside it: this machine's drift (the
// baseline's own p99 moves 4x from run to run) falls on both sides alike. The
// first WINDOW_SETTLE_MS of each window are left out (the runner obeys a pause
// within a batch and resumes within its hold check, 200 ms here).
// Each phase (flat out, then paced: health holds, batches aimed at
// TARGET_BATCH_MS, a nice ratio) reports the app's write latency (p50, p99, max)
// in the windows with and without the back-fill, their p99 ratio, and the
// back-fill's time. Goal: the ratio at most 1.5 paced.
// The gentle phase paces to about 1 % of the time in batches (50 ms batches, nice ratio
// 100): what the goal takes on a disk where the app's commits flush the back-fill's WAL
// (docs/performance.md, "What the back-fill costs the app's writes"). It stops after
// GENTLE_JOBS jobs (cancelled, as an operator would), so the phase takes minutes, not hours.
// Prints JSON. Options: JOBS=300000 APP_RATE=300 APP_CONNECTIONS=4 BATCH_SIZE=5000
// TARGET_BATCH_MS=50 NICE_RATIO=1 BATCH_DELAY_MS=0 WINDOW_MS=3000 WINDOW_SETTLE_MS=400
// GENTLE_NICE_RATIO=100 GENTLE_JOBS=20000 GENTLE_WINDOW_MS=6000
// PHASES=flat,paced,gentle APP_MODE=write|read TEST_PG_URL=postgres://...
import type { Database } from '../src/node/db/database.ts';
import { requestRun } from '../src/node/migration/migration-runs.ts';
import type { MigrationPacing } from '../src/node/migration/run-job-uuid-migration.ts';
import { runJobUuidMigration } from '../src/node/migration/run-job-uuid-migration.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase } from '../test/support/test-databases.ts';
import { nearestRank } from './support/quantiles.ts';

dropServerDatabasesOnInterrupt();

const jobs = Number(process.env.JOBS ?? 300_000);
const appRate = Number(process.env.APP_RATE ?? 300);
const appConnections = Number(process.env.APP_CONNECTIONS ?? 4);
const batchSize = Number(process.env.BATCH_SIZE ?? 5_000);
const targetBatchMs = Number(process.env.TARGET_BATCH_MS ?? 50);
const niceRatio = Number(process.env.NICE_RATIO ?? 1);
const batchDelayMs = Number(process.env.BATCH_DELAY_MS ?? 0);
const windowMs = Number(process.env.WINDOW_MS ?? 3_000);
const settleMs = Number(process.env.WINDOW_SETTLE_MS ?? 400);
const appMode = process.env.APP_MODE ?? 'write';
const gentleNiceRatio = Number(process.env.GENTLE_NICE_RATIO ?? 100);
const gentleJobs = Number(process.env.GENTLE_JOBS ?? 20_000);
const gentleWindowMs = Number(process.env.GENTLE_WINDOW_MS ?? 6_000);
const phaseNames = (process.env.PHASES ?? 'flat,paced,gentle').split(',');

type Window = 'back-fill' | 'paused' | 'settling';

/** The app: writes at `appRate` a second over its own connections until `until` resolves; each write's latency, by the window it started and ended in. */
async function appLoad(app: Database, ids: string[], window: () => Window, until: Promise<unknown>): Promise<Record<Window, number[]>> {
  const latencies: Record<Window, number[]> = { 'back-fill': [], paused: [], settling: [] };
  let stop = false;
  void until.then(() => (stop = true));
  let n = 0;
  const started = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (!stop) {
      const due = started + (n * 1000) / appRate;
      n += 1;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const at = window();
      const t = performance.now();
      // Two in three edit an existing job (the rows the back-fill updates), one in three is a new job;
      // APP_MODE=read reads a job instead: what sharing the CPU costs, without sharing the WAL.
      if (appMode === 'read') await app.query('SELECT title FROM jobs WHERE id = $1::uuid', [ids[Math.floor(Math.random() * ids.length)]]);
      else if ((n + w) % 3 === 0) await app.query("INSERT INTO jobs (micro_id, title) VALUES ('service-' || (1 + floor(random() * 500))::int, 'new')");
      else await app.query("UPDATE jobs SET title = 'edited' WHERE id = $1::uuid", [ids[Math.floor(Math.random() * ids.length)]]);
      const took = performance.now() - t;
      latencies[window() === at ? at : 'settling'].push(took);
    }
  };
  await Promise.all(Array.from({ length: appConnections }, (_, w) => worker(w)));
  return latencies;
}

function summary(latencies: number[]): { writes: number; p50_ms: number; p99_ms: number; max_ms: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => Number((nearestRank(sorted, q) ?? 0).toFixed(1));
  return { writes: sorted.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)) };
}

const t = await serverTestDatabase();
try {
  await t.db.exec(`
    INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 500) g;
    INSERT INTO jobs (micro_id, title) SELECT 'service-' || (1 + g % 550), 'Job ' || g FROM generate_series(1, ${jobs}) g;`);
  const ids = (await t.db.query<{ id: string }>('SELECT id FROM jobs')).rows.map((r) => r.id);
  const app = t.connect?.() ?? t.db;
  const control = t.connect?.() ?? t.db;
  const phases: Record<string, unknown>[] = [];

  const phase = async (name: string, pacing: MigrationPacing, o: { stopAfterJobs?: number; windowMs?: number } = {}): Promise<void> => {
    await t.db.exec('UPDATE jobs SET micro_uuid = NULL; TRUNCATE uuid_migration_log, uuid_migration_log_history; SELECT rebuild_uuid_migration_counters();');
    await t.db.query('VACUUM ANALYZE jobs');
    await t.db.query('CHECKPOINT');
    const runId = crypto.randomUUID();
    let state: 'back-fill' | 'paused' = 'back-fill';
    let switchedAt = performance.now();
    const window = (): Window => (performance.now() - switchedAt < settleMs ? 'settling' : state);
    const started = performance.now();
    let batchMillis = 0;
    let jobsDone = 0;
    const run = runJobUuidMigration(t.db, {
      batchSize,
      runId,
      pacing: { holdCheckMillis: 200, ...pacing },
      onBatch: async (batch) => {
        batchMillis += batch.durationMs;
        jobsDone += batch.processed;
        // Enough measured: cancel, as an operator would (the run stops after this batch).
        if (o.stopAfterJobs !== undefined && jobsDone >= o.stopAfterJobs) await requestRun(control, runId, 'cancel').catch(() => undefined);
      },
    });
    let done = false;
    void run.finally(() => (done = true)).catch(() => undefined);
    // Pause and resume in turns until the run ends.
    const toggling = (async () => {
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, o.windowMs ?? windowMs));
        if (done) break;
        state = state === 'back-fill' ? 'paused' : 'back-fill';
        switchedAt = performance.now();
        await requestRun(control, runId, state === 'paused' ? 'pause' : 'resume').catch(() => undefined);
      }
    })();
    const latencies = await appLoad(app, ids, window, run);
    const result = await run;
    await toggling;
    const beside = summary(latencies['back-fill']);
    const without = summary(latencies.paused);
    const elapsedMillis = performance.now() - started;
    // Between batches and holds: the time the run was not paused by the turns.
    const activeMillis = elapsedMillis - (result.heldMillis.paused ?? 0);
    phases.push({
      phase: name,
      without_back_fill: without,
      beside_back_fill: beside,
      p99_ratio: Number((beside.p99_ms / without.p99_ms).toFixed(2)),
      back_fill_seconds: Number((elapsedMillis / 1000).toFixed(1)),
      paused_seconds: Number(((result.heldMillis.paused ?? 0) / 1000).toFixed(1)),
      back_fill_jobs: result.processed,
      batches: result.batches,
      // The share of the active time spent in batches, and the pace.
      duty_cycle: Number((batchMillis / Math.max(1, activeMillis)).toFixed(4)),
      jobs_per_second: Math.round(result.processed / Math.max(0.001, activeMillis / 1000)),
      held_seconds: Object.fromEntries(
        Object.entries(result.heldMillis)
          .filter(([reason]) => reason !== 'paused')
          .map(([reason, millis]) => [reason, Number((millis / 1000).toFixed(1))]),
      ),
    });
  };
  if (phaseNames.includes('flat')) await phase('flat out (no health holds, no pauses between batches)', { health: false });
  if (phaseNames.includes('paced')) {
    await phase(`paced (health holds, ${targetBatchMs} ms batches, nice ratio ${niceRatio}, delay ${batchDelayMs} ms)`, {
      targetBatchMillis: targetBatchMs,
      niceRatio,
      batchDelayMillis: batchDelayMs,
    });
  }

  if (phaseNames.includes('gentle')) {
    await phase(
      `gentle (health holds, 50 ms batches, nice ratio ${gentleNiceRatio}; cancelled after ${gentleJobs} jobs)`,
      { targetBatchMillis: 50, niceRatio: gentleNiceRatio },
      { stopAfterJobs: gentleJobs, windowMs: gentleWindowMs },
    );
  }

  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'migration-pacing',
        jobs,
        app_rate_per_second: appRate,
        app_connections: appConnections,
        app_mode: appMode,
        batch_size: batchSize,
        window_ms: windowMs,
        phases,
        targets: { paced_p99_ratio_max: 1.5, gentle_p99_ratio_max: 1.5 },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await t.dispose();
}
