import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { describeCli } from '../cli/cli.suite.ts';
import { runCliCaptured } from '../support/run-cli-captured.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

describeCli('PostgreSQL', async () => {
  const t = await serverTestDatabase({ migrate: false });
  return {
    args: ['--database-url', t.url ?? ''],
    sql: (statement) => t.db.exec(statement),
    dispose: () => t.dispose(),
  };
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
