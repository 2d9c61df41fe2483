import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../support/catalog-snapshot.ts';
import type { TestDatabase } from '../support/test-databases.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

// supabase/schemas/ is the schema as it is now, to read; supabase/migrations/ is how a
// database gets there. Both, applied to a new Supabase-shaped database, must give the
// same catalog: every table, column, constraint, index, function's text, trigger,
// policy, privilege and seeded row.
const dir = path.resolve(import.meta.dirname, '../../supabase/schemas');
const schemaFiles = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

describe('the schema files and the migrations', () => {
  let migrated: TestDatabase;
  let declared: TestDatabase;
  beforeAll(async () => {
    migrated = await serverTestDatabase();
    declared = await serverTestDatabase({ migrate: false });
    for (const file of schemaFiles) await declared.db.exec(readFileSync(path.join(dir, file), 'utf8'));
  });
  afterAll(async () => {
    await migrated?.dispose();
    await declared?.dispose();
  });

  it('are one file per area, applied in the order of their names', () => {
    expect(schemaFiles).toEqual(['00_roles.sql', '10_lookups_and_events.sql', '20_migration.sql', '30_counters.sql', '40_rollups.sql', '50_security.sql']);
  });

  it('give the same catalog', async () => {
    const fromMigrations = await catalogSnapshot(migrated.db);
    const fromFiles = await catalogSnapshot(declared.db);
    expect(fromMigrations.length).toBeGreaterThan(300);
    const only = (a: string[], b: string[]) => a.filter((line) => !b.includes(line));
    expect({ onlyFromMigrations: only(fromMigrations, fromFiles), onlyFromSchemaFiles: only(fromFiles, fromMigrations) }).toEqual({
      onlyFromMigrations: [],
      onlyFromSchemaFiles: [],
    });
  });

  it('hold every function the migrations leave in its literal text, and none that nothing calls', async () => {
    const text = schemaFiles.map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
    const { rows } = await migrated.db.query<{ name: string }>("SELECT proname AS name FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1");
    expect(rows.length).toBeGreaterThan(25);
    expect(rows.map((r) => r.name).filter((name) => !text.includes(`CREATE FUNCTION public.${name}(`))).toEqual([]);
    // The format() helpers of the first rollup functions (20261128000800), unused since the fold was restated.
    expect(rows.map((r) => r.name).filter((name) => ['_analytics_rollup_sql', '_analytics_sessions_sql', '_analytics_journey_apply'].includes(name))).toEqual([]);
  });
});
