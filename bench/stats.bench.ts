// npm run bench:stats: what the Postgres exporter pays on every scrape, at
// SIZES jobs (default 1,000,000 and 10,000,000) with as many outcomes in the
// migration log: get_uuid_migration_stats() (median of 7) and a scrape of the
// exporter (Debian's build) running the shipped query. The log is filled
// set-based, as a finished migration leaves it (90 % success, 10 % skipped);
// the counters are kept by the same triggers as always. Prints JSON.
import { getUuidMigrationStats } from '../src/node/migration/migration-stats.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase } from '../test/support/test-databases.ts';
import { exporterScrapeMs } from './support/exporter.ts';
import { medianMillis } from './support/lookup-events.ts';

dropServerDatabasesOnInterrupt();

const sizes = (process.env.SIZES ?? '1000000,10000000').split(',').map(Number);
const results = [];
for (const jobs of sizes) {
  const t = await serverTestDatabase();
  try {
    const start = performance.now();
    await t.db.exec(`
      INSERT INTO micro_services (id, slug) SELECT md5('s' || g)::uuid, 'service-' || g FROM generate_series(1, 1000) g;
      INSERT INTO jobs (micro_id, micro_uuid)
      SELECT 'service-' || (1 + g % 1000), CASE WHEN g % 10 = 0 THEN NULL ELSE md5('s' || (1 + g % 1000))::uuid END
      FROM generate_series(1, ${jobs}) g;
      INSERT INTO uuid_migration_log (job_id, run_id, micro_slug, micro_uuid, migration_status)
      SELECT id, '00000000-0000-4000-8000-000000000001', micro_id, micro_uuid,
             CASE WHEN micro_uuid IS NULL THEN 'skipped' ELSE 'success' END
      FROM jobs;
    `);
    for (const table of ['jobs', 'uuid_migration_log']) await t.db.query(`VACUUM ANALYZE ${table}`);
    const loadSeconds = Number(((performance.now() - start) / 1000).toFixed(1));
    const stats = await getUuidMigrationStats(t.db);
    if (stats.total_jobs !== jobs || stats.successful_migrations + stats.skipped_migrations !== jobs) {
      throw new Error(`stats disagree with the tables: ${JSON.stringify(stats)}`);
    }
    const statsMs = await medianMillis(t.db, 'SELECT * FROM get_uuid_migration_stats()', 7);
    const fullCountMs = await medianMillis(
      t.db,
      "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM jobs WHERE micro_uuid IS NULL), (SELECT count(*) FILTER (WHERE migration_status = 'success') FROM uuid_migration_log)",
      3,
    );
    const result = { jobs, load_seconds: loadSeconds, stats_call_median_ms: statsMs, full_count_median_ms: fullCountMs, exporter_scrape: await exporterScrapeMs(t.db, t.url ?? '') };
    results.push(result);
    process.stderr.write(`${JSON.stringify(result)}\n`);
  } finally {
    await t.dispose();
  }
}
process.stdout.write(`${JSON.stringify({ benchmark: 'stats', results, targets: { stats_call_ms_max: 10, exporter_scrape_ms_max: 50 } }, null, 2)}\n`);
