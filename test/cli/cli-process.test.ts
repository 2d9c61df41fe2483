import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../support/processes.ts';

// The command line as a shell runs it: its own process, its stdout a pipe.
const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

describe('uuid-lookup as a process', () => {
  it('prints the package version with --version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runCliProcess(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('stops quietly when the reader of its output goes away (… | head), with no stack trace', async () => {
    const child = spawn(process.execPath, [main, 'mixin', 'config'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // as head does once it has its lines
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
