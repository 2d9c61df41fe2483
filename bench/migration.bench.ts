// npm run bench:migration: the back-fill at scale on the real server, against
// the limit (a bare set-based UPDATE of the same rows, measured in the same run).
// Prints JSON. Options: JOBS=1000000 BATCH_SIZE=25000 CONCURRENCY=2 TEST_PG_URL=postgres://...
// CONCURRENCY batches run at once in different shards of the id space, one
// connection each (the bare UPDATE is one statement on one core).
import { getUuidMigrationStats } from '../src/node/migration/migration-stats.ts';
import { runJobUuidMigration } from '../src/node/migration/run-job-uuid-migration.ts';
import { serverTestDatabase } from '../test/support/test-databases.ts';

const jobs = Number(process.env.JOBS ?? 1_000_000);
const batchSize = Number(process.env.BATCH_SIZE ?? 25_000);
const concurrency = Number(process.env.CONCURRENCY ?? 2);
const services = 1000;

const t = await serverTestDatabase();
const { db } = t;
const ms = (start: number): number => Math.round(performance.now() - start);
try {
  await db.exec(`
    INSERT INTO micro_services (slug, name) SELECT 'service-' || g, 'Service ' || g FROM generate_series(1, ${services}) g;
    -- 90 % of jobs name a known service, 10 % a slug that matches none.
    INSERT INTO jobs (micro_id, title, created_at)
    SELECT CASE WHEN g % 10 = 0 THEN 'legacy-' || (g % 97) ELSE 'service-' || (1 + (g::bigint * 7919) % ${services}) END,
           'Job ' || g, now() - make_interval(secs => g)
    FROM generate_series(1, ${jobs}) g;
    -- The baseline: the same rows, the same indexes and foreign key.
    CREATE TABLE jobs_baseline (LIKE jobs INCLUDING ALL);
    ALTER TABLE jobs_baseline ADD FOREIGN KEY (micro_uuid) REFERENCES micro_services (id);
    INSERT INTO jobs_baseline SELECT * FROM jobs;
  `);
  for (const sql of ['VACUUM ANALYZE jobs', 'VACUUM ANALYZE jobs_baseline', 'VACUUM ANALYZE micro_services', 'CHECKPOINT']) {
    await db.query(sql);
  }

  let start = performance.now();
  const bare = await db.query(`
    UPDATE jobs_baseline j SET micro_uuid = s.id
    FROM micro_services s WHERE s.slug = j.micro_id AND j.micro_uuid IS NULL`);
  const bareUpdateMs = ms(start);
  await db.query('DROP TABLE jobs_baseline');
  await db.query('CHECKPOINT');

  start = performance.now();
  const run = await runJobUuidMigration(db, { batchSize, concurrency });
  const migrationMs = ms(start);

  const statsTimes: number[] = [];
  let stats = await getUuidMigrationStats(db);
  for (let i = 0; i < 5; i += 1) {
    start = performance.now();
    stats = await getUuidMigrationStats(db);
    statsTimes.push(performance.now() - start);
  }
  statsTimes.sort((a, b) => a - b);

  const result = {
    benchmark: 'migration',
    jobs,
    batch_size: batchSize,
    concurrency,
    bare_update: { ms: bareUpdateMs, rows_updated: bare.rowCount },
    migration: {
      ms: migrationMs,
      batches: run.batches,
      succeeded: run.succeeded,
      skipped: run.skipped,
      failed: run.failed,
      slowest_batch_ms: Math.round(run.slowestBatchMs),
      rows_per_second: Math.round((run.processed / migrationMs) * 1000),
    },
    ratio_to_bare_update: Number((migrationMs / bareUpdateMs).toFixed(2)),
    stats_call_median_ms: Number((statsTimes[2] ?? 0).toFixed(1)),
    stats,
    targets: { ratio_max: 2.0, slowest_batch_ms_max: 1000 },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await t.dispose();
}
