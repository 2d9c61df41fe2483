// Runs the pgTAP tests of supabase/tests with pg_prove against the real server:
// a fresh database with Supabase's default privileges and our migrations.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { supabaseDir } from '../../src/node/schema/migration-files.ts';
import { serverTestDatabase } from '../support/test-databases.ts';

const testDir = path.join(supabaseDir, 'tests');
const files = readdirSync(testDir).filter((name) => name.endsWith('.sql')).map((name) => path.join(testDir, name));
const database = await serverTestDatabase();
let status: number;
try {
  await database.db.exec('CREATE EXTENSION IF NOT EXISTS pgtap');
  const url = new URL(database.url ?? '');
  const result = spawnSync(
    'pg_prove',
    ['--host', url.hostname, '--port', url.port || '5432', '--username', url.username || 'postgres',
     '--dbname', url.pathname.slice(1), '--verbose', ...files],
    { stdio: 'inherit' },
  );
  if (result.error) throw result.error;
  status = result.status ?? 1;
} finally {
  await database.dispose();
}
process.exitCode = status;
