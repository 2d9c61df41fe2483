import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** One file of `supabase/migrations`, named `<version>_<name>.sql` as the Supabase CLI names them. */
export interface MigrationFile {
  /** The timestamp prefix, e.g. `20261128000100`. */
  version: string;
  /** The rest of the file name, e.g. `uuid_lookup_base`. */
  name: string;
  sql: string;
}

/** This package's `supabase/` folder, found the same way from `src/` and from `dist/`. */
export const supabaseDir: string = fileURLToPath(new URL('../../../supabase/', import.meta.url));

const FILE_NAME = /^(\d{14})_([A-Za-z0-9_]+)\.sql$/;

/** Reads the migrations of `dir` (default: this package's), ordered by version. */
export async function readMigrationFiles(dir: string = path.join(supabaseDir, 'migrations')): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  for (const fileName of names) {
    const match = FILE_NAME.exec(fileName);
    if (match === null) {
      throw new Error(`uuid-lookup: migration file ${fileName} is not named <14-digit version>_<name>.sql`);
    }
    files.push({ version: match[1] ?? '', name: match[2] ?? '', sql: await readFile(path.join(dir, fileName), 'utf8') });
  }
  return files;
}
