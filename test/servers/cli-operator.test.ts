import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';
import type { CliExit } from '../support/processes.ts';
import { freePort, runCliProcess } from '../support/processes.ts';
import { asPostgres, clusterDirectory } from '../support/pg-cluster.ts';

// What an operator meets from a shell: the CLI as its own process against real
// servers, with the environment they happen to have.

const main = path.resolve('src/cli/main.ts');

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliExit> => runCliProcess(args, { env });

describe('the CLI against a server that wants a password', () => {
  let dir: string;
  let port: number;
  beforeAll(async () => {
    // A cluster of its own with SCRAM authentication (the machine's own trusts everyone).
    dir = clusterDirectory('uuid-lookup-scram-');
    port = await freePort();
    writeFileSync(path.join(dir, 'pw'), 'a-long-test-password\n');
    asPostgres('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${path.join(dir, 'pw')}`]);
    asPostgres('pg_ctl', ['-D', path.join(dir, 'data'), '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  }, 60_000);
  afterAll(() => {
    asPostgres('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says at once that the URL has no password, and exits', async () => {
    const run = await cli(['stats', '--database-url', `postgres://postgres@127.0.0.1:${port}/postgres`], { PGPASSWORD: '' });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(
      'uuid-lookup: the server asks for a password and the URL has none: put it in the URL (postgres://user:PASSWORD@host:5432/db) or in PGPASSWORD [28000]',
    );
    // The server's authentication_timeout is 60 s: the process must not wait for it.
    expect(run.ms).toBeLessThan(10_000);
    const right = await cli(['db', 'apply', '--database-url', `postgres://postgres:a-long-test-password@127.0.0.1:${port}/postgres`]);
    expect(right.code, right.stderr).toBe(0);
  });
});

describe('the CLI against a server that never answers', () => {
  it('gives up after the connect timeout (PGCONNECT_TIMEOUT) with one line', async () => {
    // A listener that accepts and says nothing, as a firewall that drops replies would.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const run = await cli(['stats', '--database-url', `postgres://postgres@127.0.0.1:${port}/postgres`], { PGCONNECT_TIMEOUT: '2' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^uuid-lookup: no answer from the server within the connect timeout/);
      expect(run.ms).toBeLessThan(8_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('the demo and the worker on a shell with a DATABASE_URL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await serverTestDatabase();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('runs the demo on its own embedded database, never on the DATABASE_URL left in the shell', async () => {
    const run = await cli(['demo', '--jobs', '1000', '--lookups', '50', '--json'], { DATABASE_URL: t.url ?? '' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ database: 'pglite' });
    const { rows } = await t.db.query<{ jobs: number; services: number }>(
      'SELECT (SELECT count(*)::int FROM jobs) AS jobs, (SELECT count(*)::int FROM micro_services) AS services',
    );
    expect(rows[0]).toEqual({ jobs: 0, services: 0 });
  });

  it('writes simulated data into a server only when told --allow-simulated-data (demo and traffic)', async () => {
    const counts = async () =>
      (await t.db.query<{ jobs: number; services: number; events: number }>(
        'SELECT (SELECT count(*)::int FROM jobs) AS jobs, (SELECT count(*)::int FROM micro_services) AS services, (SELECT count(*)::int FROM analytics_events) AS events',
      )).rows[0];
    const before = await counts();
    const host = new URL(t.url ?? '').pathname;
    const demo = await cli(['demo', '--database-url', t.url ?? '', '--jobs', '1000', '--lookups', '50']);
    expect(demo.code).toBe(1);
    expect(demo.stderr).toBe(
      `uuid-lookup: demo writes simulated services, 1000 jobs and lookup events into PostgreSQL at 127.0.0.1:5432${host}, where they would mix with real data. ` +
        'Run it on the embedded database (no --database-url); for a server made for it, add --allow-simulated-data\n',
    );
    for (const args of [['--database-url', t.url ?? ''], []]) {
      const traffic = await cli(['traffic', ...args, '--prometheus-port', '65000', '--duration', '1'], { DATABASE_URL: t.url ?? '' });
      expect(traffic.code).toBe(1);
      expect(traffic.stderr).toContain(`traffic writes simulated lookup events into PostgreSQL at 127.0.0.1:5432${host}`);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses a metrics port in use with one line and exit 1, and binds the address it prints', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const run = await cli(['worker', '--database-url', t.url ?? '', '--metrics-port', String(port)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`uuid-lookup: the metrics port 127.0.0.1:${port} is in use: pick another with --metrics-port\n`);
      const traffic = await cli(['traffic', '--database-url', t.url ?? '', '--allow-simulated-data', '--prometheus-port', String(port), '--duration', '5']);
      expect(traffic.code).toBe(1);
      expect(traffic.stderr).toBe(`uuid-lookup: the metrics port 127.0.0.1:${port} is in use: pick another with --prometheus-port\n`);
    } finally {
      taken.close();
    }
    const free = await freePort();
    const child = spawn(process.execPath, [main, 'worker', '--database-url', t.url ?? '', '--metrics-port', String(free), '--interval', '3600'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const deadline = Date.now() + 20_000;
      while (!stderr.includes('metrics at') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stderr).toContain(`metrics at http://127.0.0.1:${free}/metrics`);
      const response = await fetch(`http://127.0.0.1:${free}/metrics`);
      expect(response.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
