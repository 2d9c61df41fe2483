import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMigrationWorker } from '../../src/node/worker/migration-worker.ts';
import { startJsonWebhook } from '../support/json-webhook.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

export function describeMigrationWorker(label: string, factory: TestDatabaseFactory): void {
  describe(`migration worker on ${label}`, () => {
    let t: TestDatabase;
    let hook: Awaited<ReturnType<typeof startJsonWebhook<Record<string, unknown>>>>;
    let notices: Record<string, unknown>[];
    let hookUrl = '';
    beforeEach(async () => {
      t = await factory();
      await t.db.exec(`
        INSERT INTO micro_services (slug) VALUES ('a'), ('b');
        INSERT INTO jobs (micro_id) SELECT (ARRAY['a', 'b', 'c'])[1 + g % 3] FROM generate_series(1, 300) g;
      `);
      hook = await startJsonWebhook();
      notices = hook.received;
      hookUrl = `${hook.url}/notify`;
    });
    afterEach(async () => {
      await hook.close();
      await t.dispose();
    });

    it('migrates on its schedule, retries when a service appears, notifies, and serves its metrics', async () => {
      const lines: Record<string, unknown>[] = [];
      const worker = createMigrationWorker({
        db: t.db,
        intervalMillis: 200,
        retryIntervalMillis: 300,
        batchSize: 50,
        metricsPort: 0,
        metricsHost: '127.0.0.1',
        notifyUrl: hookUrl,
        log: (line) => lines.push(line),
      });
      await worker.start();
      try {
        await expect.poll(() => lines.some((l) => l.event === 'run' && l.kind === 'new' && l.processed === 300), { timeout: 10_000 }).toBe(true);
        await t.db.exec("INSERT INTO micro_services (slug) VALUES ('c')");
        await expect.poll(() => lines.some((l) => l.event === 'run' && l.kind === 'retry' && l.processed === 100), { timeout: 10_000 }).toBe(true);
        const body = await (await fetch(worker.metricsUrl ?? '')).text();
        expect(body).toMatch(/^uuid_migration_worker_jobs_total\{status="success"\} 300$/m);
        expect(body).toMatch(/^uuid_migration_worker_jobs_total\{status="skipped"\} 100$/m);
        expect(body).toMatch(/^uuid_migration_worker_runs_total\{kind="new",result="ok"\} [1-9]/m);
        // Each batch timed (the dashboard's batch-time panel): as many as the log's batch lines, 8 for 300 + 100 jobs in batches of 50.
        const batches = lines.filter((l) => l.event === 'batch').length;
        expect(batches).toBe(8);
        expect(body).toMatch(new RegExp(`^uuid_migration_worker_batch_duration_seconds_count ${batches}$`, 'm'));
        expect(body).not.toContain('uuid_migration_worker_jobs_without_uuid'); // the exporter's uuid_migration_jobs_without_uuid counts it
        expect(body).toContain('process_cpu_user_seconds_total');
        expect(notices.filter((n) => n.event === 'run').map((n) => n.processed)).toEqual(expect.arrayContaining([300, 100]));
      } finally {
        await worker.stop();
      }
      expect(lines.filter((l) => l.event === 'run_failed')).toEqual([]);
    });

    it('reports a failing run and keeps going', async () => {
      const lines: Record<string, unknown>[] = [];
      const worker = createMigrationWorker({ db: t.db, log: (line) => lines.push(line), notifyUrl: hookUrl });
      await t.db.exec('ALTER TABLE micro_services RENAME COLUMN slug TO service_slug');
      await expect(worker.runOnce('new')).rejects.toThrow();
      expect(lines.at(-1)).toMatchObject({ event: 'run_failed', kind: 'new' });
      expect(notices.at(-1)).toMatchObject({ event: 'run_failed' });
      await t.db.exec('ALTER TABLE micro_services RENAME COLUMN service_slug TO slug');
      expect((await worker.runOnce('new')).processed).toBe(300);
      const body = await worker.registry.metrics();
      expect(body).toMatch(/uuid_migration_worker_runs_total\{kind="new",result="error"\} 1/);
      await worker.stop();
    });
  });
}
