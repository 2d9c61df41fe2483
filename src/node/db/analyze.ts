import type { Database } from './database.ts';

/** The product's tables whose planner statistics the migration, the lookups and `doctor` rely on. */
export const ANALYZED_TABLES = Object.freeze(['micro_services', 'jobs', 'uuid_migration_log', 'analytics_events'] as const);

/** ANALYZE of each of the product's tables: `db analyze`, doctor's fix. */
export async function analyzeTables(db: Database): Promise<readonly string[]> {
  for (const table of ANALYZED_TABLES) await db.exec(`ANALYZE public.${table}`);
  return ANALYZED_TABLES;
}

/**
 * After a command that wrote many rows: on the embedded database, which runs no
 * autovacuum, the ANALYZE autovacuum would have run on a server (so `doctor`
 * finds the statistics fresh after the README's flow). A server's own
 * autovacuum does it there.
 */
export async function analyzeWhereNoAutovacuum(db: Database): Promise<void> {
  if (db.kind === 'pglite') await analyzeTables(db);
}
