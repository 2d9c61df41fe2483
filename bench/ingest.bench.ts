// npm run bench:ingest: uuid_lookup events inserted into analytics_events on the
// real server, in one statement and in batches of 500 and of 10 (the SDK's
// default), into (a) a database whose tables were never analysed, (b) one whose
// tables were analysed while empty, (c) one that already holds EXISTING_EVENTS
// events (default 5,000,000), each case with the project's triggers (every
// trigger on the insert path of analytics_events: the hourly,
// session and journey rollups, the per-service hourly rollup; listed in the JSON)
// and, as the limit, with them disabled, in the same run. Prints JSON: ms per
// 100,000 events (wall time, and the server process's CPU time when the server
// runs on this machine: steadier on a shared one), events per second, and for
// batches of 10 and 500 the events/s with triggers over the trigger-free
// events/s (target >= 0.7), and each statement's round trip (median, 99th
// percentile, slowest). Since 20261129000600 the insert trigger leaves small
// statements' events pending and one statement in 32 folds them into the
// rollups: with the triggers, a last fold of what is pending runs inside the
// clock, and the case checks that the hourly rollup then counts every event.
//
// Sizes (about 15 minutes here): EVENTS=1000000 in one statement,
// BATCHED_EVENTS=200000 in statements of 500, SMALL_BATCH_EVENTS=100000 in
// statements of 10 (10,000 statements). EXISTING_EVENTS=5000000.
// STATES=a,b,c and SHAPES=one_statement,batches_of_500,batches_of_10 choose the
// cases (default all), e.g. STATES=b SHAPES=batches_of_500,batches_of_10 for the
// insert path's ratio alone (about two minutes). REPEAT=3 runs each pair (with,
// without triggers) three times, alternating which goes first, and reports the medians.
// WRITE_AS=postgrest writes each batch the way the SDK's rows reach the table
// through PostgREST: a transaction as the anon role (row level security on), the
// rows as one JSON body through json_populate_recordset, a prepared statement,
// created_at from the server's clock (the insert policy's window). The default,
// WRITE_AS=sql, generates the events in the statement (no JSON body, no RLS).
// SYNCHRONOUS_COMMIT=on waits for the WAL flush of every statement, as a server
// with PostgreSQL's (and Supabase's) default does: both cases then pay the flush.
// MIGRATIONS_UNTIL=<version> applies the migrations only up to that version (the
// schema before a change; keep the sizes small for a quadratic one).
// TEST_PG_URL=postgres://... names the server.
//
// Every case runs on its own copy of its state's database (CREATE DATABASE ...
// TEMPLATE), on one connection (its plan caches live as long as the case), each
// statement its own transaction, as the SDK sends them, committed without
// waiting for the WAL flush (the same with and without triggers, and noise on a
// shared disk). Autovacuum is off for the tables so a state stays what it says
// while the case runs. State (c) is built the way an existing project meets these
// migrations: the events first (set-based, before the rollup migration), then
// the remaining migrations, whose rollup migration builds the rollups from them,
// then VACUUM ANALYZE.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { AnalyticsEventRow, UuidLookupEvent } from '../src/core/lookup-event.ts';
import { toAnalyticsRow } from '../src/core/lookup-event.ts';
import { createPgDatabase } from '../src/node/db/pg-database.ts';
import { applyMigrations } from '../src/node/schema/apply-migrations.ts';
import type { MigrationFile } from '../src/node/schema/migration-files.ts';
import { readMigrationFiles } from '../src/node/schema/migration-files.ts';
import { postgrestInsertSql } from '../test/support/postgrest-insert.ts';
import { dropServerDatabasesOnInterrupt, serverUrl, supabaseDefaultsSql, trackServerDatabase } from '../test/support/test-databases.ts';
import { nearestRank } from './support/quantiles.ts';

dropServerDatabasesOnInterrupt();

const events = Number(process.env.EVENTS ?? 1_000_000);
const batchedEvents = Number(process.env.BATCHED_EVENTS ?? Math.min(events, 200_000));
const smallBatchEvents = Number(process.env.SMALL_BATCH_EVENTS ?? Math.min(events, 100_000));
const existingEvents = Number(process.env.EXISTING_EVENTS ?? 5_000_000);
const until = process.env.MIGRATIONS_UNTIL;
const repeat = Number(process.env.REPEAT ?? 1);
const writeAs = process.env.WRITE_AS ?? 'sql';
if (!['sql', 'postgrest'].includes(writeAs)) throw new Error(`WRITE_AS must be sql or postgrest, not ${writeAs}`);
const synchronousCommit = process.env.SYNCHRONOUS_COMMIT ?? 'off';
if (!['on', 'off'].includes(synchronousCommit)) throw new Error(`SYNCHRONOUS_COMMIT must be on or off, not ${synchronousCommit}`);
/** The first migration that reads analytics_events into rollups: state (c)'s events are loaded before it. */
const ROLLUP_MIGRATION = '20261128000800';

const TABLES = [
  'analytics_events',
  'analytics_lookup_hourly',
  'analytics_lookup_sessions',
  'analytics_journey_daily',
  'analytics_journey_slug_daily',
  'jobs',
];

const run = `${process.pid}`;
const dbName = (name: string): string => `uuid_lookup_bench_ingest_${run}_${name}`;
const urlOf = (name: string): string => {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => {}); // a dying connection fails the awaited query; the cleanup still runs
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A connection lost to a server restart or shutdown (SQLSTATE classes 08 and 57, refused, reset). */
function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^(08|57)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code));
}

/**
 * Runs `fn`, and again (up to three times) when the server went away under it:
 * on a shared machine someone else's test may restart PostgreSQL. Waits until it
 * accepts connections again; `cleanup` removes what the failed attempt left.
 */
async function withRetry<T>(label: string, fn: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (!isConnectionLoss(error) || attempt === 3) throw error;
      process.stderr.write(`${label}: the server went away (${String((error as Error).message)}), retrying\n`);
      for (let waited = 0; ; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        try {
          await admin('SELECT 1');
          break;
        } catch (again) {
          if (waited > 180) throw again;
        }
      }
      await cleanup();
    }
  }
}

/**
 * Events `from`..`to` of a set of `total`: well-formed, one wizard session per
 * five events, 4 % failures, 10 % fallbacks, spread over 30 days.
 */
function eventsSql(prefix: string, total: number): string {
  return `
    INSERT INTO analytics_events (id, event_name, event_category, event_properties, session_id, region, created_at)
    SELECT gen_random_uuid(), 'uuid_lookup', 'wizard_flow',
           jsonb_build_object(
             'micro_slug', 'service-' || (g % 200),
             'micro_uuid', CASE WHEN g % 25 = 0 THEN NULL ELSE md5('s' || (g % 200))::uuid::text END,
             'lookup_time_ms', round((5 + 20 * random() + CASE WHEN g % 500 = 0 THEN 300 * random() ELSE 0 END)::numeric, 2),
             'success', g % 25 <> 0,
             'fallback_used', g % 10 = 0),
           '${prefix}-' || (g / 5),
           (ARRAY['DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'GB', NULL])[1 + g % 8],
           now() - make_interval(secs => (g::bigint * 2592000 / ${total})::int)
    FROM generate_series($1::int, $2::int) AS g`;
}

/** The columns of the SDK's analytics rows (src/core/lookup-event.ts), as supabase-js names them. */
const ROW_COLUMNS = ['id', 'event_name', 'event_category', 'event_properties', 'session_id', 'region', 'client_created_at'];
const REGIONS = ['DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'GB', undefined];

/** The JSON body of events `from`..`to`: the SDK's rows (toAnalyticsRow), with eventsSql's mix of slugs, outcomes, sessions and regions. */
function eventsBody(from: number, to: number): string {
  const rows: AnalyticsEventRow[] = [];
  for (let g = from; g <= to; g += 1) {
    const region = REGIONS[g % 8];
    const event: UuidLookupEvent = {
      microSlug: `service-${g % 200}`,
      microUuid: g % 25 === 0 ? null : `00000000-0000-4000-8000-${String(g % 200).padStart(12, '0')}`,
      lookupTimeMs: Math.round((5 + 20 * Math.random() + (g % 500 === 0 ? 300 * Math.random() : 0)) * 100) / 100,
      success: g % 25 !== 0,
      fallbackUsed: g % 10 === 0,
      sessionId: `bench-${Math.floor(g / 5)}`,
      createdAtMillis: Date.now(),
    };
    if (region !== undefined) event.region = region;
    rows.push(toAnalyticsRow(event));
  }
  return JSON.stringify(rows);
}

/** Creates a state's template database: migrations, then what the state says. */
async function createState(state: 'a' | 'b' | 'c', files: MigrationFile[]): Promise<string> {
  const name = dbName(`tpl_${state}`);
  await admin(`CREATE DATABASE ${name}`);
  trackServerDatabase(name); // dropped at the end of the run
  const db = createPgDatabase({ url: urlOf(name), maxConnections: 1 });
  try {
    await db.exec(supabaseDefaultsSql);
    if (state === 'c') {
      await applyMigrations(db, { files: files.filter((f) => f.version < ROLLUP_MIGRATION) });
      await db.query('ALTER TABLE analytics_events DISABLE TRIGGER USER');
      const slice = 1_000_000;
      for (let from = 1; from <= existingEvents; from += slice) {
        await db.query(eventsSql('existing', existingEvents), [from, Math.min(existingEvents, from + slice - 1)]);
      }
      await db.query('ALTER TABLE analytics_events ENABLE TRIGGER USER');
      // A third of the sessions submitted a job.
      await db.query(
        `INSERT INTO jobs (micro_id, session_id, created_at)
         SELECT 'service-1', 'existing-' || s, now() - make_interval(secs => (s::bigint * 5 * 2592000 / $2)::int) + interval '5 minutes'
         FROM generate_series(0, $1::int, 3) s`,
        [Math.floor(existingEvents / 5), existingEvents],
      );
    }
    await applyMigrations(db, { files });
    for (const table of TABLES) await db.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    if (state !== 'a') for (const table of TABLES) await db.query(`VACUUM ANALYZE ${table}`);
  } finally {
    await db.close();
  }
  return name;
}

interface CaseResult {
  ms: number;
  /** CPU time of the server process that ran the case, when the server is on this machine (Linux). */
  cpuMs: number | undefined;
  statements: number;
  /** Each statement's round trip in ms, in order (the last fold, when timed, counts as one). */
  latencies: number[];
}

/** A server process's CPU time so far in ms (/proc/PID/schedstat), or undefined when it cannot be read (a remote server). */
function backendCpuMs(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/** One case on a fresh copy of the state: `total` events in statements of `size`, with or without triggers. */
async function measure(template: string, total: number, size: number, triggers: boolean): Promise<CaseResult> {
  const name = dbName('case');
  await admin(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
  const dropped = trackServerDatabase(name);
  const client = new pg.Client({ connectionString: urlOf(name) });
  client.on('error', () => {});
  await client.connect();
  try {
    if (!triggers) await client.query('ALTER TABLE analytics_events DISABLE TRIGGER USER');
    // Each batch commits, by default without waiting for the WAL flush: the flush
    // is the same with and without the triggers, and on a shared disk it is mostly
    // noise. SYNCHRONOUS_COMMIT=on measures what a server with the default pays.
    await client.query(`SET synchronous_commit = ${synchronousCommit}`);
    const before = await client.query<{ n: string; pid: number }>('SELECT count(*) AS n, pg_backend_pid() AS pid FROM analytics_events');
    const fold = await client.query<{ has: boolean }>(`SELECT to_regproc('public.fold_lookup_analytics_rollups') IS NOT NULL AS has`);
    const hasFold = fold.rows[0]?.has === true;
    const pid = before.rows[0]?.pid ?? 0;
    const sql = eventsSql('bench', total);
    // PostgREST's bodies are built before the clock starts: the client's work is not the insert's.
    const bodies: string[] = [];
    if (writeAs === 'postgrest') for (let from = 1; from <= total; from += size) bodies.push(eventsBody(from, Math.min(total, from + size - 1)));
    const insert = { name: 'postgrest_insert', text: postgrestInsertSql('analytics_events', ROW_COLUMNS) };
    let statements = 0;
    const cpuStart = backendCpuMs(pid);
    const start = performance.now();
    const latencies: number[] = [];
    for (let from = 1; from <= total; from += size) {
      const statementStart = performance.now();
      if (writeAs === 'postgrest') {
        await client.query('BEGIN');
        await client.query('SET LOCAL ROLE anon');
        await client.query({ ...insert, values: [bodies[statements]] });
        await client.query('COMMIT');
      } else {
        await client.query(sql, [from, Math.min(total, from + size - 1)]);
      }
      latencies.push(performance.now() - statementStart);
      statements += 1;
    }
    // Since 20261129000600 most statements leave their events pending for a later
    // fold: the last fold is inside the clock, so every event timed with the
    // triggers is in the rollups when the clock stops.
    if (triggers && hasFold) {
      const foldStart = performance.now();
      await client.query('SELECT public.fold_lookup_analytics_rollups()');
      latencies.push(performance.now() - foldStart);
    }
    const ms = performance.now() - start;
    const cpuEnd = backendCpuMs(pid);
    const after = await client.query<{ n: string }>('SELECT count(*) AS n FROM analytics_events');
    if (Number(after.rows[0]?.n) - Number(before.rows[0]?.n) !== total) throw new Error(`bench: ${total} events did not all land`);
    if (triggers) {
      // Every timed event is in the rollups: the hourly lookups count every uuid_lookup event.
      const check = await client.query<{ events: string; rolled: string | null }>(
        `SELECT (SELECT count(*) FROM analytics_events WHERE event_name = 'uuid_lookup') AS events,
                (SELECT sum(lookups) FROM analytics_lookup_hourly) AS rolled`,
      );
      const { events, rolled } = check.rows[0] ?? { events: '0', rolled: null };
      if (String(rolled ?? 0) !== events) throw new Error(`bench: the hourly rollup counts ${rolled} lookups for ${events} events`);
    }
    return { ms, cpuMs: cpuStart === undefined || cpuEnd === undefined ? undefined : cpuEnd - cpuStart, statements, latencies };
  } finally {
    await client.end();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    dropped();
  }
}

const files = (await readMigrationFiles()).filter((f) => until === undefined || f.version <= until);
const pick = <T extends { name: string; key?: string }>(all: T[], env: string | undefined, what: string): T[] => {
  if (env === undefined || env === '') return all;
  const wanted = env.split(',');
  const chosen = all.filter((x) => wanted.includes(x.key ?? x.name));
  if (chosen.length !== wanted.length) throw new Error(`bench: ${what} must be among ${all.map((x) => x.key ?? x.name).join(', ')}, got ${env}`);
  return chosen;
};
const shapes = pick(
  [
    { name: 'one_statement', size: events, events },
    { name: 'batches_of_500', size: 500, events: batchedEvents },
    { name: 'batches_of_10', size: 10, events: smallBatchEvents },
  ],
  process.env.SHAPES,
  'SHAPES',
);
if (writeAs === 'postgrest' && shapes.some((s) => s.name === 'one_statement')) {
  throw new Error('bench: WRITE_AS=postgrest measures batches (a request body each): SHAPES=batches_of_500,batches_of_10');
}
const states = pick(
  [
    { key: 'a' as const, name: 'never_analysed' },
    { key: 'b' as const, name: 'analysed_empty' },
    { key: 'c' as const, name: `holds_${existingEvents}` },
  ],
  process.env.STATES,
  'STATES',
);

const per100k = (ms: number, total: number): number => Math.round((ms * 100_000) / total);
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));

const perSecond = (ms: number, total: number): number => Math.round((total * 1000) / ms);
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
/** The median wall and CPU time of repeated runs of one case. */
function medianCase(runs: CaseResult[]): CaseResult {
  const cpu = runs.map((r) => r.cpuMs);
  return {
    ms: median(runs.map((r) => r.ms)),
    cpuMs: cpu.every((c) => c !== undefined) ? median(cpu as number[]) : undefined,
    statements: runs[0]?.statements ?? 0,
    latencies: runs.flatMap((r) => r.latencies),
  };
}
/** The statements' round trips (all runs of a case together): median, 99th percentile, slowest, in ms. */
function latencyFigures(latencies: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => Number((nearestRank(sorted, q) ?? Number.NaN).toFixed(2));
  return { p50: at(0.5), p99: at(0.99), max: Number((sorted[sorted.length - 1] ?? Number.NaN).toFixed(2)) };
}

interface ShapeResult {
  events: number;
  statements: number;
  with_triggers_ms_per_100k: number;
  without_triggers_ms_per_100k: number;
  ratio_to_trigger_free: number;
  with_triggers_events_per_s: number;
  without_triggers_events_per_s: number;
  /** Events/s with the triggers over events/s without them (the inverse of ratio_to_trigger_free). */
  events_per_s_ratio: number;
  /** With REPEAT > 1: the ratio of each pair, in order. */
  events_per_s_ratio_per_repeat?: number[];
  with_triggers_cpu_ms_per_100k?: number;
  without_triggers_cpu_ms_per_100k?: number;
  cpu_ratio_to_trigger_free?: number;
  /** Each statement's round trip: median, 99th percentile and slowest (a fold's statement is among the slow ones). */
  with_triggers_statement_ms: { p50: number; p99: number; max: number };
  without_triggers_statement_ms: { p50: number; p99: number; max: number };
}

/** The triggers a case with triggers runs on analytics_events (what the trigger-free case disables). */
async function insertPathTriggers(template: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: urlOf(template) });
  await client.connect();
  try {
    const { rows } = await client.query<{ tgname: string }>(
      `SELECT tgname FROM pg_trigger
       WHERE tgrelid = 'public.analytics_events'::regclass AND NOT tgisinternal AND tgenabled <> 'D'
         AND (tgtype & 4) <> 0 -- fires on INSERT
       ORDER BY tgname`,
    );
    return rows.map((r) => r.tgname);
  } finally {
    await client.end();
  }
}

const started = performance.now();
const templates: string[] = [];
try {
  const results: Record<string, Record<string, ShapeResult>> = {};
  const setupSeconds: Record<string, number> = {};
  let triggers: string[] = [];
  for (const state of states) {
    const setupStart = performance.now();
    templates.push(dbName(`tpl_${state.key}`));
    const template = await withRetry(`state ${state.name}`, () => createState(state.key, files), () =>
      admin(`DROP DATABASE IF EXISTS ${dbName(`tpl_${state.key}`)} WITH (FORCE)`),
    );
    setupSeconds[state.name] = Number(((performance.now() - setupStart) / 1000).toFixed(1));
    if (triggers.length === 0) triggers = await insertPathTriggers(template);
    const byShape: Record<string, ShapeResult> = {};
    results[state.name] = byShape;
    for (const shape of shapes) {
      const dropCase = (): Promise<void> => admin(`DROP DATABASE IF EXISTS ${dbName('case')} WITH (FORCE)`);
      const label = `${state.name} ${shape.name}`;
      // REPEAT pairs, with and without triggers alternating; the median of each
      // (a shared machine's noise comes in bursts). Every other pair runs the
      // trigger-free case first, so neither side always meets the colder machine.
      const pairs: { withTriggers: CaseResult; without: CaseResult }[] = [];
      const run = (triggers: boolean): Promise<CaseResult> => withRetry(label, () => measure(template, shape.events, shape.size, triggers), dropCase);
      for (let r = 0; r < repeat; r += 1) {
        if (r % 2 === 0) {
          const withTriggers = await run(true);
          pairs.push({ withTriggers, without: await run(false) });
        } else {
          const without = await run(false);
          pairs.push({ withTriggers: await run(true), without });
        }
      }
      const withTriggers = medianCase(pairs.map((p) => p.withTriggers));
      const without = medianCase(pairs.map((p) => p.without));
      const result: ShapeResult = {
        events: shape.events,
        statements: withTriggers.statements,
        with_triggers_ms_per_100k: per100k(withTriggers.ms, shape.events),
        without_triggers_ms_per_100k: per100k(without.ms, shape.events),
        ratio_to_trigger_free: ratio(withTriggers.ms, without.ms),
        with_triggers_events_per_s: perSecond(withTriggers.ms, shape.events),
        without_triggers_events_per_s: perSecond(without.ms, shape.events),
        events_per_s_ratio: ratio(without.ms, withTriggers.ms),
        with_triggers_statement_ms: latencyFigures(withTriggers.latencies),
        without_triggers_statement_ms: latencyFigures(without.latencies),
      };
      if (withTriggers.cpuMs !== undefined && without.cpuMs !== undefined) {
        result.with_triggers_cpu_ms_per_100k = per100k(withTriggers.cpuMs, shape.events);
        result.without_triggers_cpu_ms_per_100k = per100k(without.cpuMs, shape.events);
        result.cpu_ratio_to_trigger_free = ratio(withTriggers.cpuMs, without.cpuMs);
      }
      if (repeat > 1) result.events_per_s_ratio_per_repeat = pairs.map((p) => ratio(p.without.ms, p.withTriggers.ms));
      byShape[shape.name] = result;
      process.stderr.write(`${state.name} ${shape.name}: ${JSON.stringify(result)}\n`);
    }
  }
  // Across states, per shape: the slowest over the fastest (target <= 1.5); of the
  // time with triggers, and of its ratio to the trigger-free insert (what the
  // triggers add, apart from what the table's size costs every insert).
  type Key = 'with_triggers_ms_per_100k' | 'with_triggers_cpu_ms_per_100k' | 'ratio_to_trigger_free' | 'cpu_ratio_to_trigger_free';
  const spread = (key: Key): Record<string, number> =>
    Object.fromEntries(
      shapes.map((shape) => {
        const times = states.map((s) => results[s.name]?.[shape.name]?.[key] ?? Number.NaN);
        return [shape.name, ratio(Math.max(...times), Math.min(...times))];
      }),
    );
  // The insert path as the SDK writes it (batches of 10 by default, 500 at most):
  // events/s with every trigger over events/s without, per state.
  const insertPath = Object.fromEntries(
    shapes
      .filter((shape) => shape.name !== 'one_statement')
      .map((shape) => [
        shape.name,
        Object.fromEntries(
          states.map((s) => {
            const r = results[s.name]?.[shape.name];
            return [
              s.name,
              {
                with_triggers_events_per_s: r?.with_triggers_events_per_s,
                without_triggers_events_per_s: r?.without_triggers_events_per_s,
                events_per_s_ratio: r?.events_per_s_ratio,
              },
            ];
          }),
        ),
      ]),
  );
  const anyCpu = states.some((s) => shapes.some((shape) => results[s.name]?.[shape.name]?.with_triggers_cpu_ms_per_100k !== undefined));
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'ingest',
        migrations_until: files.at(-1)?.version,
        events_per_case: Object.fromEntries(shapes.map((s) => [s.name, s.events])),
        existing_events: existingEvents,
        repeat,
        write_as: writeAs,
        synchronous_commit: synchronousCommit,
        setup_seconds: setupSeconds,
        triggers_on_insert: triggers,
        results,
        insert_path_events_per_s: insertPath,
        spread_across_states: spread('with_triggers_ms_per_100k'),
        spread_of_ratio_to_trigger_free: spread('ratio_to_trigger_free'),
        ...(!anyCpu
          ? {}
          : {
              cpu_spread_across_states: spread('with_triggers_cpu_ms_per_100k'),
              cpu_spread_of_ratio_to_trigger_free: spread('cpu_ratio_to_trigger_free'),
            }),
        targets: {
          spread_across_states_max: 1.5,
          one_statement_ratio_to_trigger_free_max: 3,
          batches_events_per_s_ratio_min: 0.7,
        },
        total_seconds: Math.round((performance.now() - started) / 1000),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  for (const template of templates) {
    await withRetry('cleanup', () => admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`), async () => {});
  }
}
