import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/node/db/database.ts';
import { DatabaseError } from '../../src/node/db/database.ts';
import { runDoctor } from '../../src/node/reports/doctor.ts';
import { foldLookupRollups } from '../../src/node/reports/lookup-analytics.ts';
import { expectJourneysExact } from '../support/journeys.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// The app's own writes, shaped as an app writes (multi-row job inserts in any
// session order, updates of the same rows, MERGE, READ COMMITTED and REPEATABLE
// READ, two writers of each kind), beside everything the product runs on its own:
// folds (each scrape's and every 32nd insert's), counter compaction, retention
// deletes, and the back-fill on older jobs the app does not touch. The app's
// statements never conflict with each other (each writer updates only its own
// rows), so any deadlock, serialization failure or lock timeout they meet comes
// from the product's bookkeeping. Afterwards every figure is exact.

const SOAK_MS = Number(process.env.SOAK_MS ?? 20_000);
const SESSIONS = 120;
const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';

interface Tally {
  operations: number;
  errors: Map<string, number>;
}

function tally(): Tally {
  return { operations: 0, errors: new Map() };
}

function record(t: Tally, error: unknown): void {
  const code = error instanceof DatabaseError ? (error.code ?? 'no code') : String(error);
  t.errors.set(code, (t.errors.get(code) ?? 0) + 1);
}

/** Random session ids, unsorted, some repeated: a multi-row insert touches them in no particular order. */
function sessions(n: number): string[] {
  return Array.from({ length: n }, () => `soak-${Math.floor(Math.random() * SESSIONS)}`);
}

describe('an app-shaped soak beside the product', () => {
  let t: TestDatabase;
  let product: Database;
  let writers: Database[];
  let serviceId: string;

  beforeAll(async () => {
    t = await serverTestDatabase();
    if (t.connect === undefined) throw new Error('the soak needs separate connection pools');
    product = t.connect();
    writers = [t.connect(), t.connect(), t.connect(), t.connect()];
    await t.db.exec(`
      INSERT INTO micro_services (slug) SELECT 'service-' || g FROM generate_series(0, 19) g;
      -- Older jobs without a UUID: the back-fill's, never the app's.
      INSERT INTO jobs (micro_id, title) SELECT 'service-' || (g % 25), 'old' FROM generate_series(1, 20000) g;`);
    serviceId = (await t.db.query<{ id: string }>("SELECT id FROM micro_services WHERE slug = 'service-1'")).rows[0]?.id ?? '';
  }, 60_000);

  afterAll(async () => {
    await t?.dispose();
  });

  it('meets no deadlock, serialization failure or lock timeout caused by the product, and every figure is exact after', { timeout: SOAK_MS + 120_000 }, async () => {
    const deadline = Date.now() + SOAK_MS;
    const app = { events: tally(), jobs: tally() };
    const own = { folds: tally(), retention: tally(), backfill: tally() };

    const eventWriter = async (db: Database): Promise<void> => {
      while (Date.now() < deadline) {
        try {
          // The SDK's batches: 10 lookups of sessions in progress.
          await db.query(
            `INSERT INTO analytics_events (event_name, event_category, event_properties, session_id, region)
             SELECT 'uuid_lookup', 'wizard_flow',
                    jsonb_build_object('micro_slug', 'service-' || (g % 23), 'micro_uuid', CASE WHEN g % 23 < 20 THEN '${UUID}' END,
                                       'lookup_time_ms', 3 + g % 90, 'success', g % 23 < 20, 'fallback_used', g % 7 = 0),
                    s, (ARRAY['DE', 'FR', 'eu-west'])[1 + g % 3]
             FROM unnest($1::text[]) WITH ORDINALITY AS x(s, g)`,
            [sessions(10)],
          );
          app.events.operations++;
        } catch (error) {
          record(app.events, error);
        }
      }
    };

    const jobWriter = async (db: Database, isolation: string): Promise<void> => {
      while (Date.now() < deadline) {
        try {
          await db.transaction(async (tx: Queryable) => {
            await tx.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
            // A multi-row submission, sessions in no order; then edits of the same rows; then a MERGE.
            const inserted = await tx.query<{ id: string }>(
              `INSERT INTO jobs (micro_id, micro_uuid, session_id, title)
               SELECT 'service-1', $2::uuid, s, 'Booking' FROM unnest($1::text[]) s RETURNING id`,
              [sessions(5), serviceId],
            );
            const ids = inserted.rows.map((r) => r.id);
            await tx.query("UPDATE jobs SET title = 'Booking (edited)' WHERE id = ANY($1::uuid[])", [ids]);
            await tx.query("UPDATE jobs SET title = 'Booking (confirmed)' WHERE id = ANY($1::uuid[])", [ids]);
            await tx.query(
              `MERGE INTO jobs j USING (SELECT unnest($1::uuid[]) AS id) m ON j.id = m.id
               WHEN MATCHED THEN UPDATE SET title = 'Booking (merged)'`,
              [ids],
            );
          });
          app.jobs.operations++;
        } catch (error) {
          record(app.jobs, error);
        }
      }
    };

    const loop = async (what: Tally, pauseMs: number, step: () => Promise<unknown>): Promise<void> => {
      while (Date.now() < deadline) {
        try {
          await step();
          what.operations++;
        } catch (error) {
          record(what, error);
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };

    await Promise.all([
      eventWriter(writers[0]!),
      eventWriter(writers[1]!),
      jobWriter(writers[2]!, 'READ COMMITTED'),
      jobWriter(writers[3]!, 'REPEATABLE READ'),
      // What the exporter runs each scrape, far more often.
      loop(own.folds, 20, () => product.query('SELECT public.fold_lookup_analytics_rollups(false), public.compact_uuid_migration_counters()')),
      // Retention, of events a few seconds old (some still pending a fold).
      loop(own.retention, 500, () => product.query("DELETE FROM analytics_events WHERE created_at < now() - interval '3 seconds'")),
      loop(own.backfill, 50, () => product.query('SELECT * FROM public.migrate_job_uuids_batch(200)')),
    ]);

    const summary = Object.fromEntries(
      Object.entries({ ...app, ...own }).map(([name, v]) => [name, { operations: v.operations, errors: Object.fromEntries(v.errors) }]),
    );
    process.stdout.write(`${JSON.stringify({ soak_ms: SOAK_MS, ...summary })}\n`);
    expect(app.jobs.operations).toBeGreaterThan(20);
    expect(app.events.operations).toBeGreaterThan(20);
    expect(summary.jobs?.errors).toEqual({});
    expect(summary.events?.errors).toEqual({});
    expect(own.folds.operations).toBeGreaterThan(10);

    // Every figure exact once folded: the journeys, the hourly rollups per label, the migration stats.
    await foldLookupRollups(t.db);
    await expectJourneysExact(t.db);
    const doctor = await runDoctor(t.db);
    for (const name of ['lookup rollups agree with the events', 'migration stats agree with the tables']) {
      expect(doctor.find((c) => c.name === name), name).toMatchObject({ ok: true });
    }
  });
});
