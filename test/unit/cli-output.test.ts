import { afterEach, describe, expect, it, vi } from 'vitest';
import { printRecord, printTable } from '../../src/cli/output.ts';

// The CLI's table printer, as `report regions` uses it: a report may have more rows
// than a JavaScript call takes arguments (200,000 regions made 200,000 rollup rows).
describe('CLI output', () => {
  afterEach(() => vi.restoreAllMocks());

  const capture = (): string[] => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    return written;
  };

  it('prints a table of 300,000 rows, its columns as wide as the widest cell', () => {
    const written = capture();
    const rows = Array.from({ length: 300_000 }, (_, i) => ({ region: `region-${i}`, lookups: i }));
    printTable(rows);
    expect(written).toHaveLength(1 + 300_000); // the header and its rule, then a write per row
    expect(written[0]).toBe(`${'region'.padEnd('region-299999'.length)}  lookups\n${'-'.repeat('region-299999'.length)}  -------\n`);
    expect(written.at(-1)).toBe('region-299999  299999\n');
  });

  it('aligns a record of many keys', () => {
    const written = capture();
    printRecord(Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i])), false);
    expect(written).toHaveLength(200_000);
    expect(written[0]).toBe(`${'k0'.padEnd('k199999'.length)}  0\n`);
  });
});
