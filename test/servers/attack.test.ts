import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/node/db/database.ts';
import type { DatabaseError } from '../../src/node/db/database.ts';
import { createLogin } from '../../src/node/db/logins.ts';
import { runCliCaptured } from '../support/run-cli-captured.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// What Supabase exposes to anyone with the anon key (and to signed-in users),
// tried against every table and function, on a database with Supabase's default
// privileges in place. Each attempt runs in a transaction that is rolled back.
const USER = '22222222-2222-4222-8222-222222222222';
const OTHER_USER = '11111111-1111-4111-8111-111111111111';
const SERVICE = '00000000-0000-4000-8000-000000000001';
type Role = 'anon' | 'authenticated';

const EVENT = (properties: string, extra = ''): string =>
  `INSERT INTO analytics_events (event_name, event_category, event_properties${extra ? `, ${extra.split('=')[0]}` : ''})
   VALUES ('uuid_lookup', 'wizard_flow', '${properties}'::jsonb${extra ? `, ${extra.split('=').slice(1).join('=')}` : ''})`;
const GOOD = '{"micro_slug": "wall-painting", "micro_uuid": null, "lookup_time_ms": 5, "success": false, "fallback_used": false}';

describe('every role Supabase exposes, against every table and function', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await serverTestDatabase();
    await t.db.exec(`
      INSERT INTO micro_services (id, slug) VALUES ('${SERVICE}', 'wall-painting');
      INSERT INTO jobs (micro_id, user_id) VALUES ('wall-painting', '${USER}'), ('wall-painting', '${OTHER_USER}');
      INSERT INTO analytics_events (event_name, event_category, event_properties) VALUES ('uuid_lookup', 'wizard_flow', '${GOOD}');
      INSERT INTO uuid_migration_log (job_id, run_id, micro_slug, migration_status) SELECT id, gen_random_uuid(), micro_id, 'skipped' FROM jobs;
    `);
  });
  afterAll(async () => {
    await t.dispose();
  });

  /** Runs `sql` as `role` the way PostgREST does, rolled back; returns rows or the SQLSTATE. */
  async function as(role: Role | 'service_role', sql: string, setup = ''): Promise<{ code?: string; rows?: unknown[] }> {
    let rows: unknown[] | undefined;
    try {
      await t.db.transaction(async (tx) => {
        if (setup) await tx.exec(setup);
        await tx.query(`SET LOCAL ROLE ${role}`);
        await tx.query("SELECT set_config('request.jwt.claims', $1, true)", [
          JSON.stringify(role === 'authenticated' ? { sub: USER, role } : { role }),
        ]);
        rows = (await tx.query(sql)).rows;
        throw new Error('roll back');
      });
    } catch (error) {
      if (rows !== undefined) return { rows };
      return { code: (error as DatabaseError).code ?? 'unknown' };
    }
    return {};
  }

  const tables = ['micro_services', 'jobs', 'analytics_events', 'analytics_rollup_pending', 'uuid_migration_log', 'supabase_migrations.schema_migrations'];
  const updated: Record<string, string> = { analytics_events: 'event_category', analytics_rollup_pending: 'region', jobs: 'micro_id', micro_services: 'name' };
  const writes = (table: string): string[] => [
    `UPDATE ${table} SET ${updated[table] ?? (table.endsWith('schema_migrations') ? 'name' : 'micro_slug')} = 'x'`,
    `DELETE FROM ${table}`,
    `TRUNCATE ${table} CASCADE`,
  ];

  for (const role of ['anon', 'authenticated'] as const) {
    it(`${role}: may read micro_services and nothing else of ours`, async () => {
      expect((await as(role, 'SELECT slug FROM micro_services')).rows).toEqual([{ slug: 'wall-painting' }]);
      // Every other table of ours, rollups and pending events included, as the catalogue lists them.
      const others = await t.db.query<{ name: string }>(
        `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
         WHERE schemaname IN ('public', 'supabase_migrations') AND tablename NOT IN ('micro_services', 'jobs') ORDER BY 1`,
      );
      expect(others.rows.map((r) => r.name)).toContain('public.analytics_rollup_pending');
      for (const { name: table } of others.rows) {
        expect((await as(role, `SELECT * FROM ${table}`)).code, `${role} SELECT ${table}`).toBe('42501');
      }
      const jobs = await as(role, 'SELECT user_id FROM jobs');
      if (role === 'anon') expect(jobs.code).toBe('42501');
      else expect(jobs.rows).toEqual([{ user_id: USER }]); // own jobs only (RLS)
    });

    it(`${role}: may change nothing but insert well-formed lookup events (and, signed in, own jobs)`, async () => {
      for (const table of tables) {
        for (const sql of writes(table)) {
          const result = await as(role, sql);
          // RLS makes UPDATE/DELETE of invisible rows a no-op; a grant refusal is 42501. Either way nothing changes.
          if (result.code === undefined) expect(result.rows, `${role}: ${sql}`).toEqual([]);
          else expect(result.code, `${role}: ${sql}`).toBe('42501');
        }
      }
      expect((await as(role, 'DELETE FROM jobs RETURNING id')).rows ?? []).toEqual([]);
      expect((await as(role, EVENT(GOOD))).code).toBeUndefined();
      expect((await as(role, "INSERT INTO micro_services (slug) VALUES ('x')")).code).toBe('42501');
      const job = await as(role, `INSERT INTO jobs (micro_id, micro_uuid) VALUES ('wall-painting', '${SERVICE}')`);
      expect(job.code).toBe(role === 'anon' ? '42501' : undefined);
      expect((await as(role, `INSERT INTO jobs (micro_id, user_id) VALUES ('x', '${OTHER_USER}')`)).code).toBe('42501');
    });

    it(`${role}: may execute none of the functions but the pure event check`, async () => {
      const { rows } = await t.db.query<{ fn: string; allowed: boolean }>(
        `SELECT p.oid::regprocedure::text AS fn, has_function_privilege($1, p.oid, 'EXECUTE') AS allowed
         FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')`,
        [role],
      );
      const allowed = rows.filter((r) => r.allowed).map((r) => r.fn);
      expect(allowed).toEqual(['uuid_lookup_event_properties_valid(jsonb)']);
      expect(rows.length).toBeGreaterThan(12);
      for (const call of ['SELECT * FROM migrate_job_uuids()', 'SELECT * FROM get_uuid_migration_stats()', `SELECT * FROM rollback_job_uuid_migration(gen_random_uuid())`, 'SELECT * FROM preview_job_uuid_migration()', 'SELECT * FROM list_job_uuid_migration_runs()']) {
        expect((await as(role, call)).code, `${role}: ${call}`).toBe('42501');
      }
    });
  }

  it('each layer holds on its own: the grant with RLS off, RLS with the grant given', async () => {
    for (const table of ['analytics_events', 'uuid_migration_log']) {
      // No grant: refused even with RLS disabled.
      expect((await as('anon', `SELECT * FROM ${table}`, `ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`)).code).toBe('42501');
      // RLS: with SELECT granted, still no row.
      expect((await as('anon', `SELECT * FROM ${table}`, `GRANT SELECT ON ${table} TO anon`)).rows).toEqual([]);
    }
    // The insert policy alone refuses another event name, with the table's CHECK out of the way.
    const other = await as('anon', "INSERT INTO analytics_events (event_name, event_category, event_properties) VALUES ('admin_login', 'wizard_flow', '{}')", 'ALTER TABLE analytics_events DROP CONSTRAINT analytics_events_uuid_lookup_shape');
    expect(other.code).toBe('42501');
    // The column grant alone refuses a forged created_at, with RLS off.
    const forged = await as('anon', EVENT(GOOD, "created_at=now() - interval '30 days'"), 'ALTER TABLE analytics_events DISABLE ROW LEVEL SECURITY');
    expect(forged.code).toBe('42501');
    // RLS alone confines a signed-in user to their own jobs, with every privilege granted.
    expect((await as('authenticated', 'SELECT user_id FROM jobs', 'GRANT ALL ON jobs TO authenticated')).rows).toEqual([{ user_id: USER }]);
  });

  const hostile: [string, string, string][] = [
    ['an oversized property (100 KB)', EVENT(`{"micro_slug": "${'x'.repeat(100_000)}", "micro_uuid": null, "lookup_time_ms": 1, "success": false, "fallback_used": false}`), '23514'],
    ['success given as a string', EVENT('{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": "yes", "fallback_used": false}'), '23514'],
    ['a missing key', EVENT('{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": false}'), '23514'],
    ['an extra key (personal data)', EVENT('{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1, "success": false, "fallback_used": false, "email": "a@b.c"}'), '23514'],
    ['a nested object', EVENT('{"micro_slug": {"$ne": null}, "micro_uuid": null, "lookup_time_ms": 1, "success": false, "fallback_used": false}'), '23514'],
    ['a lookup time of a billion ms', EVENT('{"micro_slug": "a", "micro_uuid": null, "lookup_time_ms": 1e9, "success": false, "fallback_used": false}'), '23514'],
    ['a success whose micro_uuid is not a UUID', EVENT(`{"micro_slug": "a", "micro_uuid": "uuid-123", "lookup_time_ms": 1, "success": true, "fallback_used": false}`), '23514'],
    ['a 10 KB raw UUID text', EVENT(`{"micro_slug": "a", "micro_uuid": null, "micro_uuid_raw": "${'x'.repeat(10_000)}", "lookup_time_ms": 1, "success": true, "fallback_used": false}`), '23514'],
    ['a raw UUID text on a failure', EVENT('{"micro_slug": "a", "micro_uuid": null, "micro_uuid_raw": "uuid-123", "lookup_time_ms": 1, "success": false, "fallback_used": false}'), '23514'],
    ['properties that are an array', EVENT('[1, 2, 3]'), '23514'],
    ['another event name', "INSERT INTO analytics_events (event_name, event_category, event_properties) VALUES ('admin_login', 'wizard_flow', '{}')", '42501'],
    ['another category', `INSERT INTO analytics_events (event_name, event_category, event_properties) VALUES ('uuid_lookup', 'billing', '${GOOD}')`, '42501'],
    ['a forged created_at', EVENT(GOOD, "created_at=now() - interval '30 days'"), '42501'],
    ['a claimed user id', EVENT(GOOD, `user_id='${OTHER_USER}'`), '42501'],
    ['a region that is an address', EVENT(GOOD, "region='12 Main St; DROP TABLE jobs'"), '23514'],
    ['a 10 KB session id', EVENT(GOOD, `session_id='${'s'.repeat(10_000)}'`), '23514'],
  ];
  it.each(hostile)('refuses, through the public insert path, %s', async (_name, sql, code) => {
    expect((await as('anon', sql)).code).toBe(code);
  });
  it('refuses hostile events with the CHECK constraint even for the service role (not only in the SDK)', async () => {
    expect((await as('service_role', hostile[1]?.[1] ?? '')).code).toBe('23514');
  });
});

describe('hostile input to the SQL functions and the CLI', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await serverTestDatabase();
    await t.db.exec("INSERT INTO micro_services (slug) VALUES ('a'); INSERT INTO jobs (micro_id) SELECT 'a' FROM generate_series(1, 10)");
  });
  afterAll(async () => {
    await t.dispose();
  });

  const code = async (db: Queryable, sql: string): Promise<string | undefined> => {
    try {
      await db.query(sql);
      return undefined;
    } catch (error) {
      return (error as DatabaseError).code;
    }
  };

  it.each([
    ['SELECT * FROM migrate_job_uuids_batch(NULL)', '22023'],
    ['SELECT * FROM migrate_job_uuids_batch(-1)', '22023'],
    ['SELECT * FROM migrate_job_uuids_batch(2147483647)', '22023'],
    ['SELECT * FROM migrate_job_uuids_batch(10, NULL, \'all\', NULL, 99)', '22023'],
    ['SELECT * FROM migrate_job_uuids_batch(10, NULL, \'all\', NULL, -1)', '22023'],
    ['SELECT * FROM migrate_job_uuids(0)', '22023'],
    ['SELECT * FROM migrate_job_uuids_batch(10, \'not-a-uuid\')', '22P02'],
    ['SELECT * FROM rollback_job_uuid_migration(NULL)', '22004'],
    ['SELECT * FROM migrate_job_uuids(-5)', '22023'],
    ["SELECT * FROM migrate_job_uuids(10, 'everything')", '22023'],
  ])('%s is refused with SQLSTATE %s and changes nothing', async (sql, expected) => {
    expect(await code(t.db, sql)).toBe(expected);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM uuid_migration_log');
    expect(rows[0]?.n).toBe(0);
  });

  it('treats null flags as false and a cursor past the end as done', async () => {
    expect((await t.db.query('SELECT * FROM preview_job_uuid_migration(NULL)')).rows).toEqual([{ micro_slug: 'a', would_be: 'success', jobs: '10' }]);
    const past = await t.db.query<{ processed: number }>("SELECT * FROM migrate_job_uuids_batch(10, 'ffffffff-ffff-ffff-ffff-ffffffffffff', NULL)");
    expect(past.rows[0]?.processed).toBe(0);
  });

  it('refuses hostile CLI input with a usage error (check: unknown, 3)', async () => {
    for (const [args, code] of [
      [['migrate', '--batch-size', '99999999999999999999'], 2],
      [['migrate', '--batch-size', '1e3'], 2],
      [['migrate', '--concurrency', '0'], 2],
      [['check', '--since', '-1'], 3],
      [['traffic', '--rate', 'NaN'], 2],
    ] as const) {
      const run = await runCliCaptured([...args, '--database-url', t.url ?? '']);
      expect(run.code, args.join(' ')).toBe(code);
    }
    await expect(createLogin(t.db, 'x"; DROP TABLE jobs; --', 'uuid_lookup_reader', 'a-long-enough-password')).rejects.toThrow('role name must match');
    await expect(createLogin(t.db, 'sneaky', 'postgres', 'a-long-enough-password')).rejects.toThrow('--member-of must be one of');
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
    expect(rows[0]?.n).toBe(10);
  });
});
