import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOOKUP_DURATION_BUCKETS_MS, LOOKUP_DURATION_BUCKETS_SECONDS } from '../../src/contract/metrics.ts';
import { MIGRATION_SHARDS } from '../../src/contract/migration.ts';
import { specQueries } from '../../src/contract/spec-queries.ts';
import { thresholdFor } from '../../src/contract/thresholds.ts';

// The contract's values are spelled once in TypeScript; where SQL must spell
// them again, these tests hold the SQL to them.

const migrations = new URL('../../supabase/migrations/', import.meta.url);
const sql = readdirSync(migrations)
  .filter((name) => name.endsWith('.sql'))
  .map((name) => ({ name, text: readFileSync(new URL(name, migrations), 'utf8') }));

describe('the contract and the SQL that restates it', () => {
  it('gives the rollups the histogram buckets of the SDK, in ms', () => {
    // Every latency bucket list in the migrations: the rollup's ARRAY[5, 10, ...] of bounds.
    const arrays = sql.flatMap(({ name, text }) =>
      [...text.matchAll(/ARRAY\[(5, 10, 25[^\]]*)\]/g)].map((m) => ({ name, bounds: (m[1] ?? '').split(',').map(Number) })),
    );
    expect(arrays.length).toBeGreaterThan(0);
    for (const { name, bounds } of arrays) expect(bounds, name).toEqual(LOOKUP_DURATION_BUCKETS_MS);
    // 13 buckets: the bounds and the open-ended one, as the rollup's default says.
    const defaults = sql.flatMap(({ text }) => [...text.matchAll(/duration_buckets bigint\[\] NOT NULL DEFAULT '\{([0-9,]+)\}'/g)]);
    for (const d of defaults) expect((d[1] ?? '').split(',')).toHaveLength(LOOKUP_DURATION_BUCKETS_MS.length + 1);
  });

  it('has histogram boundaries at the latency thresholds exactly, in seconds and ms', () => {
    const latency = thresholdFor('lookup_latency');
    for (const limit of [latency.warning, latency.critical]) {
      expect(LOOKUP_DURATION_BUCKETS_MS).toContain(limit);
      expect(LOOKUP_DURATION_BUCKETS_SECONDS).toContain(limit / 1000);
    }
  });

  it("keeps the spec's slow-lookup bound (verbatim in its query) at the critical latency", () => {
    const bound = /lookup_time_ms'\)::numeric > (\d+)/.exec(specQueries.slowLookups.sql)?.[1];
    expect(Number(bound)).toBe(thresholdFor('lookup_latency').critical);
  });

  it('cuts the id space into as many shards in SQL as the runner uses', () => {
    const picks = sql.filter(({ text }) => text.includes('shard must be between 0 and'));
    expect(picks.length).toBeGreaterThan(0);
    for (const { name, text } of picks) {
      expect(text, name).toContain(`shard must be between 0 and ${MIGRATION_SHARDS - 1}`);
      expect(text, name).toContain(`p_shard > ${MIGRATION_SHARDS - 1}`);
    }
  });
});
