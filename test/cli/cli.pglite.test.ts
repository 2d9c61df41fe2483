import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
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

describe('uuid-lookup on an embedded database without the migrations', () => {
  it('says to apply them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'uuid-lookup-empty-'));
    try {
      const run = await runCliCaptured(['stats', '--data-dir', path.join(dir, 'db')]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('hint: a function is missing: apply the migrations first (uuid-lookup db apply)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
