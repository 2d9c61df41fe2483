import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../../src/node/db/pglite-database.ts';
import { runCliCaptured } from '../support/run-cli-captured.ts';
import type { CliTarget } from './cli.suite.ts';
import { describeCli } from './cli.suite.ts';

/** An embedded database in a folder of its own; a copy is a copy of the folder (no process holds it between commands). */
function pgliteTarget(dir: string): CliTarget {
  const dataDir = path.join(dir, 'db');
  return {
    args: ['--data-dir', dataDir],
    async sql(statement) {
      const db = await createPgliteDatabase({ dataDir });
      try {
        await db.exec(statement);
      } finally {
        await db.close();
      }
    },
    async copy() {
      const copy = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-pglite-'));
      if (existsSync(dataDir)) cpSync(dataDir, path.join(copy, 'db'), { recursive: true });
      return pgliteTarget(copy);
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeCli('the embedded database (PGlite)', async () => pgliteTarget(mkdtempSync(path.join(tmpdir(), 'uuid-lookup-pglite-'))));

describe('uuid-lookup where there is no embedded database yet', () => {
  it('says to apply the migrations, and creates nothing (only db apply creates it)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-empty-'));
    try {
      for (const args of [['stats'], ['report', 'migration-progress'], ['check'], ['migrate', 'runs']]) {
        const run = await runCliCaptured([...args, '--data-dir', path.join(dir, 'db')]);
        expect(run.code, args.join(' ')).toBe(args[0] === 'check' ? 3 : 1);
        expect(run.stderr).toContain(`no embedded database in ${path.join(dir, 'db')}: create it with uuid-lookup db apply --data-dir ${path.join(dir, 'db')}`);
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a --data-dir whose parent folder is missing, or empty, writing nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-empty-'));
    try {
      const missing = await runCliCaptured(['db', 'apply', '--data-dir', path.join(dir, 'missing', 'parent', 'db')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`the folder ${path.join(dir, 'missing', 'parent')} does not exist`);
      expect(readdirSync(dir)).toEqual([]);
      const empty = await runCliCaptured(['db', 'apply', '--data-dir', '']);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain("option '--data-dir <dir>' argument '' is invalid. expected a folder, got nothing");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
