import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Database } from '../../src/node/db/database.ts';
import { createPgDatabase } from '../../src/node/db/pg-database.ts';
import { createPgliteDatabase } from '../../src/node/db/pglite-database.ts';
import { applyMigrations } from '../../src/node/schema/apply-migrations.ts';
import { onInterrupt } from './interrupt.ts';

/** The server the server tests use: the machine's PostgreSQL unless TEST_PG_URL says otherwise. */
export const serverUrl: string = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const supabaseDefaultsSql: string = readFileSync(new URL('./supabase-defaults.sql', import.meta.url), 'utf8');

/** Server databases created here and not dropped yet, by name (for dropServerDatabasesOnInterrupt). */
const liveServerDatabases = new Set<string>();

/** Records a server database as created; the returned function records it as dropped. */
export function trackServerDatabase(name: string): () => void {
  liveServerDatabases.add(name);
  return () => void liveServerDatabases.delete(name);
}

/**
 * For benchmarks: on Ctrl-C or SIGTERM, drops the server databases still alive
 * (ending their sessions) and exits 130 or 143, so a stopped run leaves nothing
 * behind on the server.
 */
export function dropServerDatabasesOnInterrupt(): void {
  onInterrupt(async (signal) => {
    process.stderr.write(`${signal}: dropping ${liveServerDatabases.size} benchmark database(s) and stopping\n`);
    const admin = new pg.Client({ connectionString: serverUrl });
    admin.on('error', () => {});
    try {
      await admin.connect();
      for (const name of liveServerDatabases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch (error) {
      process.stderr.write(`could not drop them all: ${(error as Error).message}; left: ${[...liveServerDatabases].join(', ')}\n`);
    } finally {
      await admin.end().catch(() => {});
    }
  });
}

/** A database under test, and how to get rid of it. */
export interface TestDatabase {
  db: Database;
  /** A second, independent connection pool (server only): for concurrency tests. */
  connect?: () => Database;
  url?: string;
  dispose(): Promise<void>;
}

export type TestDatabaseFactory = (options?: { migrate?: boolean }) => Promise<TestDatabase>;

/** A fresh in-memory PGlite with Supabase's defaults and (unless told not to) our migrations. */
export const pgliteTestDatabase: TestDatabaseFactory = async (options = {}) => {
  const db = await createPgliteDatabase();
  await db.exec(supabaseDefaultsSql);
  if (options.migrate !== false) await applyMigrations(db);
  return { db, dispose: () => db.close() };
};

/** A database of its own on the real server, dropped afterwards. */
export const serverTestDatabase: TestDatabaseFactory = async (options = {}) => {
  const name = `uuid_lookup_test_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dropped = trackServerDatabase(name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pools: Database[] = [];
  const connect = (): Database => {
    const db = createPgDatabase({ url: url.toString(), maxConnections: 4 });
    pools.push(db);
    return db;
  };
  const db = connect();
  await db.exec(supabaseDefaultsSql);
  if (options.migrate !== false) await applyMigrations(db);
  return {
    db,
    connect,
    url: url.toString(),
    async dispose() {
      await Promise.all(pools.map((pool) => pool.close()));
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      dropped();
    },
  };
};

/** Drops login roles a test created (roles belong to the cluster, not to the test's database). */
export async function dropServerRoles(...names: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
}
