import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from './database.ts';
import { toDatabaseError } from './database.ts';
import { checkDataDir, lockDataDir } from './data-dir-lock.ts';

/** Options of {@link createPgliteDatabase}. */
export interface PgliteDatabaseOptions {
  /** A folder to keep the database in; in memory when absent. */
  dataDir?: string;
}

interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(client: PgliteLike): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      try {
        const result = await client.query<R>(sql, params as unknown[] | undefined);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.exec(sql);
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
  };
}

/**
 * A {@link Database} on PGlite: PostgreSQL compiled to WebAssembly, in this
 * process. One connection: statements run one at a time. With a `dataDir`, one
 * process at a time: a second is refused with a `DataDirError`.
 *
 * @example
 * ```ts
 * const db = await createPgliteDatabase(); // in memory
 * ```
 */
export async function createPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<Database> {
  // A folder: refused unless it is (or may become) a database of ours, then held
  // by this process alone until close().
  let unlock: (() => Promise<void>) | undefined;
  if (options.dataDir !== undefined) {
    checkDataDir(options.dataDir);
    unlock = await lockDataDir(options.dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
  } catch (error) {
    await unlock?.();
    throw toDatabaseError(error);
  }
  const base = wrap(pglite);
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        return await pglite.transaction((tx) => fn(wrap(tx)));
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async close(): Promise<void> {
      try {
        await pglite.close();
      } finally {
        await unlock?.();
      }
    },
  };
}
