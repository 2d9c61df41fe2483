import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS, renderApiReport } from '../../scripts/api-report.ts';

// A change to what users can import shows in review: the committed report must
// be what the code exports. After a deliberate change: npm run api:report.
describe('the public API', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

  it('is what api/public-api.txt says, entry point by entry point', () => {
    expect(renderApiReport(root)).toBe(readFileSync(`${root}/api/public-api.txt`, 'utf8'));
  });

  it('covers every entry point of package.json', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { name: string; exports: Record<string, unknown> };
    const entries = Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
    expect(Object.keys(ENTRY_POINTS).sort()).toEqual(entries.sort());
  });
});
