import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { onInterrupt } from './interrupt.ts';

/** A free TCP port on loopback (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A server process started for a test, with its output kept for failure messages. */
export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

// Servers started and not yet stopped: stopped too when this process exits, or when a
// benchmark run from a shell is interrupted (Ctrl-C, or `kill`), so no collector or
// Prometheus outlives the run that started it. Under vitest the runner handles signals.
const live = new Set<ChildProcess>();
let hooked = false;
function stopWithThisProcess(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGTERM');
  });
  // The 'exit' hook above stops them once the interrupt's cleanups are done.
  if (process.env.VITEST === undefined) onInterrupt(() => {});
}

export function startProcess(command: string, args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  stopWithThisProcess(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMillis`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMillis = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** How a CLI process ended, what it printed, and how long it took. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `uuid-lookup <args>` as its own Node process (src/cli/main.ts), as an
 * operator's shell does. `onStderr` sees stderr as it grows, with the child (to
 * signal it mid-run).
 */
export function runCliProcess(
  args: string[],
  options: { env?: Record<string, string>; onStderr?: (text: string, child: ChildProcess) => void } = {},
): Promise<CliExit> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
}
