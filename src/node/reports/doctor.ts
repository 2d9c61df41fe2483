import type { Queryable } from '../db/database.ts';
import { findWrongColumns } from '../schema/apply-migrations.ts';
import { readMigrationFiles } from '../schema/migration-files.ts';

/** One diagnosis: what was checked, whether it holds, and the fix when it does not. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const TABLES = ['micro_services', 'jobs', 'analytics_events', 'uuid_migration_log', 'uuid_migration_log_history'];

/** Indexes of one table that index the same columns, expressions and predicate. */
export interface DuplicateIndexes {
  table: string;
  /** Index names, sorted; every one but the one a constraint owns can go. */
  indexes: string[];
  /** The indexes no constraint owns: what DROP INDEX may remove. */
  droppable: string[];
}

/**
 * Duplicate indexes in `public` (Supabase's linter, `duplicate_index`): for
 * example the spec's `CREATE INDEX IF NOT EXISTS idx_micro_services_slug` run
 * verbatim beside the UNIQUE constraint's index on the same column.
 */
export async function findDuplicateIndexes(db: Queryable): Promise<DuplicateIndexes[]> {
  const { rows } = await db.query<{ table: string; indexes: string[]; droppable: string[] }>(
    `SELECT i.indrelid::regclass::text AS table,
            array_agg(c.relname::text ORDER BY c.relname) AS indexes,
            coalesce(array_agg(c.relname::text ORDER BY c.relname) FILTER (
              WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid)
            ), '{}') AS droppable
     FROM pg_index i
     JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'public'::regnamespace
     GROUP BY i.indrelid, i.indkey::text, i.indclass::text, coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
              coalesce(pg_get_expr(i.indpred, i.indrelid), '')
     HAVING count(*) > 1
     ORDER BY 1, 2`,
  );
  return rows;
}
const ROLES = ['anon', 'authenticated', 'service_role', 'uuid_migration_monitor', 'uuid_lookup_reader'];

/** What every check reads through: the database, its first row, and whether it is the embedded one. */
interface DoctorContext {
  db: Queryable;
  one<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  embedded: boolean;
}

/** One area of the diagnosis: its checks, in the order they are printed. */
type DoctorArea = (context: DoctorContext) => Promise<DoctorCheck[]>;

/** The spec's troubleshooting as checks (indexes, statistics, RLS, roles, grants, counters and rollups against the tables), each with its fix. */
export async function runDoctor(db: Queryable, options: { embedded?: boolean } = {}): Promise<DoctorCheck[]> {
  const context: DoctorContext = {
    db,
    one: async <T>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows[0],
    embedded: options.embedded === true,
  };
  const { checks, nothingApplied } = await schemaChecks(context);
  if (nothingApplied) return checks; // nothing else can be judged
  for (const area of AREAS) checks.push(...(await area(context)));
  return checks;
}

/** Which migrations are applied, and whether the tables have the shape they build on. */
async function schemaChecks({ db }: DoctorContext): Promise<{ checks: DoctorCheck[]; nothingApplied: boolean }> {
  const files = await readMigrationFiles();
  const history = await db
    .query<{ version: string }>('SELECT version FROM supabase_migrations.schema_migrations')
    .then((r) => new Set(r.rows.map((row) => row.version)))
    .catch(() => new Set<string>());
  const missing = files.filter((f) => !history.has(f.version)).map((f) => `${f.version}_${f.name}`);
  // Tables of another shape than the migrations build on: db apply refuses them, other
  // tools (supabase db push) do not.
  const wrongColumns = await findWrongColumns(db).catch(() => undefined);
  const checks: DoctorCheck[] = [
    {
      name: 'migrations applied',
      ok: missing.length === 0,
      detail: missing.length === 0 ? `${files.length} of ${files.length}` : `missing: ${missing.join(', ')}`,
      fix: 'uuid-lookup db apply',
    },
    {
      name: 'tables have the column types the product needs',
      ok: wrongColumns?.length === 0,
      detail:
        wrongColumns === undefined
          ? 'could not be checked'
          : wrongColumns.length === 0
            ? 'jobs, micro_services and analytics_events as the spec has them'
            : wrongColumns.join('; '),
      fix: 'change the columns named, or use another database',
    },
  ];
  return { checks, nothingApplied: missing.length === files.length };
}

/** The indexes the lookups and the migration need, and none twice. */
async function indexChecks({ db, one }: DoctorContext): Promise<DoctorCheck[]> {
  // An index (not partial) whose first column is the one the lookups filter on.
  const leadingIndex = (table: string, column: string): Promise<{ name: string } | undefined> =>
    one<{ name: string }>(
      `SELECT c.relname AS name FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
       WHERE i.indrelid = $1::regclass AND a.attname = $2 AND i.indpred IS NULL LIMIT 1`,
      [`public.${table}`, column],
    );
  const slugIndex = await leadingIndex('micro_services', 'slug');
  const jobsIndex = await leadingIndex('jobs', 'micro_uuid');
  const duplicates = await findDuplicateIndexes(db);
  return [
    {
      name: 'index on micro_services(slug)',
      ok: slugIndex !== undefined,
      detail: slugIndex?.name ?? 'none: every lookup scans the table',
      fix: 'CREATE INDEX IF NOT EXISTS idx_micro_services_slug ON micro_services(slug);',
    },
    {
      name: 'index on jobs(micro_uuid)',
      ok: jobsIndex !== undefined,
      detail: jobsIndex?.name ?? 'none',
      fix: 'CREATE INDEX IF NOT EXISTS idx_jobs_micro_uuid ON jobs(micro_uuid);',
    },
    {
      name: 'no duplicate indexes',
      ok: duplicates.length === 0,
      detail:
        duplicates.length === 0
          ? 'none'
          : duplicates.map((d) => `${d.table}: ${d.indexes.join(' = ')}`).join('; ') + ' (each write updates both)',
      fix: duplicates.flatMap((d) => d.droppable.slice(d.droppable.length === d.indexes.length ? 1 : 0)).map((name) => `DROP INDEX ${name};`).join(' ') || 'none',
    },
  ];
}

const ANALYSED_TABLES = ['micro_services', 'jobs', 'uuid_migration_log'];

/** The planner's statistics of the tables the migration and the lookups read. */
async function statisticsChecks({ one, embedded }: DoctorContext): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const table of ANALYSED_TABLES) {
    const fix = `npx uuid-lookup db analyze (or ANALYZE ${table};)`;
    if (embedded) {
      // The embedded database keeps no activity statistics across restarts: judge
      // the planner's row estimate (pg_class.reltuples, set by ANALYZE) against an
      // exact count instead.
      const row = await one<{ estimate: number; live: string | number }>(
        `SELECT reltuples AS estimate, (SELECT count(*) FROM public.${table}) AS live FROM pg_class WHERE oid = $1::regclass`,
        [`public.${table}`],
      );
      const live = Number(row?.live ?? 0);
      const estimate = Number(row?.estimate ?? -1);
      const stale = live > 1000 && (estimate < 0 || Math.abs(live - estimate) > 0.2 * live);
      const estimated = estimate < 0 ? 'nothing (never analysed)' : Math.round(estimate);
      checks.push({ name: `statistics of ${table}`, ok: !stale, detail: `${live} live rows; the planner estimates ${estimated}`, fix });
      continue;
    }
    const stat = await one<{ analyzed: string | null; live: string; modified: string }>(
      `SELECT greatest(last_analyze, last_autoanalyze)::text AS analyzed, n_live_tup AS live, n_mod_since_analyze AS modified
       FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = $1`,
      [table],
    );
    const live = Number(stat?.live ?? 0);
    const modified = Number(stat?.modified ?? 0);
    // Stale: a fifth of the table changed since the planner last looked (autovacuum's default trigger is a tenth).
    const stale = modified > 1000 && modified > 0.2 * Math.max(live, 1);
    checks.push({ name: `statistics of ${table}`, ok: !stale, detail: `${modified} rows changed since ${stat?.analyzed ?? 'never analysed'} (${live} live)`, fix });
  }
  return checks;
}

/** Row level security on every table of ours. */
async function rowLevelSecurityChecks({ one }: DoctorContext): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const table of TABLES) {
    const rls = await one<{ on: boolean }>('SELECT relrowsecurity AS on FROM pg_class WHERE oid = $1::regclass', [`public.${table}`]);
    checks.push({
      name: `row level security on ${table}`,
      ok: rls?.on === true,
      detail: rls?.on === true ? 'enabled' : 'disabled: the anon key reaches every row',
      fix: `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;`,
    });
  }
  return checks;
}

/** What each role may do: the roles exist, the clients reach what the wizard needs and nothing more. */
const GRANTS: [expression: string, name: string, expected: boolean, fix: string][] = [
  ["has_function_privilege('anon', 'public.migrate_job_uuids(integer, text)', 'EXECUTE')", 'anon cannot run the migration', false, 'REVOKE EXECUTE ON FUNCTION migrate_job_uuids(integer, text) FROM PUBLIC, anon, authenticated;'],
  ["has_function_privilege('authenticated', 'public.get_uuid_migration_stats()', 'EXECUTE')", 'signed-in users cannot read the stats', false, 'REVOKE EXECUTE ON FUNCTION get_uuid_migration_stats() FROM PUBLIC, anon, authenticated;'],
  ["has_table_privilege('anon', 'public.analytics_events', 'SELECT')", 'anon cannot read analytics_events', false, 'REVOKE SELECT ON analytics_events FROM anon, authenticated;'],
  ["has_table_privilege('anon', 'public.uuid_migration_log', 'SELECT')", 'anon cannot read the migration log', false, 'REVOKE ALL ON uuid_migration_log FROM anon, authenticated;'],
  ["has_table_privilege('anon', 'public.micro_services', 'SELECT')", 'anon can read micro_services (the wizard needs it)', true, 'GRANT SELECT ON micro_services TO anon, authenticated;'],
  ["has_column_privilege('anon', 'public.analytics_events', 'event_properties', 'INSERT')", 'anon can insert lookup events', true, 'uuid-lookup db apply'],
  ["has_function_privilege('uuid_migration_monitor', 'public.get_uuid_migration_stats()', 'EXECUTE')", 'the monitoring role can read the stats', true, 'GRANT EXECUTE ON FUNCTION get_uuid_migration_stats() TO uuid_migration_monitor;'],
  ["has_function_privilege('uuid_migration_monitor', 'public.compact_uuid_migration_counters()', 'EXECUTE')", 'the monitoring role can compact the migration counters (each scrape)', true, 'GRANT EXECUTE ON FUNCTION compact_uuid_migration_counters() TO uuid_migration_monitor;'],
  ["has_function_privilege('uuid_migration_monitor', 'public.fold_lookup_analytics_rollups(boolean)', 'EXECUTE')", 'the monitoring role can fold the lookup rollups (each scrape)', true, 'GRANT EXECUTE ON FUNCTION fold_lookup_analytics_rollups(boolean) TO uuid_migration_monitor;'],
];

async function roleAndGrantChecks({ db, one }: DoctorContext): Promise<DoctorCheck[]> {
  const roles = await db.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [ROLES]);
  const present = new Set(roles.rows.map((r) => r.rolname));
  const absent = ROLES.filter((r) => !present.has(r));
  const checks: DoctorCheck[] = [
    { name: 'roles', ok: absent.length === 0, detail: absent.length === 0 ? ROLES.join(', ') : `missing: ${absent.join(', ')}`, fix: 'uuid-lookup db apply' },
  ];
  for (const [expr, name, expected, fix] of GRANTS) {
    const row = await one<{ has: boolean }>(`SELECT ${expr} AS has`).catch(() => undefined);
    checks.push({ name, ok: row?.has === expected, detail: row === undefined ? 'could not be checked' : row.has ? 'granted' : 'not granted', fix });
  }
  return checks;
}

/** The stats are kept by triggers; a bulk load with triggers off leaves them behind. */
async function migrationStatsCheck({ one }: DoctorContext): Promise<DoctorCheck[]> {
  const drift = await one<{ counted: string; kept: string }>(
    `SELECT format('%s jobs, %s without a UUID, %s/%s/%s success/failed/skipped',
                   (SELECT count(*) FROM public.jobs), (SELECT count(*) FROM public.jobs WHERE micro_uuid IS NULL),
                   l.success, l.failed, l.skipped) AS counted,
            (SELECT format('%s jobs, %s without a UUID, %s/%s/%s success/failed/skipped', s.total_jobs, s.jobs_without_uuid,
                           s.successful_migrations, s.failed_migrations, s.skipped_migrations)
             FROM public.get_uuid_migration_stats() s) AS kept
     FROM (SELECT count(*) FILTER (WHERE migration_status = 'success') AS success,
                  count(*) FILTER (WHERE migration_status = 'failed') AS failed,
                  count(*) FILTER (WHERE migration_status = 'skipped') AS skipped
           FROM public.uuid_migration_log) l`,
  ).catch(() => undefined);
  return [
    {
      name: 'migration stats agree with the tables',
      ok: drift !== undefined && drift.counted === drift.kept,
      detail:
        drift === undefined ? 'could not be checked' : drift.counted === drift.kept ? drift.kept : `counted ${drift.counted}; the stats say ${drift.kept}`,
      fix: 'SELECT public.rebuild_uuid_migration_counters();',
    },
  ];
}

/**
 * Job times the journeys skip (migration 20261203000400): written by the app or a
 * client, outside what a submission can have. Before that migration: not checked.
 */
async function jobTimeChecks({ one }: DoctorContext): Promise<DoctorCheck[]> {
  const usableRule = await one<{ has: boolean }>(`SELECT to_regprocedure('public.analytics_job_time_usable(timestamptz)') IS NOT NULL AS has`).catch(() => undefined);
  if (usableRule?.has !== true) return [];
  const unusable = await one<{ n: string }>(
    'SELECT count(*)::text AS n FROM public.jobs WHERE session_id IS NOT NULL AND NOT public.analytics_job_time_usable(created_at)',
  ).catch(() => undefined);
  return [
    {
      name: 'job times the journeys can use',
      ok: unusable?.n === '0',
      detail:
        unusable === undefined
          ? 'could not be checked'
          : unusable.n === '0'
            ? 'every job with a session has a time from 2000 to 2200'
            : `${unusable.n} jobs with a session have a created_at outside 2000-2200 (infinite, or far past or future): the journeys skip them, their sessions count as not submitted by them`,
      fix: 'SELECT id, session_id, created_at FROM jobs WHERE session_id IS NOT NULL AND NOT analytics_job_time_usable(created_at); -- correct created_at, or leave them skipped',
    },
  ];
}

/**
 * Supabase's linter (function_search_path_mutable) asks it of every function and procedure.
 * pg_temp is named last: left out, the caller's temporary schema is searched first for types.
 */
async function searchPathChecks({ db }: DoctorContext): Promise<DoctorCheck[]> {
  const mutable = await db.query<{ name: string }>(
    `SELECT p.oid::regprocedure::text AS name FROM pg_proc p
     LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
     WHERE p.pronamespace = 'public'::regnamespace AND d.objid IS NULL
       AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)`,
  );
  return [
    {
      name: 'functions pin search_path',
      ok: mutable.rows.length === 0,
      detail: mutable.rows.length === 0 ? 'all pinned' : mutable.rows.map((r) => r.name).join(', '),
      fix: 'ALTER FUNCTION <name> SET search_path = pg_catalog, pg_temp;',
    },
  ];
}

/** The areas after the schema's, in the order doctor prints them. */
const AREAS: readonly DoctorArea[] = [
  indexChecks,
  statisticsChecks,
  rowLevelSecurityChecks,
  roleAndGrantChecks,
  migrationStatsCheck,
  ({ db }) => rollupChecks(db),
  jobTimeChecks,
  searchPathChecks,
];

/** The lookup rollups against the events: per hour and label, and the labels beyond the bounds. */
async function rollupChecks(db: Queryable): Promise<DoctorCheck[]> {
  const one = async <T>(sql: string): Promise<T | undefined> => (await db.query<T>(sql)).rows[0];
  const has = async (relation: string): Promise<boolean> =>
    (await one<{ has: boolean }>(`SELECT to_regclass('${relation}') IS NOT NULL AS has`).catch(() => undefined))?.has === true;
  const fix = 'SELECT public.rebuild_lookup_analytics_rollups();';
  // Before 20261129000600 there is no pending table (none pending); before
  // 20261203000600 no labels were kept: the totals only.
  const pending = (await has('public.analytics_rollup_pending')) ? '(SELECT count(*) FROM public.analytics_rollup_pending)' : '0';
  if (!(await has('public.analytics_rollup_relabelled'))) {
    const rollups = await one<{ events: string; by_region: string; by_service: string; pending: string }>(
      `SELECT (SELECT count(*) FROM public.analytics_events WHERE event_name = 'uuid_lookup')::text AS events,
              (SELECT COALESCE(sum(lookups), 0) FROM public.analytics_lookup_hourly)::text AS by_region,
              (SELECT COALESCE(sum(lookups), 0) FROM public.analytics_lookup_service_hourly)::text AS by_service,
              ${pending}::text AS pending`,
    ).catch(() => undefined);
    const counted = (rolled: string, waiting: string): string => String(BigInt(rolled) + BigInt(waiting));
    const agree = rollups !== undefined && rollups.events === counted(rollups.by_region, rollups.pending) && rollups.events === counted(rollups.by_service, rollups.pending);
    return [{
      name: 'lookup rollups agree with the events',
      ok: agree,
      detail: rollups === undefined ? 'could not be checked' : `${rollups.events} events; the hourly rollups count ${rollups.by_region} by region, ${rollups.by_service} by service`,
      fix,
    }];
  }
  // Each folded event under the labels the fold gave it (analytics_rollup_relabelled),
  // against each rollup row, per hour and region and per hour and slug, in one
  // statement: an insert committing meanwhile cannot make them differ.
  const rollups = await one<{
    events: string; pending: string; by_region: string; by_service: string; regions: string; slugs: string; example: string | null; other: string; other_hours: string; limit: string;
  }>(
    `WITH labelled AS MATERIALIZED (
       SELECT date_trunc('hour', e.created_at, 'UTC') AS bucket, COALESCE(x.region, e.region, '') AS region,
              COALESCE(x.micro_slug, e.event_properties ->> 'micro_slug') AS slug
       FROM public.analytics_events e
       LEFT JOIN public.analytics_rollup_relabelled x ON x.id = e.id
       WHERE e.event_name = 'uuid_lookup' AND NOT EXISTS (SELECT FROM public.analytics_rollup_pending p WHERE p.id = e.id)
     ), by_region AS (
       SELECT bucket, region, a.n, h.lookups
       FROM (SELECT bucket, region, count(*) AS n FROM labelled GROUP BY 1, 2) a
       FULL JOIN (SELECT bucket, region, lookups FROM public.analytics_lookup_hourly WHERE lookups <> 0) h USING (bucket, region)
       WHERE a.n IS DISTINCT FROM h.lookups
     ), by_slug AS (
       SELECT bucket, slug, a.n, h.lookups
       FROM (SELECT bucket, slug, count(*) AS n FROM labelled GROUP BY 1, 2) a
       FULL JOIN (SELECT bucket, micro_slug AS slug, lookups FROM public.analytics_lookup_service_hourly WHERE lookups <> 0) h USING (bucket, slug)
       WHERE a.n IS DISTINCT FROM h.lookups
     )
     SELECT (SELECT count(*) FROM public.analytics_events WHERE event_name = 'uuid_lookup')::text AS events, ${pending}::text AS pending,
            (SELECT COALESCE(sum(lookups), 0) FROM public.analytics_lookup_hourly)::text AS by_region,
            (SELECT COALESCE(sum(lookups), 0) FROM public.analytics_lookup_service_hourly)::text AS by_service,
            (SELECT count(*) FROM by_region)::text AS regions, (SELECT count(*) FROM by_slug)::text AS slugs,
            (SELECT format('%s at %s: %s events, the rollup says %s', slug, to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00 "UTC"'),
                           COALESCE(n, 0), COALESCE(lookups, 0)) FROM by_slug ORDER BY bucket, slug LIMIT 1) AS example,
            (SELECT count(*) FROM labelled WHERE region = '(other)')::text AS other,
            (SELECT count(DISTINCT bucket) FROM labelled WHERE region = '(other)')::text AS other_hours,
            (SELECT regions_per_hour FROM public.analytics_rollup_limits)::text AS limit`,
  ).catch(() => undefined);
  if (rollups === undefined) return [{ name: 'lookup rollups agree with the events', ok: false, detail: 'could not be checked', fix }];
  const agree = rollups.regions === '0' && rollups.slugs === '0';
  const pendingNote = rollups.pending !== '0' ? `, ${rollups.pending} of them pending a fold` : '';
  return [
    {
      name: 'lookup rollups agree with the events',
      ok: agree,
      detail: agree
        ? `${rollups.events} events${pendingNote}`
        : `${rollups.events} events${pendingNote}; the hourly rollups count ${rollups.by_region} by region, ${rollups.by_service} by service; ` +
          `${rollups.regions} (hour, region) and ${rollups.slugs} (hour, slug) rollup rows differ from the events` +
          (rollups.example === null ? '' : ` (first: ${rollups.example})`),
      fix,
    },
    {
      name: 'regions within the rollup bound',
      ok: rollups.other === '0',
      detail:
        rollups.other === '0'
          ? `at most ${rollups.limit ?? '?'} regions an hour, none beyond`
          : `${rollups.other} lookups in ${rollups.other_hours} hours came from regions beyond ${rollups.limit ?? '?'} an hour: counted as (other)`,
      fix: 'find who sends them (SELECT region, count(*) FROM analytics_events GROUP BY 1 ORDER BY 2 DESC); to keep more, UPDATE analytics_rollup_limits SET regions_per_hour = <n>; then ' + fix,
    },
  ];
}
