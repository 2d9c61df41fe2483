import pg from 'pg';
import type { Database, Queryable, QueryResult } from './database.ts';
import { DatabaseError, toDatabaseError } from './database.ts';

/** Wait at most this long for a connection unless told otherwise: a server that does not answer is an error, not a hang. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

// node-postgres leaves the socket of a connection that failed to start open
// (until the server's authentication_timeout, 60 s by default, closes it), which
// holds a CLI process open after it has said why it failed. This client closes it.
class ClosingClient extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: (err: Error) => void): void;
  override connect(callback?: (err: Error) => void): Promise<pg.Client> | void {
    if (callback === undefined) return super.connect();
    super.connect((err: Error) => {
      if (err) (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      callback(err);
    });
  }
}

/** node-postgres's errors where the operator needs another sentence. */
function fromPg(error: unknown): DatabaseError {
  const message = error instanceof Error ? error.message : '';
  if (message.includes('client password must be a string') || message.includes('Password must be a string')) {
    return new DatabaseError(
      'the server asks for a password and the URL has none: put it in the URL (postgres://user:PASSWORD@host:5432/db) or in PGPASSWORD',
      { code: '28000', cause: error },
    );
  }
  if (message === 'Connection terminated due to connection timeout') {
    return new DatabaseError(`no answer from the server within the connect timeout: is the host reachable?`, { code: '08001', cause: error });
  }
  return toDatabaseError(error);
}

/** Options of {@link createPgDatabase}. */
export interface PgDatabaseOptions {
  /** A libpq connection URL: `postgres://user@host:5432/db`. */
  url: string;
  /** Pool size; the migration uses one connection, the SDK sink another. */
  maxConnections?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /** How long to wait for a connection. Default 10 s ({@link DEFAULT_CONNECT_TIMEOUT_MS}). */
  connectTimeoutMillis?: number;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      try {
        const result = await client.query(sql, params as unknown[] | undefined);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      } catch (error) {
        throw fromPg(error);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.query(sql);
      } catch (error) {
        throw fromPg(error);
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
    connectionTimeoutMillis: options.connectTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MS,
    Client: ClosingClient,
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
        throw fromPg(error);
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
        throw fromPg(error);
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
