import { describe, expect, it } from 'vitest';
import { createBatchSizer } from '../../src/node/migration/batch-sizer.ts';

// The back-fill's batch sizes aimed at a time per batch, against a database whose
// batch time is a fixed cost plus a cost per job (what the benchmarks show).
const batchMillis = (size: number, perJobMs: number, fixedMs = 5): number => fixedMs + size * perJobMs;

describe('batch sizer', () => {
  it('converges on the size whose batches take the target, by steps of at most x1.2 up', () => {
    const sizer = createBatchSizer({ targetMillis: 500 });
    let size = 1_000;
    const sizes: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const next = sizer.record(size, batchMillis(size, 0.02)).size;
      expect(next).toBeLessThanOrEqual(Math.round(size * 1.2));
      size = next;
      sizes.push(size);
    }
    // 500 ms at 0.02 ms a job (and 5 ms fixed) is about 24,750 jobs.
    expect(batchMillis(size, 0.02)).toBeGreaterThan(450);
    expect(batchMillis(size, 0.02)).toBeLessThan(550);
    expect(sizes.slice(-5).every((s) => Math.abs(s - size) / size < 0.05)).toBe(true);
  });

  it('shrinks by at most half a step when batches get slow (a busy database), and grows back', () => {
    const sizer = createBatchSizer({ targetMillis: 200 });
    let size = 10_000;
    for (let i = 0; i < 30; i += 1) size = sizer.record(size, batchMillis(size, 0.02)).size;
    const calm = size;
    const slow: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const next = sizer.record(size, batchMillis(size, 0.2)).size; // ten times the cost per job
      expect(next).toBeGreaterThanOrEqual(Math.floor(size * 0.5));
      size = next;
      slow.push(size);
    }
    expect(size).toBeLessThan(calm / 5);
    for (let i = 0; i < 40; i += 1) size = sizer.record(size, batchMillis(size, 0.02)).size;
    expect(Math.abs(size - calm) / calm).toBeLessThan(0.1);
  });

  it('stays within its bounds, and halves at once on a statement timeout', () => {
    const sizer = createBatchSizer({ targetMillis: 1_000, min: 50, max: 2_000 });
    let size = 1_000;
    for (let i = 0; i < 20; i += 1) size = sizer.record(size, batchMillis(size, 0.001)).size;
    expect(size).toBe(2_000);
    for (let i = 0; i < 20; i += 1) size = sizer.record(size, batchMillis(size, 50)).size;
    expect(size).toBe(50);
    expect(sizer.timedOut(50)).toBe(25);
    expect(sizer.timedOut(1)).toBe(1);
  });

  it('refuses a target or bounds that mean nothing', () => {
    expect(() => createBatchSizer({ targetMillis: 0 })).toThrow(/target batch time/);
    expect(() => createBatchSizer({ targetMillis: 100, min: 10, max: 5 })).toThrow(/bounds/);
  });
});
