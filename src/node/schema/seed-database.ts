import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Queryable } from '../db/database.ts';
import { supabaseDir } from './migration-files.ts';

/** Loads supabase/seed.sql (sample services and jobs; idempotent). */
export async function seedDatabase(db: Queryable): Promise<void> {
  await db.exec(await readFile(path.join(supabaseDir, 'seed.sql'), 'utf8'));
}
