import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsEventRow } from '../../src/core/lookup-event.ts';
import { createSlugResolver } from '../../src/core/slug-resolver.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import type { Database } from '../../src/node/db/database.ts';
import { createPgAnalyticsSink } from '../../src/node/sdk/pg-analytics-sink.ts';
import { createPgSlugSource } from '../../src/node/sdk/pg-slug-source.ts';
import { createTestMeter } from '../support/metric-collection.ts';
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
