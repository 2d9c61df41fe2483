import type { Database } from './database.ts';
import { createPgDatabase } from './pg-database.ts';
import { createPgliteDatabase } from './pglite-database.ts';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL URL (`DATABASE_URL`); without one, the embedded database. */
  url?: string | undefined;
  /** With no URL: a folder for the embedded database. */
  dataDir?: string | undefined;
  /** With no URL and no folder: an embedded database in memory, gone when the process ends. Asked for, never a fallback. */
  inMemory?: boolean;
  applicationName?: string;
  /** Server connections at most (default 4). */
  maxConnections?: number;
  /** How long to wait for the server. Default: `PGCONNECT_TIMEOUT` (seconds, as libpq reads it), else 10 s. */
  connectTimeoutMillis?: number;
}

/** libpq's PGCONNECT_TIMEOUT (seconds), when it holds a positive number. */
function connectTimeoutFromEnvironment(): number | undefined {
  const seconds = Number(process.env.PGCONNECT_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * Opens the server at `url`, or PGlite in `dataDir` (or in memory, `inMemory: true`):
 * the embedded database that lets the demo and the tests run with only Node installed.
 * Exactly one must be asked for: a `url` key whose value is missing (an unset
 * `DATABASE_URL`) is an error, not a quiet fall back to memory, where every event
 * would be lost at exit.
 *
 * @example
 * ```ts
 * const db = await openDatabase({ url: process.env.DATABASE_URL }); // throws when DATABASE_URL is unset
 * const local = await openDatabase({ dataDir: './.uuid-lookup/pglite' });
 * ```
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if ('url' in options && (options.url === undefined || options.url === '')) {
    throw new Error('uuid-lookup: openDatabase was given an empty url (is DATABASE_URL set?); for the embedded database pass dataDir, or inMemory: true, instead');
  }
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
    const connectTimeoutMillis = options.connectTimeoutMillis ?? connectTimeoutFromEnvironment();
    const db = createPgDatabase({
      url: options.url,
      applicationName: options.applicationName ?? 'uuid-lookup',
      ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
      ...(connectTimeoutMillis === undefined ? {} : { connectTimeoutMillis }),
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
  if (options.dataDir !== undefined) {
    if (options.dataDir.trim() === '') throw new Error('uuid-lookup: dataDir is empty: name a folder for the embedded database');
    return createPgliteDatabase({ dataDir: options.dataDir });
  }
  if (options.inMemory === true) return createPgliteDatabase({});
  throw new Error('uuid-lookup: openDatabase needs a url, a dataDir, or inMemory: true');
}

/** A server URL as it may be printed: host, port and database, never the password. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'PostgreSQL (the URL given)';
  }
}
