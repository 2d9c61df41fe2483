import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliRun } from '../support/run-cli-captured.ts';
import { runCliCaptured } from '../support/run-cli-captured.ts';

/** Where the commands point: `--data-dir` (embedded) or `--database-url` (a server). */
export interface CliTarget {
  args: string[];
  /** Runs SQL directly, as the owner (to set up what a test needs). */
  sql(statement: string): Promise<void>;
  /** A new database of its own that starts as a copy of this one. */
  copy(): Promise<CliTarget>;
  dispose(): Promise<void>;
}

/**
 * How far a test's database is built, by the CLI's own commands: `applied` (db
 * apply), `seeded` (then db seed: 2,000 jobs), `migrated` (then a plain
 * migrate in batches of 700: 1,845 succeed, 155 are skipped).
 */
type Stage = 'empty' | 'applied' | 'seeded' | 'migrated';
const STEPS: Record<Exclude<Stage, 'empty'>, { after: Stage; args: string[] }> = {
  applied: { after: 'empty', args: ['db', 'apply'] },
  seeded: { after: 'applied', args: ['db', 'seed'] },
  migrated: { after: 'seeded', args: ['migrate', '--batch-size', '700'] },
};

// Each command of the CLI against a database of its own per test: every test
// builds the state it needs (copied from a snapshot of that stage, made once
// by the commands above), so any test runs alone (`vitest run -t '<name>'`).
export function describeCli(label: string, makeTarget: () => Promise<CliTarget>): void {
  describe(`uuid-lookup on ${label}`, () => {
    const files = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-cli-'));
    const snapshots = new Map<Stage, Promise<CliTarget>>();
    const inUse: CliTarget[] = [];

    async function snapshot(stage: Stage): Promise<CliTarget> {
      let made = snapshots.get(stage);
      if (made === undefined) {
        made = (async () => {
          if (stage === 'empty') return makeTarget();
          const step = STEPS[stage];
          const target = await (await snapshot(step.after)).copy();
          const run = await runCliCaptured([...step.args, ...target.args]);
          if (run.code !== 0) throw new Error(`building the ${stage} stage: ${step.args.join(' ')} exited ${run.code}: ${run.stderr}`);
          return target;
        })();
        snapshots.set(stage, made);
      }
      return made;
    }

    /** A database of this test's own at `stage`, and the CLI pointed at it. */
    async function database(stage: Stage): Promise<{ cli: (...args: string[]) => Promise<CliRun>; sql: (statement: string) => Promise<void> }> {
      const target = await (await snapshot(stage)).copy();
      inUse.push(target);
      return { cli: (...args) => runCliCaptured([...args, ...target.args]), sql: (statement) => target.sql(statement) };
    }

    afterEach(async () => {
      await Promise.all(inUse.splice(0).map((t) => t.dispose()));
    });
    afterAll(async () => {
      const made = await Promise.allSettled(snapshots.values());
      await Promise.all(made.flatMap((m) => (m.status === 'fulfilled' ? [m.value.dispose()] : [])));
      rmSync(files, { recursive: true, force: true });
    });

    it('applies the migrations, then finds nothing left to apply', async () => {
      const { cli } = await database('empty');
      const first = await cli('db', 'apply', '--json');
      expect(first.code, first.stderr).toBe(0);
      const applied = first.json<{ applied: string[] }>().applied;
      expect(applied.length).toBeGreaterThanOrEqual(6);
      expect(applied.every((version) => /^\d{14}$/.test(version))).toBe(true);
      expect((await cli('db', 'apply', '--json')).json()).toMatchObject({ applied: [] });
    });

    it('loads the sample data and shows the stats', async () => {
      const { cli } = await database('applied');
      expect((await cli('db', 'seed')).code).toBe(0);
      const stats = await cli('stats', '--json');
      expect(stats.json()).toMatchObject({ total_jobs: 2000, jobs_with_uuid: 0, completion_percentage: 0, migration_failure_state: 'no-data' });
    });

    it('shows what a run would do without writing anything (--dry-run)', async () => {
      const { cli } = await database('seeded');
      const preview = await cli('migrate', '--dry-run', '--json');
      const slugs = preview.json<{ slugs: { micro_slug: string; would_be: string; jobs: number }[] }>().slugs;
      expect(slugs.reduce((n, s) => n + s.jobs, 0)).toBe(2000);
      expect(slugs.find((s) => s.micro_slug === 'wall_painting')?.would_be).toBe('skipped');
      expect((await cli('stats', '--json')).json()).toMatchObject({ jobs_with_uuid: 0, successful_migrations: 0 });
    });

    it('migrates in batches, and a second new-only run finds nothing to do', async () => {
      const { cli } = await database('seeded');
      const run = await cli('migrate', '--batch-size', '700', '--json');
      expect(run.code, run.stderr).toBe(0);
      // A size given on the command line is every batch's size: no target time.
      expect(run.json()).toMatchObject({ mode: 'all', processed: 2000, succeeded: 1845, skipped: 155, failed: 0, batches: 3, target_batch_ms: null, stopped_early: false, recorded: true });
      // A run with nothing to do names no run id to pause, says so, and leaves no row: migrate runs lists the first run only.
      const idle = await cli('migrate', '--mode', 'new');
      expect(idle.code, idle.stderr).toBe(0);
      expect(idle.stderr).not.toMatch(/pause\|resume\|cancel/);
      expect(idle.stderr).toMatch(/nothing to migrate: the run found no job and left no record \(migrate runs does not list it\)/);
      expect(idle.stdout).toMatch(/recorded\s+false/);
      expect((await cli('migrate', 'runs', '--json')).json<{ runs: { run_id: string }[] }>().runs.map((r) => r.run_id)).toEqual([run.json<{ run_id: string }>().run_id]);
      // Without one, batches aim at a second (the optimiser); --target-batch-ms off asks for --batch-size each time.
      expect((await cli('migrate', '--mode', 'new', '--json')).json()).toMatchObject({ mode: 'new', processed: 0, target_batch_ms: 1000 });
      expect((await cli('migrate', '--mode', 'new', '--target-batch-ms', '250', '--batch-size', '50', '--json')).json()).toMatchObject({ target_batch_ms: 250 });
      expect((await cli('migrate', '--mode', 'new', '--target-batch-ms', 'off', '--json')).json()).toMatchObject({ target_batch_ms: null });
      // The embedded database runs one batch at a time, and says so when asked for more.
      const parallel = await cli('migrate', '--mode', 'new', '--concurrency', '4', '--json');
      expect(parallel.code, parallel.stderr).toBe(0);
      const embedded = (await snapshot('seeded')).args.includes('--data-dir');
      expect(parallel.stderr.includes('--concurrency 4 runs as 1')).toBe(embedded);
    });

    it('lists the run and rolls it back to where it started', async () => {
      const { cli } = await database('migrated');
      const runs = (await cli('migrate', 'runs', '--json')).json<{ runs: { run_id: string; succeeded: number }[] }>().runs;
      expect(runs).toHaveLength(1);
      const rollback = await cli('migrate', 'rollback', runs[0]!.run_id, '--json');
      expect(rollback.json()).toMatchObject({ jobs_reverted: 1845, jobs_changed_since: 0 });
      expect((await cli('stats', '--json')).json()).toMatchObject({ jobs_with_uuid: 0, successful_migrations: 0, skipped_migrations: 155 });
      // Rolled-back jobs count as never attempted: the next new-only run takes them again.
      expect((await cli('migrate', '--mode', 'new', '--json')).json()).toMatchObject({ processed: 1845, succeeded: 1845 });
      // The plain run is the spec's process: every job without a UUID, the skipped ones included.
      expect((await cli('migrate', '--json')).json()).toMatchObject({ processed: 155, skipped: 155 });
      const unknown = await cli('migrate', 'rollback', '00000000-0000-4000-8000-000000000000');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no run 00000000-0000-4000-8000-000000000000 in the log \[P0002\]/);
    });

    it('prints the spec\'s queries as reports', async () => {
      const { cli } = await database('migrated');
      const missing = await cli('report', 'missing-services', '--json');
      expect(missing.json<{ rows: { micro_id: string }[] }>().rows.map((r) => r.micro_id)).toEqual(
        expect.arrayContaining(['wall_painting', 'handyman', 'electrician']),
      );
      const table = await cli('report', 'migration-progress');
      expect(table.stdout).toMatch(/skipped\s+155/);
      expect(table.stdout).toMatch(/^Migration progress by status \(all time\)/);
      const bad = await cli('report', 'everything');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("'everything' is invalid");
    });

    it('agrees with stats in migration-progress, says how many rows a report cuts, and states its window', async () => {
      const { cli } = await database('migrated');
      const stats = (await cli('stats', '--json')).json<{ successful_migrations: number; skipped_migrations: number; failed_migrations: number }>();
      const progress = (await cli('report', 'migration-progress', '--json')).json<{ rows: { migration_status: string; count: string | number }[] }>().rows;
      const count = (status: string): number => Number(progress.find((r) => r.migration_status === status)?.count ?? 0);
      expect({ success: count('success'), skipped: count('skipped'), failed: count('failed') }).toEqual({
        success: stats.successful_migrations,
        skipped: stats.skipped_migrations,
        failed: stats.failed_migrations,
      });
      // 155 failed or skipped jobs; the spec's review query keeps the first 100.
      const review = await cli('report', 'review-failures');
      expect(review.stdout).toContain("(55 more rows not shown: the spec's query keeps the first 100)");
      expect((await cli('report', 'review-failures', '--json')).json()).toMatchObject({ more_rows: 55 });
      const performance = await cli('report', 'lookup-performance');
      expect(performance.stdout).toMatch(/^Lookup performance by service \(last 7d, counted in whole hours: since .* UTC\)/);
      const recent = await cli('report', 'lookup-performance', '--since', '90m', '--json');
      expect(recent.json()).toMatchObject({ title: expect.stringMatching(/^Lookup performance by service \(last 90m, counted in whole hours: since /), since_minutes: 90 });
      expect((recent.json() as { covers_from: string }).covers_from).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00Z$/);
      const recentProgress = await cli('report', 'migration-progress', '--since', '24h');
      expect(recentProgress.stdout).toMatch(/^Migration progress by status \(last 1d\)/);
      expect(recentProgress.stdout).toMatch(/skipped\s+155/);
      const coarse = await cli('report', 'patterns', '--since', '90m');
      expect(coarse.stdout).toContain("patterns over the last 90m (from the rollup's whole hours");
      const badSince = await cli('report', 'slow-lookups', '--since', '7 days');
      expect(badSince.code).toBe(2);
      expect(badSince.stderr).toContain('expected a duration like 90m, 24h or 30d');
    });

    it('maps a slug no service has to an existing service, as a run that can be rolled back', async () => {
      const { cli } = await database('migrated');
      const before = (await cli('stats', '--json')).json<{ jobs_with_uuid: number }>().jobs_with_uuid;
      expect(before).toBe(1845);
      const unknownTarget = await cli('services', 'map', 'wall_painting', '--to', 'no-such-service');
      expect(unknownTarget.code).toBe(1);
      expect(unknownTarget.stderr).toContain('no micro_services row with slug no-such-service [P0002]');
      const mapped = (await cli('services', 'map', 'wall_painting', '--to', 'wall-painting', '--json')).json<{ jobs_mapped: number; run_id: string }>();
      expect(mapped.jobs_mapped).toBeGreaterThan(0);
      const missing = (await cli('report', 'missing-services', '--json')).json<{ rows: { micro_id: string }[] }>().rows.map((r) => r.micro_id);
      expect(missing).not.toContain('wall_painting');
      expect((await cli('stats', '--json')).json()).toMatchObject({ jobs_with_uuid: before + mapped.jobs_mapped });
      expect((await cli('migrate', 'rollback', mapped.run_id, '--json')).json()).toMatchObject({ jobs_reverted: mapped.jobs_mapped });
      expect((await cli('stats', '--json')).json()).toMatchObject({ jobs_with_uuid: before });
    });

    it('adds missing services one at a time or from a file, refusing bad input whole', async () => {
      const { cli } = await database('seeded');
      expect((await cli('services', 'add', 'handyman', '--name', 'Handyman', '--json')).json()).toMatchObject({ added: true });
      expect((await cli('services', 'add', 'handyman', '--json')).json()).toMatchObject({ added: false });
      const invalid = await cli('services', 'add', 'Wall Painting!');
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toMatch(/^uuid-lookup: slug: slug "Wall Painting!" is not lower-case words joined by hyphens/);

      const good = path.join(files, 'services.csv');
      writeFileSync(good, 'slug,name\nelectrician,Electrician\ntiler,Tiler\n');
      expect((await cli('services', 'import', good, '--json')).json()).toMatchObject({ rows: 2, added: 2 });
      const broken = path.join(files, 'broken.csv');
      writeFileSync(broken, 'slug,name\ngarden,Garden\nNOT OK,Bad\n');
      const refused = await cli('services', 'import', broken);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('broken.csv: line 3: slug "NOT OK"');
      const json = path.join(files, 'services.json');
      writeFileSync(json, '{"slug": "garden"}');
      expect((await cli('services', 'import', json)).stderr).toContain('expected a JSON array');
      expect((await cli('services', 'import', path.join(files, 'nope.csv'))).stderr).toContain('cannot read');
      const missing = (await cli('report', 'missing-services', '--json')).json<{ rows: { micro_id: string }[] }>().rows.map((r) => r.micro_id);
      expect(missing).not.toContain('garden'); // the broken file added nothing
      expect(missing).not.toContain('electrician');
    });

    it('retries the skipped jobs whose service now exists', async () => {
      const { cli } = await database('migrated');
      expect((await cli('migrate', '--retry', '--json')).json()).toMatchObject({ processed: 0 }); // no service yet
      expect((await cli('services', 'add', 'handyman', '--json')).json()).toMatchObject({ added: true });
      const retry = await cli('migrate', '--retry', '--json');
      // supabase/seed.sql: job g = 17k (not a multiple of 50) has a legacy slug,
      // handyman when g % 5 = 3, that is k % 5 = 4: k = 4, 9, ..., 114, 23 jobs.
      expect(retry.json()).toMatchObject({ processed: 23, succeeded: 23, failed: 0 });
    });

    it('checks the thresholds: 0 with no traffic, 2 when lookups fail beyond the critical limit', async () => {
      const { cli, sql } = await database('applied');
      const quiet = await cli('check', '--json');
      expect(quiet.code).toBe(0);
      await sql(`
        INSERT INTO analytics_events (event_name, event_category, event_properties)
        SELECT 'uuid_lookup', 'wizard_flow', jsonb_build_object(
          'micro_slug', 'tiling-floor', 'micro_uuid', CASE WHEN g % 4 = 0 THEN NULL ELSE '${'3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90'}' END,
          'lookup_time_ms', 30, 'success', g % 4 <> 0, 'fallback_used', false)
        FROM generate_series(1, 40) g`);
      const loud = await cli('check', '--json');
      expect(loud.code).toBe(2);
      const checks = loud.json<{ checks: { key: string; state: string; value: number }[] }>().checks;
      expect(checks.find((c) => c.key === 'lookup_failure_rate')).toMatchObject({ state: 'critical', value: 25 });
      expect(checks.find((c) => c.key === 'lookup_latency')).toMatchObject({ state: 'ok', value: 30 });
    });

    it('diagnoses the spec\'s troubleshooting items and names the fix', async () => {
      const { cli, sql } = await database('seeded');
      const embedded = (await snapshot('seeded')).args.includes('--data-dir');
      if (embedded) {
        // The embedded database runs no autovacuum: db seed and migrate analyze after their
        // writes, as it would, so the README's flow ends with a healthy doctor...
        const seeded = await cli('doctor');
        expect(seeded.code, seeded.stdout).toBe(0);
        expect((await cli('migrate')).code).toBe(0);
        const migrated = await cli('doctor');
        expect(migrated.code, migrated.stdout).toBe(0);
        // ...while the app's own writes leave the planner's statistics stale; the doctor says
        // so, and its fix, the spec's ANALYZE, is a command of the CLI's.
        await sql("INSERT INTO jobs (micro_id, title) SELECT 'wall-painting', 'more' FROM generate_series(1, 3000)");
        const stale = await cli('doctor');
        expect(stale.code).toBe(1);
        expect(stale.stdout).toContain('fix: npx uuid-lookup db analyze (or ANALYZE jobs;)');
      }
      const analyze = await cli('db', 'analyze', '--json');
      expect(analyze.code, analyze.stderr).toBe(0);
      expect(analyze.json()).toEqual({ analyzed: ['micro_services', 'jobs', 'uuid_migration_log', 'analytics_events'] });
      const healthy = await cli('doctor');
      expect(healthy.code, healthy.stdout).toBe(0);
      // The live rows are counted (the embedded database keeps no activity statistics across restarts).
      expect(healthy.stdout).toMatch(new RegExp(`ok +statistics of jobs: .*\\b${embedded ? 5000 : 2000} live`));
      await sql('DROP INDEX idx_jobs_micro_uuid');
      const sick = await cli('doctor');
      expect(sick.code).toBe(1);
      expect(sick.stdout).toContain('FAIL  index on jobs(micro_uuid): none');
      expect(sick.stdout).toContain('fix: CREATE INDEX IF NOT EXISTS idx_jobs_micro_uuid ON jobs(micro_uuid);');
    });

    it('reports lookup patterns, regions and journeys from the events of a session', async () => {
      const { cli, sql } = await database('applied');
      await sql(`
        INSERT INTO analytics_events (event_name, event_category, event_properties, session_id)
        SELECT 'uuid_lookup', 'wizard_flow', jsonb_build_object(
          'micro_slug', 'tiling-floor', 'micro_uuid', CASE WHEN g % 4 = 0 THEN NULL ELSE '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90' END,
          'lookup_time_ms', 30, 'success', g % 4 <> 0, 'fallback_used', false), 'cli-session'
        FROM generate_series(1, 40) g;
        INSERT INTO jobs (micro_id, session_id) VALUES ('tiling-floor', 'cli-session');`);
      const patterns = await cli('report', 'patterns', '--since', '1d', '--time-zone', 'Europe/Berlin', '--json');
      expect(patterns.code, patterns.stderr).toBe(0);
      const rows = patterns.json<{ rows: { lookups: number; failure_rate: number }[] }>().rows;
      expect(rows.reduce((n, r) => n + r.lookups, 0)).toBe(40);
      const regions = await cli('report', 'regions', '--json');
      expect(regions.json<{ rows: { region: string; lookups: number }[] }>().rows).toEqual([expect.objectContaining({ region: '(none)', lookups: 40 })]);
      const table = await cli('report', 'journeys');
      expect(table.stdout).toContain('Wizard sessions: submission after trouble');
      expect((await cli('report', 'patterns', '--time-zone', 'Mars/Olympus')).code).toBe(2);
    });

    it('answers bad input with one line and a non-zero exit, never a stack trace', async () => {
      const { cli } = await database('applied');
      for (const args of [['stats', '--database-url', 'not a url'], ['stats', '--database-url', 'mysql://x@y/z']]) {
        const run = await runCliCaptured(args);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^uuid-lookup: DATABASE_URL/);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
      const notify = await runCliCaptured(['worker', '--notify-url', 'not-a-url']);
      expect(notify.code).toBe(2);
      expect(notify.stderr).toContain("option '--notify-url <url>' argument 'not-a-url' is invalid. expected an absolute http(s) URL");
      const migrateBad = await cli('migrate', '--batch-size', '-5');
      expect(migrateBad.code).toBe(2);
      // One line and where to look, not the whole help.
      expect(migrateBad.stderr).toBe(
        "uuid-lookup: option '--batch-size <n>' argument '-5' is invalid. expected a whole number from 1 to 100000\n" +
          "(see 'uuid-lookup --help', or 'uuid-lookup <command> --help')\n",
      );
      // check: 3 (unknown) for anything that is not a measurement.
      expect((await cli('check', '--since', 'yesterday')).code).toBe(3);
      expect((await cli('check', '--no-such-flag')).code).toBe(3);
      expect((await runCliCaptured(['check', '--database-url', 'postgres://nobody@127.0.0.1:1/none'])).code).toBe(3);
      const rollbackBad = await cli('migrate', 'rollback', "1; DROP TABLE jobs");
      expect(rollbackBad.stderr).toContain('run id must be a UUID');
      expect(rollbackBad.code).toBe(2);
      expect((await cli('--help')).code).toBe(0);
    });
  });
}
