import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../node/db/database.ts';
import { DatabaseError } from '../node/db/database.ts';
import { describeServer, openDatabase } from '../node/db/open-database.ts';
import { endOrphanedRuns } from '../node/migration/migration-runs.ts';

/** Options every command that touches the database accepts. */
export interface DatabaseCommandOptions {
  databaseUrl?: string;
  dataDir?: string;
  json?: boolean;
  /** Batches at once (migrate); the pool gets one connection more. */
  concurrency?: number;
}

/** An error the CLI reports as one line and a non-zero exit, never a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The embedded database's folder when no URL is given: kept between commands. */
function defaultDataDir(): string {
  return process.env.UUID_LOOKUP_DATA_DIR ?? path.join(process.cwd(), '.uuid-lookup', 'pglite');
}

/**
 * Opens `--database-url` / `DATABASE_URL`, or the embedded database in `--data-dir`.
 * Only `db apply` creates an embedded database (`create`); every other command finds
 * one or says how to make it, and writes nothing. A `--data-dir` whose parent folder
 * does not exist is refused, not made (the default's `.uuid-lookup/` is made).
 */
export async function openCommandDatabase(options: DatabaseCommandOptions, { create = false } = {}): Promise<Database> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  const maxConnections = Math.max(4, (options.concurrency ?? 1) + 1);
  if (url) return openDatabase({ url, maxConnections });
  const dataDir = options.dataDir ?? defaultDataDir();
  if (!existsSync(dataDir)) {
    if (!create) throw new CliError(`no embedded database in ${dataDir}: create it with uuid-lookup db apply${options.dataDir === undefined ? '' : ` --data-dir ${dataDir}`}`);
    const parent = path.dirname(path.resolve(dataDir));
    if (options.dataDir === undefined) await mkdir(parent, { recursive: true });
    else if (!existsSync(parent)) throw new CliError(`--data-dir ${dataDir}: the folder ${parent} does not exist`);
  }
  const db = await openDatabase({ dataDir, maxConnections });
  try {
    // One process at a time holds the folder: a run still going in the table is a dead process's.
    for (const runId of await endOrphanedRuns(db)) {
      process.stderr.write(`note: run ${runId} was left unfinished by a process that ended (killed?): marked stopped; migrate goes on from where it was, or roll it back (migrate rollback ${runId})\n`);
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/** Runs `fn` with an open database and always closes it (`create`: see {@link openCommandDatabase}). */
export async function withDatabase<T>(options: DatabaseCommandOptions, fn: (db: Database) => Promise<T>, open: { create?: boolean } = {}): Promise<T> {
  const db = await openCommandDatabase(options, open);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

// SQLSTATEs an operator can act on, with what to do about them.
const HINTS: Record<string, string> = {
  '42883': 'a function is missing: apply the migrations first (uuid-lookup db apply)',
  '42P01': 'a table is missing: apply the migrations first (uuid-lookup db apply)',
  '42501': 'permission denied: connect as a role that may run the migration (service_role or the owner)',
  '28P01': 'authentication failed: check the user and password in DATABASE_URL',
  '3D000': 'the database in DATABASE_URL does not exist',
  ECONNREFUSED: 'no server answers at DATABASE_URL: is PostgreSQL running, on that host and port?',
  ENOTFOUND: 'the host in DATABASE_URL does not resolve',
};

/** One line for an error, with a hint where the SQLSTATE has one. */
export function describeError(error: unknown): string {
  if (error instanceof DatabaseError) {
    // Ours for the codes an operator acts on, else the server's (our functions raise with one).
    const hint = (error.code === undefined ? undefined : HINTS[error.code]) ?? error.hint;
    const code = error.code === undefined ? '' : ` [${error.code}]`;
    return `${error.message}${code}${hint === undefined ? '' : `\n  hint: ${hint}`}`;
  }
  // The library's own errors carry the prefix the CLI adds: say it once.
  if (error instanceof Error) return error.message.replace(/^uuid-lookup: /, '');
  return String(error);
}

/**
 * A command's non-zero status when nothing went wrong (check: 1 warning, 2
 * critical; migrate stopped by a signal: 130): thrown after the command has
 * printed its result, caught by runCli, which returns the code and prints nothing.
 */
export class ExitStatus {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

/**
 * `demo` and `traffic` write simulated services, jobs and lookup events: never into
 * a server unless told so (`--allow-simulated-data`), where they would mix with a
 * project's real data and figures. The embedded database needs no word.
 */
export function refuseSimulatedDataOnServer(command: string, url: string | undefined, allowed: boolean | undefined, what: string): void {
  if (url === undefined || url === '' || allowed === true) return;
  throw new CliError(
    `${command} writes ${what} into ${describeServer(url)}, where they would mix with real data. ` +
      `Run it on the embedded database${command === 'traffic' ? ' (--data-dir, no --database-url or DATABASE_URL)' : ' (no --database-url)'}; ` +
      'for a server made for it, add --allow-simulated-data',
  );
}
