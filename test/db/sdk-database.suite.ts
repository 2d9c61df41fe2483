import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '@supabase/supabase-js';
import type { AnalyticsSink } from '../../src/core/analytics-sink.ts';
import type { AnalyticsEventRow } from '../../src/core/lookup-event.ts';
import { createSlugResolver } from '../../src/core/slug-resolver.ts';
import { createSupabaseAnalyticsSink } from '../../src/core/supabase-analytics-sink.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import type { Database } from '../../src/node/db/database.ts';
import { foldLookupRollups } from '../../src/node/reports/lookup-analytics.ts';
import { createPgAnalyticsSink } from '../../src/node/sdk/pg-analytics-sink.ts';
import { createPgSlugSource } from '../../src/node/sdk/pg-slug-source.ts';
import { createTestMeter } from '../support/metric-collection.ts';
import { startPostgrestInsert } from '../support/postgrest-insert.ts';
import type { TestDatabase, TestDatabaseFactory } from '../support/test-databases.ts';

// The SDK's node-postgres sink and slug source against a real database (PGlite
// in sdk-database.pglite.test.ts, PostgreSQL in test/servers).

const SPEC_LOOKUP_PERFORMANCE = `
  SELECT event_properties->>'micro_slug' as service,
         COUNT(*) as lookups,
         AVG((event_properties->>'lookup_time_ms')::numeric) as avg_time_ms,
         SUM(CASE WHEN (event_properties->>'success')::boolean THEN 1 ELSE 0 END) as successful,
         SUM(CASE WHEN (event_properties->>'fallback_used')::boolean THEN 1 ELSE 0 END) as fallbacks
  FROM analytics_events
  WHERE event_name = 'uuid_lookup' AND created_at > NOW() - INTERVAL '7 days'
  GROUP BY service ORDER BY lookups DESC`;

export function describeSdkDatabase(label: string, factory: TestDatabaseFactory): void {
  describe(`SDK against ${label}`, () => {
    let t: TestDatabase;
    let db: Database;
    let wallPainting: string;
    beforeEach(async () => {
      t = await factory();
      db = t.db;
      const { rows } = await db.query<{ id: string }>(
        "INSERT INTO micro_services (slug) VALUES ('wall-painting'), ('tiling') RETURNING id",
      );
      wallPainting = rows[0]!.id;
    });
    afterEach(async () => {
      await t.dispose();
    });

    const newLogger = () =>
      createUuidLookupLogger({ meter: createTestMeter().provider.getMeter('t'), sink: createPgAnalyticsSink({ db }) });

    it('writes events the spec\'s lookup-performance query reads, with the server\'s created_at', async () => {
      const logger = newLogger();
      logger.logSuccess('wall-painting', wallPainting, 20, false);
      logger.logSuccess('wall-painting', wallPainting, 40, true);
      logger.logFailure('unknown-service', 15, 'Service not found');
      await logger.flush();
      const { rows } = await db.query<Record<string, string>>(SPEC_LOOKUP_PERFORMANCE);
      expect(rows.map((r) => ({ ...r, avg_time_ms: Number(r.avg_time_ms) }))).toEqual([
        { service: 'wall-painting', lookups: expect.anything(), avg_time_ms: 30, successful: expect.anything(), fallbacks: expect.anything() },
        { service: 'unknown-service', lookups: expect.anything(), avg_time_ms: 15, successful: expect.anything(), fallbacks: expect.anything() },
      ]);
      expect(rows.map((r) => [Number(r.lookups), Number(r.successful), Number(r.fallbacks)])).toEqual([[2, 2, 1], [1, 0, 0]]);
      const times = await db.query<{ server: boolean }>(
        "SELECT bool_and(created_at > now() - interval '1 minute' AND client_created_at IS NOT NULL) AS server FROM analytics_events",
      );
      expect(times.rows[0]?.server).toBe(true);
    });

    it("lands the spec's usage example as written: 'uuid-123' counts as a successful lookup, in the spec's query and the rollups", async () => {
      const uuidLookupLogger = newLogger();
      const printed: unknown[] = [];
      const console = { log: (value: unknown) => void printed.push(value) };

      // The spec's usage block, verbatim (its import line aside).
      // Log successful lookup
      uuidLookupLogger.logSuccess(
        'wall-painting',
        'uuid-123',
        25, // lookup time in ms
        false // fallback used?
      );

      // Log failed lookup
      uuidLookupLogger.logFailure(
        'unknown-service',
        15,
        'Service not found'
      );

      // Get current metrics
      const metrics = uuidLookupLogger.getMetrics();
      console.log({
        totalLookups: metrics.totalLookups,
        successRate: (metrics.successfulLookups / metrics.totalLookups) * 100,
        avgTime: metrics.averageLookupTime,
        fallbackRate: metrics.fallbackRate
      });
      // End of the spec's block.

      expect(printed).toEqual([{ totalLookups: 2, successRate: 50, avgTime: 20, fallbackRate: 0 }]);
      await uuidLookupLogger.shutdown();
      expect(uuidLookupLogger.getDroppedCounts()).toMatchObject({ rejected: 0, shutdown: 0 });
      const stored = await db.query<{ p: Record<string, unknown> }>(
        "SELECT event_properties AS p FROM analytics_events WHERE event_name = 'uuid_lookup' ORDER BY event_properties->>'micro_slug' DESC",
      );
      expect(stored.rows.map((r) => r.p)).toEqual([
        { micro_slug: 'wall-painting', micro_uuid: null, micro_uuid_raw: 'uuid-123', lookup_time_ms: 25, success: true, fallback_used: false },
        { micro_slug: 'unknown-service', micro_uuid: null, lookup_time_ms: 15, success: false, fallback_used: false, error_message: 'Service not found' },
      ]);
      // The spec's lookup-performance query (one lookup each: sorted by service here).
      const { rows } = await db.query<Record<string, string>>(SPEC_LOOKUP_PERFORMANCE);
      const byService = rows
        .map((r) => [r.service, Number(r.lookups), Number(r.avg_time_ms), Number(r.successful), Number(r.fallbacks)])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(byService).toEqual([
        ['unknown-service', 1, 15, 0, 0],
        ['wall-painting', 1, 25, 1, 0],
      ]);
      // The Phase 6 rollups count it the same way, once folded.
      await foldLookupRollups(db);
      const hourly = await db.query<{ lookups: number; failures: number; fallbacks: number }>(
        'SELECT sum(lookups)::int AS lookups, sum(failures)::int AS failures, sum(fallbacks)::int AS fallbacks FROM analytics_lookup_hourly',
      );
      expect(hourly.rows[0]).toEqual({ lookups: 2, failures: 1, fallbacks: 0 });
    });

    // The event CHECK (analytics_events_uuid_lookup_shape) with the raw-UUID shape of 20261128001000.
    const shape = (properties: Record<string, unknown>): AnalyticsEventRow => ({
      id: crypto.randomUUID(),
      event_name: 'uuid_lookup',
      event_category: 'wizard_flow',
      event_properties: { micro_slug: 'a', micro_uuid: null, lookup_time_ms: 3, success: true, fallback_used: false, ...properties } as AnalyticsEventRow['event_properties'],
      client_created_at: new Date().toISOString(),
    });
    const shapes: [string, 'success' | 'rejected', Record<string, unknown>][] = [
      ['a success with the app\'s text and no UUID', 'success', { micro_uuid_raw: 'uuid-123' }],
      ['a success with an empty text', 'success', { micro_uuid_raw: '' }],
      ['a text of 128 characters', 'success', { micro_uuid_raw: 'x'.repeat(128) }],
      ['a text of 129 characters', 'rejected', { micro_uuid_raw: 'x'.repeat(129) }],
      ['a text that is not a string', 'rejected', { micro_uuid_raw: 123 }],
      ['both a UUID and a text', 'rejected', { micro_uuid: '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', micro_uuid_raw: 'uuid-123' }],
      ['a failure with a text', 'rejected', { success: false, micro_uuid_raw: 'uuid-123' }],
      ['a success with neither', 'rejected', {}],
      ['a non-UUID in micro_uuid', 'rejected', { micro_uuid: 'uuid-123' }],
    ];
    it('takes a success whose UUID is not one as micro_uuid null plus micro_uuid_raw, and nothing looser', async () => {
      const sink = createPgAnalyticsSink({ db });
      const outcomes: [string, string][] = [];
      for (const [name, , properties] of shapes) outcomes.push([name, (await sink.write([shape(properties)])).status]);
      expect(outcomes).toEqual(shapes.map(([name, expected]) => [name, expected]));
    });

    it('lands a retried batch once', async () => {
      const sink = createPgAnalyticsSink({ db });
      const row: AnalyticsEventRow = {
        id: crypto.randomUUID(),
        event_name: 'uuid_lookup',
        event_category: 'wizard_flow',
        event_properties: { micro_slug: 'tiling', micro_uuid: null, lookup_time_ms: 3, success: false, fallback_used: false },
        client_created_at: new Date().toISOString(),
      };
      expect(await sink.write([row])).toEqual({ status: 'success' });
      expect(await sink.write([row])).toEqual({ status: 'success' });
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_events');
      expect(rows[0]?.n).toBe(1);
    });

    // The public path: supabase-js as anon, a plain INSERT (no SELECT right, no
    // ON CONFLICT). The primary key refuses an id already stored (23505, 409).
    it('lands through supabase-js as anon every row once: after a lost reply, after a page-hide write that landed, and after one whose reply was lost', async () => {
      const endpoint = await startPostgrestInsert(db);
      try {
        const client = createClient(endpoint.url, 'anon-key', { auth: { persistSession: false, autoRefreshToken: false } });
        // The sink as the SDK makes it, with each page-hide reply kept: awaiting it
        // (settled, then one step) comes after the logger's own handler of it ran.
        const sink = createSupabaseAnalyticsSink({ client });
        const pageHideReplies: Promise<unknown>[] = [];
        const pageHideObserved: AnalyticsSink = {
          write: (rows) => sink.write(rows),
          writeOnPageHide: (rows) => {
            const reply = sink.writeOnPageHide?.(rows);
            if (reply !== undefined) pageHideReplies.push(reply.catch(() => undefined));
            return reply;
          },
        };
        const logger = createUuidLookupLogger({
          meter: createTestMeter().provider.getMeter('t'),
          sink: pageHideObserved,
          maxExportBatchSize: 10,
          initialRetryDelayMillis: 1,
          maxRetryDelayMillis: 5,
        });
        // A batch of ten commits, and its reply is lost: the retry meets ten stored ids.
        for (let i = 0; i < 10; i += 1) logger.logSuccess('wall-painting', wallPainting, 10 + i);
        endpoint.loseNextReply();
        await logger.flush();
        await vi.waitFor(() => expect(endpoint.statuses.filter((s) => s === 409).length).toBe(19), { timeout: 5000 });
        // The endpoint records a status before its reply is on the way: the logger is
        // done with the batch only when its flush (the one in flight) has ended.
        await logger.flush();
        // Halves of halves down to single rows: 2 x 10 - 1 refused requests, each single row counted as landed.
        expect(endpoint.statuses).toEqual([503, ...Array<number>(19).fill(409)]);

        // The tab goes hidden and comes back: the page-hide path sends its rows,
        // learns they landed, and the queue forgets them: nothing is sent again.
        for (let i = 0; i < 3; i += 1) logger.logFailure('tiling', 5, 'Service not found');
        logger.flushOnPageHide();
        expect(pageHideReplies).toHaveLength(1);
        await pageHideReplies[0]; // the reply reaches the page
        expect(endpoint.statuses).toHaveLength(21);
        await logger.flush();
        expect(endpoint.statuses).toHaveLength(21);
        expect(endpoint.statuses[20]).toBe(201);

        // Again, but the page-hide reply is lost: its three rows stay queued and
        // go out with two new ones; the three stored ones are refused, then each
        // alone counts as landed, and the two new ones land.
        for (let i = 0; i < 3; i += 1) logger.logFailure('tiling', 5, 'Service not found');
        endpoint.loseNextReply();
        logger.flushOnPageHide();
        await vi.waitFor(() => expect(endpoint.statuses.length).toBe(22));
        for (let i = 0; i < 2; i += 1) logger.logSuccess('tiling', wallPainting, 7);
        await logger.shutdown();
        expect(logger.getDroppedCounts()).toMatchObject({ rejected: 0, shutdown: 0, queue_full: 0 });

        const { rows } = await db.query<{ n: number; ids: number }>('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM analytics_events');
        // 5 rows: 409; the stored 3: 409, then [2] 409, [1] 409, [1] 409, [1] 409; the new 2: 201.
        expect(endpoint.statuses.slice(21)).toEqual([503, 409, 409, 409, 409, 409, 409, 201]);
        expect(rows[0]).toEqual({ n: 18, ids: 18 });
        // The rollups counted each event once: a refused statement changed nothing.
        await foldLookupRollups(db);
        const hourly = await db.query<{ lookups: number; failures: number }>(
          'SELECT sum(lookups)::int AS lookups, sum(failures)::int AS failures FROM analytics_lookup_hourly',
        );
        expect(hourly.rows[0]).toEqual({ lookups: 18, failures: 6 });
      } finally {
        await endpoint.close();
      }
    });

    it('has a row the database refuses isolated by the queue, and the rest land', async () => {
      const sink = createPgAnalyticsSink({ db });
      const good = (slug: string): AnalyticsEventRow => ({
        id: crypto.randomUUID(),
        event_name: 'uuid_lookup',
        event_category: 'wizard_flow',
        event_properties: { micro_slug: slug, micro_uuid: null, lookup_time_ms: 3, success: false, fallback_used: false },
        client_created_at: new Date().toISOString(),
      });
      // A success without a UUID breaks the table's contract (CHECK analytics_events_uuid_lookup_shape).
      const bad = { ...good('bad'), event_properties: { ...good('bad').event_properties, success: true } };
      expect((await sink.write([good('a'), bad, good('b')])).status).toBe('rejected');
      expect((await sink.write([bad])).status).toBe('rejected');
      expect(await sink.write([good('a'), good('b')])).toEqual({ status: 'success' });
    });

    it('resolves slugs from micro_services, in one query for many, with preload', async () => {
      const logger = newLogger();
      const resolver = createSlugResolver({ source: createPgSlugSource(db), logger });
      expect(await resolver.resolve('wall-painting')).toBe(wallPainting);
      const many = await resolver.resolveMany(['tiling', 'nope']);
      expect(many.get('tiling')).toMatch(/^[0-9a-f-]{36}$/);
      expect(many.get('nope')).toBeNull();
      const fresh = createSlugResolver({ source: createPgSlugSource(db), logger });
      await fresh.preload();
      expect(fresh.peek('wall-painting')).toBe(wallPainting);
      expect(logger.getMetrics()).toMatchObject({ totalLookups: 3, successfulLookups: 2, failedLookups: 1 });
    });
  });
}
