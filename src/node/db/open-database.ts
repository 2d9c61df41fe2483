import type { Database } from './database.ts';
import { createPgDatabase } from './pg-database.ts';
import { createPgliteDatabase } from './pglite-database.ts';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL URL (`DATABASE_URL`); without one, the embedded database. */
  url?: string | undefined;
  /** With no URL: a folder for the embedded database; in memory when absent. */
  dataDir?: string | undefined;
  applicationName?: string;
  /** Server connections at most (default 4). */
  maxConnections?: number;
}

/**
 * Opens the server at `url`, or PGlite when there is none: the embedded default
 * that lets the demo and the tests run with only Node installed.
 *
 * @example
 * ```ts
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * ```
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url !== undefined && options.url !== '') {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new Error('uuid-lookup: DATABASE_URL is not a URL (expected postgres://user@host:5432/database)');
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new Error(`uuid-lookup: DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}//`);
    }
    const db = createPgDatabase({
      url: options.url,
      applicationName: options.applicationName ?? 'uuid-lookup',
      ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    });
    // Fail here, with the server's reason, rather than at the first real query.
    try {
      await db.query('SELECT 1');
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
    return db;
  }
  return createPgliteDatabase(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
}
