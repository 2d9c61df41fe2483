import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import { createNodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';
import { freePort } from '../support/processes.ts';

// The Node preset in a plain Node process with no collector: shutdown() is
// bounded, a process that never calls it exits when its work is done, and the
// failing export is reported once. Real child processes, real sockets.

interface ChildRun {
  /** What the child printed when its work was done. */
  result: { done: boolean; shutdownMillis: number | null };
  /** From that line to the process's exit. */
  lingerMillis: number;
  stderr: string;
  code: number | null;
}

const child = new URL('../support/telemetry-child.ts', import.meta.url).pathname;

async function runChild(config: Record<string, unknown>): Promise<ChildRun> {
  const proc = spawn(process.execPath, [child, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let doneAt: number | undefined;
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (doneAt === undefined && stdout.includes('"done"')) doneAt = performance.now();
  });
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  clearTimeout(killer);
  const exitedAt = performance.now();
  const line = stdout.split('\n').find((l) => l.includes('"done"'));
  if (line === undefined || doneAt === undefined) throw new Error(`the child did not finish its work (exit ${code}):\n${stdout}\n${stderr}`);
  return { result: JSON.parse(line) as ChildRun['result'], lingerMillis: exitedAt - doneAt, stderr, code };
}

/** Lines of the child's stderr that tell of a failing export (our report, or OpenTelemetry's diagnostics). */
const failureReports = (stderr: string): string[] => stderr.split('\n').filter((l) => /export|ECONNREFUSED/i.test(l));

describe('the Node preset without a collector, in a plain Node process', () => {
  let closedUrl: string;
  // A "collector" that accepts connections and never answers.
  let silent: net.Server;
  let silentUrl: string;
  const held = new Set<net.Socket>();
  beforeAll(async () => {
    closedUrl = `http://127.0.0.1:${await freePort()}/v1/metrics`;
    silent = net.createServer((socket) => {
      held.add(socket);
      socket.on('error', () => {});
      socket.resume(); // read and ignore the request; never answer
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/v1/metrics`;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('shuts down within its bound (default 2 s) when nothing listens, and the process exits right after', async () => {
    const run = await runChild({ url: closedUrl, prometheusPort: await freePort(), shutdown: true, workMillis: 200 });
    expect(run.code).toBe(0);
    expect(run.result.shutdownMillis).toBeLessThan(3_000);
    expect(run.lingerMillis).toBeLessThan(3_000);
    expect(failureReports(run.stderr)).toHaveLength(1);
  });

  it('shuts down within its bound when the collector never answers, and the bound is configurable', async () => {
    const byDefault = await runChild({ url: silentUrl, prometheusPort: await freePort(), shutdown: true, workMillis: 200 });
    expect(byDefault.result.shutdownMillis).toBeLessThan(3_000);
    expect(byDefault.lingerMillis).toBeLessThan(3_000);
    const short = await runChild({ url: silentUrl, prometheusPort: await freePort(), shutdown: true, shutdownTimeoutMillis: 300, workMillis: 200 });
    expect(short.result.shutdownMillis).toBeGreaterThanOrEqual(250);
    expect(short.result.shutdownMillis).toBeLessThan(1_500);
    expect(failureReports(short.stderr)).toHaveLength(1);
  });

  it('lets a process that never calls shutdown exit when its work is done, with an export in flight, reporting the failure once', async () => {
    // Exports every 300 ms for 2 s: several fail, one is in flight when the work ends.
    const run = await runChild({ url: closedUrl, prometheusPort: await freePort(), shutdown: false, exportIntervalMillis: 300, workMillis: 2_000 });
    expect(run.code).toBe(0);
    expect(run.lingerMillis).toBeLessThan(3_000);
    expect(failureReports(run.stderr), run.stderr).toHaveLength(1);
  });
});

describe('export failures are reported once per outage', () => {
  it('reports the first failure, not the next ones, and again after the collector recovered and failed anew', async () => {
    const port = await freePort();
    const errors: string[] = [];
    const telemetry = createNodeTelemetry({
      serviceName: 'reporting',
      otlp: { url: `http://127.0.0.1:${port}/v1/metrics`, exportIntervalMillis: 3_600_000 },
      onExportError: (error) => errors.push(error.message),
    });
    createUuidLookupLogger({ meter: telemetry.meter }).logSuccess('wall-painting', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 25);
    await telemetry.meterProvider.forceFlush(); // no collector: reported
    await telemetry.meterProvider.forceFlush(); // still none: not again
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('ECONNREFUSED');

    let received = 0;
    const collector = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(port, '127.0.0.1', resolve));
    await telemetry.meterProvider.forceFlush(); // recovered
    expect(received).toBe(1);
    await new Promise<void>((resolve) => {
      collector.close(() => resolve());
      collector.closeAllConnections();
    });
    await telemetry.meterProvider.forceFlush(); // failing again: reported again
    expect(errors).toHaveLength(2);
    await telemetry.shutdown();
    expect(errors).toHaveLength(2);
  });

  it('refuses a timeout that is not a positive number of milliseconds', () => {
    expect(() => createNodeTelemetry({ serviceName: 's', shutdownTimeoutMillis: 0 })).toThrow(
      'uuid-lookup: shutdownTimeoutMillis must be a positive number of milliseconds, got 0',
    );
    expect(() => createNodeTelemetry({ serviceName: 's', otlp: { timeoutMillis: Number.NaN } })).toThrow('otlp.timeoutMillis');
  });
});
