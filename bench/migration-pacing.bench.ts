// npm run bench:pacing: what the back-fill costs the live app. App-shaped writes
// (new jobs, edits of existing ones, at a steady rate on their own connections)
// run alone, then beside the back-fill flat out, then beside the back-fill paced
// (its health holds on, batches aimed at --target-batch-ms). Each phase reports
// the app's write latency (p50, p99, max) and the back-fill's time; the goal is
// the app's p99 with the paced back-fill at most 1.5x its p99 alone.
// Prints JSON. Options: JOBS=300000 APP_RATE=300 APP_CONNECTIONS=4 BATCH_SIZE=5000
// TARGET_BATCH_MS=50 ALONE_SECONDS=15 TEST_PG_URL=postgres://...
import type { Database } from '../src/node/db/database.ts';
import type { MigrationPacing } from '../src/node/migration/run-job-uuid-migration.ts';
import { runJobUuidMigration } from '../src/node/migration/run-job-uuid-migration.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase } from '../test/support/test-databases.ts';

dropServerDatabasesOnInterrupt();

const jobs = Number(process.env.JOBS ?? 300_000);
const appRate = Number(process.env.APP_RATE ?? 300);
const appConnections = Number(process.env.APP_CONNECTIONS ?? 4);
const batchSize = Number(process.env.BATCH_SIZE ?? 5_000);
const targetBatchMs = Number(process.env.TARGET_BATCH_MS ?? 50);
const aloneSeconds = Number(process.env.ALONE_SECONDS ?? 15);

/** The app: writes at `appRate` a second over its own connections until `until` resolves; the latency of each. */
async function appLoad(app: Database, ids: string[], until: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
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
      const t = performance.now();
      // Two in three edit an existing job (the rows the back-fill updates), one in three is a new job.
      if ((n + w) % 3 === 0) await app.query("INSERT INTO jobs (micro_id, title) VALUES ('service-' || (1 + floor(random() * 500))::int, 'new')");
      else await app.query("UPDATE jobs SET title = 'edited' WHERE id = $1::uuid", [ids[Math.floor(Math.random() * ids.length)]]);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: appConnections }, (_, w) => worker(w)));
  return latencies;
}

function summary(latencies: number[]): { writes: number; p50_ms: number; p99_ms: number; max_ms: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));
  return { writes: sorted.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)) };
}

const t = await serverTestDatabase();
try {
  await t.db.exec(`
    INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 500) g;
    INSERT INTO jobs (micro_id, title) SELECT 'service-' || (1 + g % 550), 'Job ' || g FROM generate_series(1, ${jobs}) g;`);
  await t.db.query('VACUUM ANALYZE jobs');
  const ids = (await t.db.query<{ id: string }>('SELECT id FROM jobs')).rows.map((r) => r.id);
  const app = t.connect?.() ?? t.db;
  const phases: Record<string, unknown>[] = [];

  const alone = await appLoad(app, ids, new Promise((resolve) => setTimeout(resolve, aloneSeconds * 1000)));
  phases.push({ phase: 'app alone', ...summary(alone) });
  const aloneP99 = summary(alone).p99_ms;

  const beside = async (name: string, pacing: MigrationPacing): Promise<void> => {
    await t.db.exec('UPDATE jobs SET micro_uuid = NULL; TRUNCATE uuid_migration_log, uuid_migration_log_history; SELECT rebuild_uuid_migration_counters();');
    await t.db.query('VACUUM ANALYZE jobs');
    const started = performance.now();
    const run = runJobUuidMigration(t.db, { batchSize, pacing });
    const latencies = await appLoad(app, ids, run);
    const result = await run;
    const s = summary(latencies);
    phases.push({
      phase: name,
      ...s,
      p99_ratio_to_alone: Number((s.p99_ms / aloneP99).toFixed(2)),
      backfill_seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      backfill_jobs: result.processed,
      held_seconds: Object.fromEntries(Object.entries(result.heldMillis).map(([k, v]) => [k, Number((v / 1000).toFixed(1))])),
    });
  };
  await beside('beside the back-fill, flat out', { health: false });
  await beside(`beside the back-fill, paced (health holds, ${targetBatchMs} ms batches)`, { targetBatchMillis: targetBatchMs, holdCheckMillis: 200 });

  process.stdout.write(
    `${JSON.stringify({ benchmark: 'migration-pacing', jobs, app_rate_per_second: appRate, app_connections: appConnections, batch_size: batchSize, phases, targets: { paced_p99_ratio_max: 1.5 } }, null, 2)}\n`,
  );
} finally {
  await t.dispose();
}
