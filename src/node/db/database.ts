/** Rows and the affected-row count of one statement. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Something that runs SQL: a database or a transaction on one of its connections. */
export interface Queryable {
  /** One statement with `$1`-style parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements, no parameters (a migration file, a seed). */
  exec(sql: string): Promise<void>;
}

/**
 * The one database interface the Node side uses, over node-postgres (a server,
 * Supabase) or PGlite (embedded, in-process).
 *
 * @example
 * ```ts
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * const { rows } = await db.query('SELECT * FROM get_uuid_migration_stats()');
 * await db.close();
 * ```
 */
export interface Database extends Queryable {
  /** `pg` for a server reached by URL, `pglite` for the embedded database. */
  readonly kind: 'pg' | 'pglite';
  /** Runs `fn` in a transaction on one connection; commits, or rolls back on a throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A database error as a value callers can branch on: Postgres's SQLSTATE `code`,
 * `detail` and `hint` are kept (never parse the message).
 */
export class DatabaseError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: { code?: string; detail?: string; hint?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DatabaseError';
    this.code = options.code;
    this.detail = options.detail;
    this.hint = options.hint;
  }
}

interface PostgresErrorFields {
  message?: unknown;
  code?: unknown;
  detail?: unknown;
  hint?: unknown;
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Wraps what node-postgres or PGlite threw in a {@link DatabaseError}, keeping its fields. */
export function toDatabaseError(error: unknown): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const fields: PostgresErrorFields = typeof error === 'object' && error !== null ? error : {};
  const message = optionalString(fields.message) ?? String(error);
  return new DatabaseError(message, {
    code: optionalString(fields.code),
    detail: optionalString(fields.detail),
    hint: optionalString(fields.hint),
    cause: error,
  });
}
