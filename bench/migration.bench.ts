// npm run bench:migration: the back-fill at scale on the real server, against
// two limits measured in the same run at equal parallelism: one set-based UPDATE
// of the same rows (no log), and the true limit of a back-fill that must log every
// job: that UPDATE plus one set-based INSERT of every job's outcome into a table of
// the log's shape, in one statement. One connection against one statement; two
// against the statement split over two connections (two halves of the id space).
// Then the cost of what is read often: get_uuid_migration_stats() and the
// Postgres exporter's scrape of it.
// Each result also gives the mean batch time per tenth of the run (first against
// last: does a batch slow down as the log fills?) and the server's memory and
// checkpoint settings, which decide whether the tables stay in cache.
// Prints JSON. Options: SIZES=1000000,10000000 CONNECTIONS=1,2 BATCH_SIZE=10000 TEST_PG_URL=postgres://...
import pg from 'pg';
import type { Database } from '../src/node/db/database.ts';
import { getUuidMigrationStats } from '../src/node/migration/migration-stats.ts';
import { runJobUuidMigration } from '../src/node/migration/run-job-uuid-migration.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase, serverUrl } from '../test/support/test-databases.ts';
import { exporterScrapeMs } from './support/exporter.ts';
import { medianMillis } from './support/lookup-events.ts';

dropServerDatabasesOnInterrupt();

const sizes = (process.env.SIZES ?? '1000000').split(',').map(Number);
const connectionCounts = (process.env.CONNECTIONS ?? '1,2').split(',').map(Number);
const batchSize = Number(process.env.BATCH_SIZE ?? 10_000);
const services = 1000;
const ms = (start: number): number => Math.round(performance.now() - start);

async function seed(db: Database, jobs: number): Promise<void> {
  await db.exec(`
    INSERT INTO micro_services (slug, name) SELECT 'service-' || g, 'Service ' || g FROM generate_series(1, ${services}) g;
    -- 90 % of jobs name a known service, 10 % a slug that matches none.
    INSERT INTO jobs (micro_id, title, created_at)
    SELECT CASE WHEN g % 10 = 0 THEN 'legacy-' || (g % 97) ELSE 'service-' || (1 + (g::bigint * 7919) % ${services}) END,
           'Job ' || g, now() - make_interval(secs => g)
    FROM generate_series(1, ${jobs}) g;
    -- The limit: the same rows, the same indexes and foreign key, no log.
    CREATE TABLE jobs_baseline (LIKE jobs INCLUDING ALL);
    ALTER TABLE jobs_baseline ADD FOREIGN KEY (micro_uuid) REFERENCES micro_services (id);
    INSERT INTO jobs_baseline SELECT * FROM jobs;
    -- The true limit: the same again, and a log of the log's shape (its indexes, checks, defaults).
    CREATE TABLE jobs_logged_baseline (LIKE jobs INCLUDING ALL);
    ALTER TABLE jobs_logged_baseline ADD FOREIGN KEY (micro_uuid) REFERENCES micro_services (id);
    INSERT INTO jobs_logged_baseline SELECT * FROM jobs;
    CREATE TABLE log_baseline (LIKE uuid_migration_log INCLUDING ALL);
  `);
  for (const sql of ['VACUUM ANALYZE jobs', 'VACUUM ANALYZE jobs_baseline', 'VACUUM ANALYZE jobs_logged_baseline', 'VACUUM ANALYZE micro_services', 'CHECKPOINT']) {
    await db.query(sql);
  }
}

/** The id range of `part` of `parts` (by the first hex digit of the id, as the migration's shards cut it), as SQL on `column`. */
function idRange(column: string, part: number, parts: number): string {
  const low = (16 / parts) * part;
  const high = (16 / parts) * (part + 1);
  return `${column} >= ('${low.toString(16)}' || '0000000-0000-0000-0000-000000000000')::uuid` +
    (high < 16 ? ` AND ${column} < ('${high.toString(16)}' || '0000000-0000-0000-0000-000000000000')::uuid` : '');
}

/** One set-based statement per part, on as many connections at once: its time. */
async function setBased(url: string, parts: number, statement: (range: string) => string): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: parts }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  const start = performance.now();
  try {
    await Promise.all(clients.map((client, part) => client.query(statement(idRange('j.id', part, parts)))));
    return ms(start);
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

/** The bare UPDATE of the baseline (no log). */
const bareUpdate = (url: string, parts: number): Promise<number> =>
  setBased(
    url,
    parts,
    (range) => `UPDATE jobs_baseline j SET micro_uuid = s.id
                FROM micro_services s
                WHERE s.slug = j.micro_id AND j.micro_uuid IS NULL AND ${range}`,
  );

/** The UPDATE plus the INSERT of every job's outcome (success, or skipped: no service) into the log-shaped table. */
const loggedUpdate = (url: string, parts: number): Promise<number> =>
  setBased(
    url,
    parts,
    (range) => `WITH candidates AS (
                  SELECT j.id, j.micro_id, s.id AS service
                  FROM jobs_logged_baseline j LEFT JOIN micro_services s ON s.slug = j.micro_id
                  WHERE j.micro_uuid IS NULL AND ${range}),
                updated AS (
                  UPDATE jobs_logged_baseline j SET micro_uuid = c.service
                  FROM candidates c WHERE j.id = c.id AND c.service IS NOT NULL)
                INSERT INTO log_baseline (job_id, run_id, micro_slug, micro_uuid, migration_status, migrated_at)
                SELECT c.id, '00000000-0000-4000-8000-000000000000', c.micro_id, c.service,
                       CASE WHEN c.service IS NULL THEN 'skipped' ELSE 'success' END,
                       CASE WHEN c.service IS NULL THEN NULL ELSE now() END
                FROM candidates c`,
  );

interface SizeResult {
  jobs: number;
  connections: number;
  bare_update_ms: number;
  logged_update_ms: number;
  migration_ms: number;
  ms_per_million_jobs: number;
  ratio_to_bare_update: number;
  /** Against the true limit of a back-fill that logs every job (goal: at most 1.2). */
  ratio_to_logged_update: number;
  slowest_batch_ms: number;
  batches: number;
  /** Mean batch time (ms) in each tenth of the run, in the order the batches finished. */
  batch_ms_by_tenth: number[];
  stats_call_median_ms?: number;
  exporter_scrape?: unknown;
}

/** Means of ten consecutive slices of `values`. */
function byTenth(values: number[]): number[] {
  return Array.from({ length: Math.min(10, values.length) }, (_, i) => {
    const slice = values.slice(Math.floor((i * values.length) / 10), Math.floor(((i + 1) * values.length) / 10));
    return Math.round(slice.reduce((a, b) => a + b, 0) / Math.max(1, slice.length));
  });
}

/** The settings that decide whether the tables stay in the server's memory. */
async function serverSettings(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings
       WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'effective_cache_size', 'work_mem', 'synchronous_commit', 'server_version')
       ORDER BY name`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await client.end();
  }
}

const results: SizeResult[] = [];
const settings = await serverSettings(serverUrl);
for (const jobs of sizes) {
  for (const connections of connectionCounts) {
    const t = await serverTestDatabase();
    try {
      await seed(t.db, jobs);
      const bareMs = await bareUpdate(t.url ?? '', connections);
      const loggedMs = await loggedUpdate(t.url ?? '', connections);
      await t.db.exec('DROP TABLE jobs_baseline; DROP TABLE jobs_logged_baseline; DROP TABLE log_baseline;');
      await t.db.query('CHECKPOINT');
      const batchMs: number[] = [];
      const start = performance.now();
      // Pacing off: the cost of the back-fill itself, against its limits.
      const run = await runJobUuidMigration(t.db, {
        batchSize,
        concurrency: connections,
        pacing: { health: false },
        onBatch: (b) => void batchMs.push(b.durationMs),
      });
      const migrationMs = ms(start);
      const result: SizeResult = {
        jobs,
        connections,
        bare_update_ms: bareMs,
        logged_update_ms: loggedMs,
        migration_ms: migrationMs,
        ms_per_million_jobs: Math.round((migrationMs * 1_000_000) / jobs),
        ratio_to_bare_update: Number((migrationMs / bareMs).toFixed(2)),
        ratio_to_logged_update: Number((migrationMs / loggedMs).toFixed(2)),
        slowest_batch_ms: Math.round(run.slowestBatchMs),
        batches: run.batches,
        batch_ms_by_tenth: byTenth(batchMs),
      };
      if (connections === 1) {
        result.stats_call_median_ms = Number(
          (await medianMillis(t.db, 'SELECT * FROM get_uuid_migration_stats()', 7)).toFixed(1),
        );
        const stats = await getUuidMigrationStats(t.db);
        if (stats.total_jobs !== jobs || stats.jobs_without_uuid !== run.skipped) throw new Error(`stats disagree: ${JSON.stringify(stats)}`);
        result.exporter_scrape = await exporterScrapeMs(t.db, t.url ?? '');
      }
      results.push(result);
      process.stderr.write(`${JSON.stringify(result)}\n`);
    } finally {
      await t.dispose();
    }
  }
}

const per = (jobs: number, connections: number): number | undefined =>
  results.find((r) => r.jobs === jobs && r.connections === connections)?.ms_per_million_jobs;
const smallest = sizes[0] ?? 0;
const largest = sizes[sizes.length - 1] ?? 0;
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'migration',
      batch_size: batchSize,
      server_settings: settings,
      results,
      growth_per_million: connectionCounts.map((connections) => ({
        connections,
        from_jobs: smallest,
        to_jobs: largest,
        ratio: Number(((per(largest, connections) ?? 0) / (per(smallest, connections) ?? 1)).toFixed(2)),
      })),
      targets: { ratio_to_logged_update_max: 1.2, growth_per_million_max: 1.2, slowest_batch_ms_max: 1000, stats_call_ms_max: 10, exporter_scrape_ms_max: 50 },
    },
    null,
    2,
  )}\n`,
);
