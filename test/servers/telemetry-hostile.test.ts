import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOOKUP_DURATION, LOOKUP_DURATION_BUCKETS_SECONDS, LOOKUPS, PROMETHEUS_NAMES } from '../../src/contract/metrics.ts';
import { waitFor } from '../support/processes.ts';
import { parsePrometheusText } from '../support/prometheus-text.ts';
import type { Sample } from '../support/prometheus-text.ts';
import type { RunningCollector } from '../support/stack.ts';
import { repo, startCollector } from '../support/stack.ts';

// A page is not trusted: anyone can POST to the collector's OTLP endpoint what a tab
// would. One payload with 10,000 made-up slugs, a slug of 10,000 characters, labels
// the contract does not have and negative durations and counts must not grow what
// Prometheus scrapes without bound, nor stop the streams already counted.

type Attributes = Record<string, string>;
const attributes = (a: Attributes) => Object.entries(a).map(([key, value]) => ({ key, value: { stringValue: value } }));

/** An OTLP/JSON metrics request: delta points of the lookups counter and the duration histogram, as the browser preset sends. */
function payload(points: { attributes: Attributes; count: number; seconds: number }[]): string {
  const now = `${Date.now()}000000`;
  const buckets = (seconds: number, count: number): string[] => [
    ...LOOKUP_DURATION_BUCKETS_SECONDS.map((bound, i) => String(seconds <= bound && (i === 0 || seconds > (LOOKUP_DURATION_BUCKETS_SECONDS[i - 1] ?? 0)) ? count : 0)),
    String(seconds > (LOOKUP_DURATION_BUCKETS_SECONDS.at(-1) ?? 0) ? count : 0),
  ];
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: attributes({ 'service.name': 'booking-wizard' }) },
        scopeMetrics: [
          {
            scope: { name: 'uuid-lookup-observability' },
            metrics: [
              {
                name: LOOKUPS.name,
                unit: LOOKUPS.unit,
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: points.map((p) => ({ attributes: attributes(p.attributes), startTimeUnixNano: now, timeUnixNano: now, asInt: String(p.count) })),
                },
              },
              {
                name: LOOKUP_DURATION.name,
                unit: LOOKUP_DURATION.unit,
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: points.map((p) => ({
                    attributes: attributes(p.attributes),
                    startTimeUnixNano: now,
                    timeUnixNano: now,
                    count: String(Math.abs(p.count)),
                    sum: p.seconds * p.count,
                    bucketCounts: buckets(p.seconds, Math.abs(p.count)),
                    explicitBounds: LOOKUP_DURATION_BUCKETS_SECONDS,
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

const lookup = (slug: string, extra: Attributes = {}): Attributes => ({ outcome: 'success', fallback: 'false', micro_slug: slug, region: 'unknown', ...extra });

describe('the collector against a hostile page', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-hostile-'));
  let collector: RunningCollector;
  let samples: Sample[];
  const maxStreams = (parse(readFileSync(repo('otel-collector/config.yaml'), 'utf8')) as { processors: Record<string, { max_streams?: number }> }).processors.delta_to_cumulative?.max_streams ?? 0;

  const post = async (body: string): Promise<number> =>
    (await fetch(collector.otlpHttpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status;

  beforeAll(async () => {
    collector = await startCollector(dir);
    // A real tab's lookups first: their streams exist before the attack.
    expect(await post(payload([{ attributes: lookup('wall-painting'), count: 3, seconds: 0.02 }]))).toBe(200);
    // The odd points first, while there is room for new streams: the stream limit must not be what stops them.
    const hostile = [
      { attributes: lookup('x'.repeat(10_000)), count: 1, seconds: 0.01 },
      { attributes: lookup('tiling', { user_email: 'someone@example.com', session_id: 'abc' }), count: 1, seconds: 0.01 },
      { attributes: lookup('negative-duration'), count: 1, seconds: -5 },
      { attributes: lookup('negative-count'), count: -4, seconds: 0.01 },
      ...Array.from({ length: 10_000 }, (_, i) => ({ attributes: lookup(`made-up-${i}`), count: 1, seconds: 0.01 })),
    ];
    expect(await post(payload(hostile))).toBe(200);
    // And the real tab goes on.
    expect(await post(payload([{ attributes: lookup('wall-painting'), count: 2, seconds: 0.02 }]))).toBe(200);
    samples = await waitFor('the collector to expose the real tab\'s five lookups', async () => {
      const now = parsePrometheusText(await (await fetch(`http://${collector.address}/metrics`)).text());
      const real = now.find((s) => s.name === PROMETHEUS_NAMES.lookups && s.labels.micro_slug === 'wall-painting');
      return real?.value === 5 ? now : undefined;
    });
  }, 120_000);

  afterAll(async () => {
    await collector?.process.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const lookupSeries = (): Sample[] => samples.filter((s) => s.name.startsWith('uuid_lookup'));

  it('tracks at most max_streams streams, so the series it exposes are bounded; the streams it had go on', async () => {
    const slugs = new Set(lookupSeries().map((s) => s.labels.micro_slug));
    // 10,000 made-up slugs, a counter and a histogram stream each: not all of them; at most
    // max_streams of each kind (the limit holds for counters and histograms apart), the rest refused.
    expect(slugs.size).toBeLessThan(10_000);
    expect(slugs.size).toBeLessThanOrEqual(maxStreams);
    expect(lookupSeries().length).toBeLessThanOrEqual(maxStreams * (1 + LOOKUP_DURATION_BUCKETS_SECONDS.length + 3));
    const own = parsePrometheusText(await (await fetch(`http://${collector.telemetryAddress}/metrics`)).text());
    const refused = own.filter((s) => /deltatocumulative_datapoints/.test(s.name) && s.labels.error !== undefined).reduce((n, s) => n + s.value, 0);
    expect(refused).toBeGreaterThanOrEqual(2 * (10_000 - maxStreams));
    // The duration of the real tab's five lookups, all in the 25 ms bucket.
    const count = samples.find((s) => s.name === `${PROMETHEUS_NAMES.lookupDuration}_count` && s.labels.micro_slug === 'wall-painting');
    expect(count?.value).toBe(5);
  });

  it('keeps only the contract\'s labels, each value at most 200 characters', () => {
    const allowed = new Set(['outcome', 'fallback', 'micro_slug', 'region', 'reason', 'le', 'otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url', 'job', 'instance']);
    const keys = new Set(lookupSeries().flatMap((s) => Object.keys(s.labels)));
    expect([...keys].filter((k) => !allowed.has(k))).toEqual([]);
    const longest = lookupSeries().reduce((n, s) => Object.values(s.labels).reduce((m, v) => Math.max(m, v.length), n), 0);
    expect(longest).toBe(200); // the 10,000-character slug, cut
    expect(lookupSeries().some((s) => s.labels.micro_slug === 'tiling')).toBe(true); // its extra labels gone, the point kept
  });

  it('drops negative durations and negative counts', () => {
    expect(lookupSeries().filter((s) => s.name.startsWith(PROMETHEUS_NAMES.lookupDuration) && s.labels.micro_slug === 'negative-duration')).toEqual([]);
    expect(lookupSeries().filter((s) => s.name === PROMETHEUS_NAMES.lookups && s.labels.micro_slug === 'negative-count')).toEqual([]);
    expect(lookupSeries().filter((s) => s.value < 0)).toEqual([]);
  });
});
