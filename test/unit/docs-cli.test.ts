import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The README and the docs run the CLI one way: `npx uuid-lookup …`, which
// works in a clone after `npm ci` and wherever the package is installed (a bare
// `uuid-lookup` is on no one's PATH).
const root = path.resolve(import.meta.dirname, '../..');
const COMMANDS = ['demo', 'db', 'migrate', 'stats', 'report', 'check', 'doctor', 'services', 'worker', 'traffic'];
const invocation = new RegExp(`(\\S+)?(\\s*)\\buuid-lookup (?=(?:${COMMANDS.join('|')})\\b)`, 'g');

describe('how the docs run the CLI', () => {
  const docs = readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  it.each(['README.md', ...docs])('%s runs it as npx uuid-lookup, everywhere', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    const runs = [...text.matchAll(invocation)];
    if (['README.md', 'docs/runbook.md'].includes(file)) expect(runs.length).toBeGreaterThan(0);
    const others = runs.filter((m) => m[1] !== 'npx' && !(m[1] ?? '').endsWith('`npx')).map((m) => m[0]);
    expect(others).toEqual([]);
  });
});
