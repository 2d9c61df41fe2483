import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWizardTraffic, seededRandom } from '../../src/node/demo/wizard-traffic.ts';
import { seedDatabase } from '../../src/node/schema/seed-database.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { pgliteTestDatabase } from '../support/test-databases.ts';

// The demo's and `traffic`'s simulated wizard (issue 22): a job it submits with a
// legacy slug carries the UUID of the service that slug is an old name of, never
// another service's.
describe('simulated wizard traffic on PGlite', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await pgliteTestDatabase();
    await seedDatabase(t.db);
  });
  afterEach(async () => {
    await t.dispose();
  });

  it("submits jobs whose micro_uuid is the service their slug names, legacy slugs through the service they are old names of", async () => {
    const result = await runWizardTraffic(t.db, { lookups: 250, fallbackRatio: 0.5, failureRatio: 0.05, submitJobs: true, random: seededRandom(7) });
    expect(result.jobsSubmitted).toBeGreaterThan(10);
    const { rows } = await t.db.query<{ micro_id: string; service: string; jobs: number }>(
      `SELECT j.micro_id, m.slug AS service, count(*)::int AS jobs
       FROM jobs j JOIN micro_services m ON m.id = j.micro_uuid
       WHERE j.session_id LIKE 'wizard-%' AND j.micro_id <> m.slug
       GROUP BY 1, 2 ORDER BY 1`,
    );
    // Jobs with a legacy slug were submitted, and each names its own service.
    expect(rows.length).toBeGreaterThan(0);
    const legacy: Record<string, string> = { 'floor-tiling': 'tiling-floor', 'paint-walls': 'wall-painting', wall_painting: 'wall-painting' };
    for (const row of rows) expect(row.service, row.micro_id).toBe(legacy[row.micro_id]);
    const unmatched = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM jobs WHERE session_id LIKE 'wizard-%' AND micro_uuid IS NULL",
    );
    expect(unmatched.rows[0]?.n).toBe(0);
  });

  it('gives a legacy slug no fallback when its service is not in micro_services: its lookups fail', async () => {
    await t.db.exec("DELETE FROM micro_services WHERE slug IN ('wall-painting', 'tiling-floor')");
    const result = await runWizardTraffic(t.db, { lookups: 50, fallbackRatio: 1, failureRatio: 0, submitJobs: true, random: seededRandom(3) });
    expect(result.fallbackRate).toBe(0);
    expect(result.failedLookups).toBe(50);
    expect(result.jobsSubmitted).toBe(0);
  });
});
