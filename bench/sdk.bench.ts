// npm run bench:sdk: the SDK's hot paths against their baselines, measured in
// the same run (this machine is noisy: compare ratios, not absolute figures).
// Prints JSON. Needs PostgreSQL for the sink figures (TEST_PG_URL).
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AnalyticsSink } from '../src/core/analytics-sink.ts';
import { LOOKUP_DURATION, LOOKUP_DURATION_BUCKETS_SECONDS, LOOKUPS } from '../src/contract/metrics.ts';
import { createSlugResolver } from '../src/core/slug-resolver.ts';
import { createUuidLookupLogger } from '../src/core/uuid-lookup-logger.ts';
import { createPgAnalyticsSink } from '../src/node/sdk/pg-analytics-sink.ts';
import { toAnalyticsRow } from '../src/core/lookup-event.ts';
import { createTestMeter } from '../test/support/metric-collection.ts';
import { dropServerDatabasesOnInterrupt, serverTestDatabase } from '../test/support/test-databases.ts';

dropServerDatabasesOnInterrupt();

const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';
const SLUGS = Array.from({ length: 50 }, (_, i) => `service-${i}`);

/**
 * Median ns per operation over `rounds` rounds of `n` operations, timed in
 * chunks of `chunk` with `between` (untimed) after each: the logger's queue is
 * drained between chunks as an application's I/O would let it, so the figure is
 * the hot path, not a queue overflowing inside a tight loop.
 */
async function nsPerOpChunked(n: number, rounds: number, chunk: number, op: (i: number) => void, between: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    let elapsed = 0n;
    for (let done = 0; done < n; done += chunk) {
      const start = process.hrtime.bigint();
      for (let i = done; i < done + chunk; i += 1) op(i);
      elapsed += process.hrtime.bigint() - start;
      await between();
    }
    samples.push(Number(elapsed) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)] ?? Number.NaN;
}

/** Median ns per operation over `rounds` rounds of `n` operations. */
function nsPerOp(n: number, rounds: number, op: (i: number) => void): number {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i += 1) op(i);
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)] ?? Number.NaN;
}

async function nsPerAsyncOp(n: number, rounds: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i += 1) await op(i);
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)] ?? Number.NaN;
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

// 1. logSuccess against the bare OTel pair it wraps, each on its own real MeterProvider.
const discard: AnalyticsSink = { write: async () => ({ status: 'success' }) };
const loggerMeter = createTestMeter().provider.getMeter('bench');
const logger = createUuidLookupLogger({ meter: loggerMeter, sink: discard, maxQueueSize: 100_000, knownSlugs: SLUGS });
const bareMeter = createTestMeter().provider.getMeter('bench');
const histogram = bareMeter.createHistogram(LOOKUP_DURATION.name, {
  unit: LOOKUP_DURATION.unit,
  advice: { explicitBucketBoundaries: [...LOOKUP_DURATION_BUCKETS_SECONDS] },
});
const counter = bareMeter.createCounter(LOOKUPS.name, { unit: LOOKUPS.unit });
const n = 200_000;
const rounds = 7;
const bare = (i: number): void => {
  const attributes = { outcome: 'success', fallback: 'false', micro_slug: SLUGS[i % 50] as string };
  histogram.record(0.025, attributes);
  counter.add(1, attributes);
};
const logged = (i: number): void => logger.logSuccess(SLUGS[i % 50] as string, UUID, 25, false);
const drain = () => logger.flush();
// Warm up both, then interleave the measurements; both get the same untimed pauses.
await nsPerOpChunked(n, 2, 1000, bare, drain);
await nsPerOpChunked(n, 2, 1000, logged, drain);
const bareNs: number[] = [];
const loggedNs: number[] = [];
for (let k = 0; k < 3; k += 1) {
  bareNs.push(await nsPerOpChunked(n, rounds, 1000, bare, drain));
  loggedNs.push(await nsPerOpChunked(n, rounds, 1000, logged, drain));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

// 2. A cached resolve against Map.get.
const resolver = createSlugResolver({
  source: { lookup: async (slugs) => new Map(slugs.map((s) => [s, UUID])) },
  logger,
});
await resolver.resolveMany(SLUGS);
const map = new Map(SLUGS.map((s) => [s, UUID]));
let sink = 0;
const mapNs = nsPerOp(1_000_000, rounds, (i) => {
  if (map.get(SLUGS[i % 50] as string) !== undefined) sink += 1;
});
const resolveNs = await nsPerAsyncOp(1_000_000, rounds, (i) => resolver.resolve(SLUGS[i % 50] as string));
const peekNs = nsPerOp(1_000_000, rounds, (i) => {
  if (resolver.peek(SLUGS[i % 50] as string) !== undefined) sink += 1;
});

// 3. Events per second through the node-postgres sink into the real server, against COPY.
const events = 50_000;
const t = await serverTestDatabase();
let sinkFigures: Record<string, number>;
try {
  const rowsFor = (count: number) =>
    Array.from({ length: count }, (_, i) =>
      toAnalyticsRow({
        id: crypto.randomUUID(),
        microSlug: SLUGS[i % 50] as string,
        microUuid: UUID,
        lookupTimeMs: 25,
        success: true,
        fallbackUsed: false,
        createdAtMillis: Date.now(),
      }),
    );
  const copyRows = rowsFor(events);
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  const start = performance.now();
  const text = copyRows
    .map((r) => [r.id, r.event_name, r.event_category, JSON.stringify(r.event_properties), r.client_created_at].join('\t'))
    .join('\n') + '\n';
  await pipeline(
    Readable.from([text]),
    client.query(copyFrom('COPY analytics_events (id, event_name, event_category, event_properties, client_created_at) FROM STDIN')),
  );
  const copyMs = performance.now() - start;
  await client.query('TRUNCATE analytics_events');
  await client.end();

  const throughput = async (batchSize: number): Promise<number> => {
    const pgSink = createPgAnalyticsSink({ db: t.db });
    const sinkLogger = createUuidLookupLogger({ meter: loggerMeter, sink: pgSink, maxExportBatchSize: batchSize, maxQueueSize: events });
    const begin = performance.now();
    for (let i = 0; i < events; i += 1) sinkLogger.logSuccess(SLUGS[i % 50] as string, UUID, 25, false);
    await sinkLogger.shutdown({ timeoutMillis: 600_000 });
    return (events / (performance.now() - begin)) * 1000;
  };
  const batch10 = await throughput(10);
  const batch500 = await throughput(500);
  const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_events');
  sinkFigures = {
    events,
    copy_events_per_second: Math.round((events / copyMs) * 1000),
    pg_sink_batch_10_events_per_second: Math.round(batch10),
    pg_sink_batch_500_events_per_second: Math.round(batch500),
    ratio_batch_500_to_copy: round(batch500 / ((events / copyMs) * 1000), 2),
    rows_landed: rows[0]?.n ?? 0,
  };
} finally {
  await t.dispose();
}

process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'sdk',
      node: process.version,
      log_success: {
        bare_otel_pair_ns: round(median(bareNs)),
        log_success_ns: round(median(loggedNs)),
        ratio: round(median(loggedNs) / median(bareNs), 2),
        target_ratio_max: 1.25,
      },
      resolve_cached: {
        map_get_ns: round(mapNs),
        resolve_await_ns: round(resolveNs),
        peek_ns: round(peekNs),
        target_ns_max: 200,
      },
      sink: sinkFigures,
      checksum: sink > 0,
    },
    null,
    2,
  )}\n`,
);
