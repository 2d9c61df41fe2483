import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/node/db/open-database.ts';

// openDatabase({ url: process.env.DATABASE_URL }) with DATABASE_URL unset used to open an
// embedded database in memory without a word: every event written to it was gone at exit.
describe('openDatabase', () => {
  it('refuses a url key with nothing in it, instead of falling back to memory', async () => {
    const env: Record<string, string | undefined> = {};
    await expect(openDatabase({ url: env.DATABASE_URL })).rejects.toThrow('uuid-lookup: openDatabase was given an empty url (is DATABASE_URL set?)');
    await expect(openDatabase({ url: '' })).rejects.toThrow(/empty url/);
  });

  it('needs a url, a dataDir or inMemory: true, and opens memory only when asked', async () => {
    await expect(openDatabase({})).rejects.toThrow('uuid-lookup: openDatabase needs a url, a dataDir, or inMemory: true');
    await expect(openDatabase({ dataDir: ' ' })).rejects.toThrow(/dataDir is empty/);
    const db = await openDatabase({ inMemory: true });
    try {
      expect(db.kind).toBe('pglite');
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    } finally {
      await db.close();
    }
  });
});
