// npm run bench:sdk-load: 1,000,000 lookups logged while the analytics sink is
// slow (every write takes SINK_DELAY_MS). Prints JSON: the heap after each
// 100,000 lookups (after a full GC), what was delivered and what was dropped.
// Run with --expose-gc (the npm script does).
import type { AnalyticsSink } from '../src/core/analytics-sink.ts';
import { createUuidLookupLogger } from '../src/core/uuid-lookup-logger.ts';
import { createTestMeter } from '../test/support/metric-collection.ts';

const lookups = Number(process.env.LOOKUPS ?? 1_000_000);
const delay = Number(process.env.SINK_DELAY_MS ?? 20);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

let delivered = 0;
const slow: AnalyticsSink = {
  async write(rows) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delivered += rows.length;
    return { status: 'success' };
  },
};
const logger = createUuidLookupLogger({ meter: createTestMeter().provider.getMeter('load'), sink: slow, maxQueueSize: 1000 });
const uuid = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';
const heapMb: number[] = [];
const started = performance.now();
for (let i = 0; i < lookups; i += 1) {
  logger.logSuccess(`service-${i % 200}`, uuid, 10 + (i % 40));
  if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve)); // let I/O run, as an app would
  if (i % 100_000 === 99_999) {
    gc();
    heapMb.push(Number((process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1)));
  }
}
const seconds = (performance.now() - started) / 1000;
await logger.shutdown({ timeoutMillis: 2000 });
const dropped = logger.getDroppedCounts();
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'sdk-load',
      lookups,
      sink_delay_ms: delay,
      seconds: Number(seconds.toFixed(1)),
      heap_mb_every_100k: heapMb,
      heap_growth_mb: Number(((heapMb.at(-1) ?? 0) - (heapMb[0] ?? 0)).toFixed(1)),
      delivered,
      dropped,
      accounted: delivered + dropped.queue_full + dropped.shutdown === lookups,
      metrics: logger.getMetrics(),
    },
    null,
    2,
  )}\n`,
);
