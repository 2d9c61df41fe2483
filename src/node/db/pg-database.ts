import pg from 'pg';
import type { Database, Queryable, QueryResult } from './database.ts';
import { toDatabaseError } from './database.ts';

/** Options of {@link createPgDatabase}. */
export interface PgDatabaseOptions {
  /** A libpq connection URL: `postgres://user@host:5432/db`. */
  url: string;
  /** Pool size; the migration uses one connection, the SDK sink another. */
  maxConnections?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      try {
        const result = await client.query(sql, params as unknown[] | undefined);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.query(sql);
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
  };
}

/**
 * A {@link Database} over a node-postgres pool.
 *
 * @example
 * ```ts
 * const db = createPgDatabase({ url: 'postgres://postgres@127.0.0.1:5432/postgres' });
 * ```
 */
export function createPgDatabase(options: PgDatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 4,
    application_name: options.applicationName ?? 'uuid-lookup',
  });
  // A backend that dies while idle (restart, pg_terminate_backend) must not crash
  // the host process: the pool drops the client and the next query reconnects.
  pool.on('error', () => {});
  const base = wrap(pool);

  return {
    kind: 'pg',
    query: base.query,
    exec: base.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw toDatabaseError(error);
      }
      let broken: unknown;
      // A backend that dies while this client is checked out (terminated, the
      // server restarting) emits 'error' on the client; unheard, Node would
      // crash the host process. The failing query rejects and says why.
      const onError = (error: Error): void => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError;
        }
        throw toDatabaseError(error);
      } finally {
        client.off('error', onError);
        // A connection whose ROLLBACK failed, or that errored, is not returned to the pool.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
