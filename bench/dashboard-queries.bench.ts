// npm run bench:dashboard: every SQL panel of every provisioned dashboard, its
// time macros expanded as Grafana does for the last 7 days, and the spec's
// lookup-performance query verbatim on the raw events (the limit the rollup
// removes), over SIZES analytics_events rows (default 1,000,000 and 5,000,000)
// spanning 30 days, on the real server. Prints JSON: each query's
// median time at each size, its growth from the smallest to the largest size,
// and the slow-lookups query with and without its index. With JOBS (e.g.
// 1000000,10000000): the migration dashboard's progress and missing-services panels
// at that many jobs (10 % of them with slugs no service has, migrated), against the
// spec's queries verbatim, in the same run.
import { readdirSync, readFileSync } from 'node:fs';
import { dashboardForms, specQueries } from '../src/contract/spec-queries.ts';
import { runJobUuidMigration } from '../src/node/migration/run-job-uuid-migration.ts';
import { expandSqlMacros } from '../test/support/grafana-macros.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase } from '../test/support/test-databases.ts';
import { loadLookupEvents, medianMillis } from './support/lookup-events.ts';

dropServerDatabasesOnInterrupt();

const sizes = (process.env.SIZES ?? '1000000,5000000').split(',').map(Number);
const runs = 7;

/** The SQL panels of the generated dashboards, by dashboard and title. */
function sqlPanels(): { name: string; sql: string }[] {
  const folder = new URL('../grafana/dashboards/', import.meta.url);
  return readdirSync(folder)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as {
        uid: string;
        panels: { title: string; targets?: { rawSql?: string }[] }[];
      };
      return dashboard.panels.flatMap((panel) =>
        (panel.targets ?? [])
          .filter((t) => t.rawSql !== undefined)
          .map((t) => ({ name: `${dashboard.uid}: ${panel.title}`, sql: expandSqlMacros(t.rawSql ?? '', { from: new Date(Date.now() - 7 * 86_400_000), to: new Date() }) })),
      );
    });
}

const panels = sqlPanels();
const figures: Record<string, Record<number, number>> = {};
const record = (name: string, size: number, ms: number): void => {
  figures[name] = { ...(figures[name] ?? {}), [size]: ms };
};
const extra: Record<number, unknown> = {};

for (const events of sizes) {
  const t = await serverTestDatabase();
  try {
    const loadStart = performance.now();
    await loadLookupEvents(t.db, { events, sessions: Math.max(1, Math.floor(events / 8)) });
    await t.db.query('VACUUM ANALYZE');
    const loadSeconds = Number(((performance.now() - loadStart) / 1000).toFixed(1));
    for (const panel of panels) record(panel.name, events, await medianMillis(t.db, panel.sql, runs));
    record("spec's lookup performance, verbatim on the raw events", events, await medianMillis(t.db, specQueries.lookupPerformance.sql, runs));
    const slowWithIndex = await medianMillis(t.db, specQueries.slowLookups.sql, runs);
    await t.db.exec('DROP INDEX idx_analytics_events_uuid_lookup_time');
    const slowWithoutIndex = await medianMillis(t.db, specQueries.slowLookups.sql, runs);
    extra[events] = { load_seconds: loadSeconds, slow_lookups_ms: { with_index: slowWithIndex, without_index: slowWithoutIndex } };
    process.stderr.write(`${events} events loaded in ${loadSeconds} s, measured\n`);
  } finally {
    await t.dispose();
  }
}

const jobSizes = (process.env.JOBS ?? '').split(',').filter(Boolean).map(Number);
const migrationPanels: Record<number, unknown> = {};
for (const jobs of jobSizes) {
  const t = await serverTestDatabase();
  try {
    const loadStart = performance.now();
    // 200 services; one job in ten names one of 100 slugs no service has.
    await t.db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(1, 200) g;
      INSERT INTO jobs (micro_id)
      SELECT CASE WHEN g % 10 = 0 THEN 'missing-' || (g % 1000 / 10) ELSE 'service-' || (g % 200 + 1) END FROM generate_series(1, ${jobs}) g;`);
    await runJobUuidMigration(t.db, { batchSize: 25_000, concurrency: 2, pacing: { health: false } });
    await t.db.query('VACUUM ANALYZE');
    const loadSeconds = Number(((performance.now() - loadStart) / 1000).toFixed(1));
    const panel = async (name: 'migrationProgress' | 'missingServices') => ({
      spec_verbatim_ms: await medianMillis(t.db, specQueries[name].sql, runs),
      dashboard_ms: await medianMillis(t.db, dashboardForms[name], runs),
    });
    const progress = await panel('migrationProgress');
    const missing = await panel('missingServices');
    // The spec's query as it was before the index the dashboard's form probes.
    await t.db.exec('DROP INDEX idx_jobs_without_micro_uuid_slug');
    const missingWithoutIndex = await medianMillis(t.db, specQueries.missingServices.sql, runs);
    migrationPanels[jobs] = {
      load_and_migrate_seconds: loadSeconds,
      migration_progress: progress,
      missing_services: { ...missing, spec_verbatim_without_the_index_ms: missingWithoutIndex },
    };
    process.stderr.write(`${jobs} jobs loaded and migrated in ${loadSeconds} s, measured\n`);
  } finally {
    await t.dispose();
  }
}

const smallest = sizes[0] ?? 0;
const largest = sizes[sizes.length - 1] ?? 0;
const queries = Object.entries(figures).map(([name, bySize]) => ({
  query: name,
  median_ms: bySize,
  growth: Number(((bySize[largest] ?? 0) / Math.max(bySize[smallest] ?? 0, 0.1)).toFixed(2)),
}));
const panelNames = new Set(panels.map((p) => p.name));
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'dashboard-queries',
      sizes,
      span_days: 30,
      panel_time_range_days: 7,
      runs_per_query: runs,
      queries,
      slowest_panel_ms_at_largest: Math.max(...queries.filter((q) => panelNames.has(q.query)).map((q) => q.median_ms[largest] ?? 0)),
      largest_panel_growth: Math.max(...queries.filter((q) => panelNames.has(q.query)).map((q) => q.growth)),
      by_size: extra,
      ...(jobSizes.length === 0 ? {} : { migration_panels_by_jobs: migrationPanels }),
      targets: { panel_ms_max: 100, panel_growth_max: 1.5 },
    },
    null,
    2,
  )}\n`,
);
