import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Database } from '../../src/node/db/database.ts';
import { createLogin } from '../../src/node/db/logins.ts';
import { freePort } from '../../test/support/processes.ts';
import { toolBinary } from '../../test/support/tools.ts';

/**
 * The median of five scrapes of the Postgres exporter (the pinned build, npm run tools) running
 * the project's queries, without their 15 s cache, so each scrape runs the query.
 */
export async function exporterScrapeMs(db: Database, url: string): Promise<{ median_ms: number; uuid_migration_total_jobs: number } | { skipped: string }> {
  const role = `bench_exporter_${Math.random().toString(36).slice(2, 8)}`;
  const port = await freePort();
  const target = new URL(url);
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-bench-'));
  const queries = path.join(dir, 'queries.yml');
  const shipped = readFileSync(new URL('../../prometheus/postgres-exporter/queries.yml', import.meta.url), 'utf8');
  writeFileSync(queries, shipped.replace(/^\s*cache_seconds: \d+\n/m, ''));
  let binary: string;
  try {
    binary = toolBinary('postgres_exporter');
  } catch (error) {
    return { skipped: (error as Error).message };
  }
  await createLogin(db, role, 'uuid_migration_monitor', 'not-used-under-trust-auth');
  const exporter = spawn(
    binary,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      `--extend.query-path=${queries}`,
      '--disable-default-metrics',
      '--disable-settings-metrics',
    ],
    { env: { ...process.env, DATA_SOURCE_NAME: `postgresql://${role}@${target.host}${target.pathname}?sslmode=disable` }, stdio: 'ignore' },
  );
  const failed = new Promise<'failed'>((resolve) => exporter.once('error', () => resolve('failed')));
  try {
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (let i = 0; ; i += 1) {
      const ready = await Promise.race([scrape().then(() => 'up' as const, () => 'down' as const), failed]);
      if (ready === 'up') break;
      if (ready === 'failed' || i > 50) return { skipped: 'postgres_exporter did not start' };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const times: number[] = [];
    let body = '';
    for (let i = 0; i < 5; i += 1) {
      const start = performance.now();
      body = await scrape();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const total = /^uuid_migration_total_jobs(?:\{[^}]*\})? (\S+)$/m.exec(body)?.[1];
    return { median_ms: Number((times[2] ?? 0).toFixed(1)), uuid_migration_total_jobs: Number(total) };
  } finally {
    exporter.kill('SIGTERM');
    await new Promise((resolve) => (exporter.exitCode === null ? exporter.once('exit', resolve) : resolve(undefined)));
    // The login belongs to the cluster: it goes with the benchmark.
    await db.exec(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

