import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planMigrations } from '../../src/node/schema/apply-plan.ts';
import { runCliProcess } from '../support/processes.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// `db apply` on an existing Supabase project: the wizard's own jobs and
// micro_services, made before our migrations, with Supabase's default grants (the
// API roles hold every privilege on new tables). Applying the migrations used to
// take the app's access away without a word.

/** The wizard's tables as an app made them: no user_id on jobs, no row level security. */
const EXISTING_APP = `
  CREATE TABLE public.micro_services (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text UNIQUE NOT NULL, name text);
  CREATE TABLE public.jobs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), micro_id text, micro_uuid uuid, created_at timestamptz DEFAULT now());
  INSERT INTO public.micro_services (slug) VALUES ('wall-painting');`;

/** The same app, prepared as the README says: row level security with its own policies, user_id on jobs. */
const PREPARED_APP = `
  CREATE TABLE public.micro_services (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), slug text UNIQUE NOT NULL, name text);
  ALTER TABLE public.micro_services ENABLE ROW LEVEL SECURITY;
  CREATE POLICY services_read ON public.micro_services FOR SELECT TO anon, authenticated USING (true);
  CREATE TABLE public.jobs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), micro_id text, micro_uuid uuid,
                            created_at timestamptz DEFAULT now(), user_id uuid);
  ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;
  CREATE POLICY jobs_own ON public.jobs FOR ALL TO authenticated USING (user_id::text = current_setting('request.jwt.claim.sub', true))
    WITH CHECK (user_id::text = current_setting('request.jwt.claim.sub', true));`;

describe('db apply on an existing Supabase project', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await serverTestDatabase({ migrate: false });
  });
  afterEach(async () => {
    await t.dispose();
  });

  const rights = async () =>
    (await t.db.query<{ anon_insert: boolean; auth_select: boolean; rls: boolean; history: string | null }>(
      `SELECT has_table_privilege('anon', 'public.jobs', 'INSERT') AS anon_insert,
              has_table_privilege('authenticated', 'public.jobs', 'SELECT') AS auth_select,
              (SELECT relrowsecurity FROM pg_class WHERE oid = 'public.jobs'::regclass) AS rls,
              to_regclass('supabase_migrations.schema_migrations')::text AS history`,
    )).rows[0];

  it('--dry-run lists each change to the tables that exist and each right the app would lose, and applies nothing', async () => {
    await t.db.exec(EXISTING_APP);
    const before = await rights();
    const run = await runCliProcess(['db', 'apply', '--dry-run', '--database-url', t.url ?? '']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Would apply \d+ migration\(s\): 20261128000100 to \d{14}\.$/m);
    expect(run.stdout).toContain('  public.jobs: row level security on');
    expect(run.stdout).toContain('  public.jobs: revoke DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE from anon');
    expect(run.stdout).toContain('  public.jobs: new column session_id text');
    expect(run.stdout).toContain('  public.micro_services: new policy micro_services_read_all FOR SELECT TO anon, authenticated USING (true)');
    for (const lost of [
      'anon can no longer INSERT into public.jobs: the privilege is revoked',
      'anon can no longer SELECT public.jobs: the privilege is revoked',
      'authenticated can no longer INSERT into public.jobs: row level security is on and no policy lets it',
      'authenticated can no longer SELECT public.jobs: row level security is on and no policy lets it',
      'anon can no longer INSERT into public.micro_services: the privilege is revoked',
    ]) expect(run.stdout).toContain(`  ${lost}\n`);
    expect(await rights()).toEqual(before);
    expect(before).toEqual({ anon_insert: true, auth_select: true, rls: false, history: null });

    const json = await runCliProcess(['db', 'apply', '--dry-run', '--json', '--database-url', t.url ?? '']);
    const plan = JSON.parse(json.stdout) as { pending: string[]; new_tables: string[]; changes: string[]; lockouts: string[] };
    expect(plan.pending[0]).toBe('20261128000100');
    expect(plan.new_tables).toContain('public.analytics_events');
    expect(plan.lockouts).toHaveLength(14);
  });

  it('refuses to lock the app out, applying nothing, unless told --allow-lockout', async () => {
    await t.db.exec(EXISTING_APP);
    const refused = await runCliProcess(['db', 'apply', '--database-url', t.url ?? '']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('anon can no longer INSERT into public.jobs: the privilege is revoked');
    expect(refused.stderr).toMatch(/db apply would take away 14 right\(s\) the app's clients have \(listed above\); nothing was applied/);
    expect(refused.stdout).toBe('');
    expect(await rights()).toEqual({ anon_insert: true, auth_select: true, rls: false, history: null });

    const allowed = await runCliProcess(['db', 'apply', '--allow-lockout', '--database-url', t.url ?? '']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await rights()).toMatchObject({ anon_insert: false, rls: true, history: 'supabase_migrations.schema_migrations' });
    // Applied: the plan has nothing left, and db apply runs without a flag.
    expect(await planMigrations(t.db)).toEqual({ pending: [], newTables: [], changes: [], lockouts: [] });
    const again = await runCliProcess(['db', 'apply', '--database-url', t.url ?? '']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^applied +\(none\)$/m);
  });

  it("applies without a flag to a project prepared as the README says: its policies kept, no right lost", async () => {
    await t.db.exec(PREPARED_APP);
    const plan = await planMigrations(t.db);
    expect(plan.lockouts).toEqual([]);
    // anon's grants on jobs go, but under row level security with no policy for anon they let it do nothing.
    expect(plan.changes).toContain('public.jobs: revoke DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE from anon');
    const applied = await runCliProcess(['db', 'apply', '--database-url', t.url ?? '']);
    expect(applied.code, applied.stderr).toBe(0);
    const kept = await t.db.query<{ policyname: string }>("SELECT policyname FROM pg_policies WHERE tablename = 'jobs' AND policyname = 'jobs_own'");
    expect(kept.rows).toHaveLength(1);
  });

  it('applies to an empty database without measuring a plan (nothing there to change)', async () => {
    const applied = await runCliProcess(['db', 'apply', '--database-url', t.url ?? '']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^applied +20261128000100 /m);
  });
});
