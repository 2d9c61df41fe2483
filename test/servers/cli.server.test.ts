import { describe, expect, it } from 'vitest';
import pg from 'pg';
import type { CliTarget } from '../cli/cli.suite.ts';
import { describeCli } from '../cli/cli.suite.ts';
import { runCliCaptured } from '../support/run-cli-captured.ts';
import { serverTestDatabase, serverUrl, supabaseDefaultsSql } from '../support/test-databases.ts';

/** Runs one statement on `database` with a connection of its own, closed at once (a database copied as a template may have none open). */
async function runOn(database: string, statement: string): Promise<void> {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A database of its own on the server; a copy is CREATE DATABASE … TEMPLATE it. */
function serverTarget(name: string): CliTarget {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    args: ['--database-url', url.toString()],
    sql: (statement) => runOn(name, statement),
    async copy() {
      const copy = `uuid_lookup_cli_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
      await runOn('postgres', `CREATE DATABASE ${copy} TEMPLATE ${name}`);
      return serverTarget(copy);
    },
    dispose: () => runOn('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

describeCli('PostgreSQL', async () => {
  const name = `uuid_lookup_cli_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await runOn('postgres', `CREATE DATABASE ${name}`);
  await runOn(name, supabaseDefaultsSql);
  return serverTarget(name);
});

describe('uuid-lookup against a server, when things are wrong', () => {
  it('names the SQLSTATE and what to do about permission denied', async () => {
    const t = await serverTestDatabase();
    const role = `cli_nobody_${Math.random().toString(36).slice(2, 8)}`;
    try {
      await t.db.exec(`CREATE ROLE ${role} LOGIN`);
      const url = new URL(t.url ?? '');
      url.username = role;
      const run = await runCliCaptured(['stats', '--database-url', url.toString()]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('[42501]');
      expect(run.stderr).toContain('hint: permission denied: connect as a role that may run the migration');
    } finally {
      await t.dispose();
      const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  it('says so when no server answers', async () => {
    const run = await runCliCaptured(['stats', '--database-url', 'postgres://postgres@127.0.0.1:1/postgres']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('hint: no server answers at DATABASE_URL');
  });
});
