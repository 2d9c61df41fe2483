import { parse as parseCsv } from 'csv-parse/sync';
import type { Queryable } from '../db/database.ts';

/** A micro-service to add: its slug and an optional display name. */
export interface MicroServiceInput {
  slug: string;
  name?: string | undefined;
}

/** Why an input was refused, with where it came from. */
export class ServiceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceInputError';
  }
}

// The wizard's slugs: lower-case words joined by hyphens, as in `wall-painting`.
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Checks one input; throws a {@link ServiceInputError} that says what is wrong and where. */
export function validateService(input: unknown, where: string): MicroServiceInput {
  if (typeof input !== 'object' || input === null) throw new ServiceInputError(`${where}: expected an object with a slug`);
  const { slug, name } = input as Record<string, unknown>;
  if (typeof slug !== 'string' || !SLUG.test(slug) || slug.length > 200) {
    throw new ServiceInputError(`${where}: slug ${JSON.stringify(slug)} is not lower-case words joined by hyphens (at most 200 characters)`);
  }
  if (name !== undefined && name !== null && (typeof name !== 'string' || name.length > 500)) {
    throw new ServiceInputError(`${where}: name must be text of at most 500 characters`);
  }
  return { slug, name: typeof name === 'string' && name !== '' ? name : undefined };
}

/** Parses an import file: CSV with a `slug` (and optional `name`) header, or a JSON array. */
export function parseServicesFile(text: string, fileName: string): MicroServiceInput[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new ServiceInputError(`${fileName}: the file is empty`);
  let records: unknown[];
  if (fileName.endsWith('.json') || trimmed.startsWith('[')) {
    try {
      records = JSON.parse(trimmed) as unknown[];
    } catch (error) {
      throw new ServiceInputError(`${fileName}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(records)) throw new ServiceInputError(`${fileName}: expected a JSON array of {"slug", "name"}`);
    return records.map((record, i) => validateService(record, `${fileName}: item ${i + 1}`));
  }
  try {
    records = parseCsv(trimmed, { columns: true, skip_empty_lines: true, trim: true }) as unknown[];
  } catch (error) {
    throw new ServiceInputError(`${fileName}: not valid CSV (${(error as Error).message})`);
  }
  if (records.length > 0 && !Object.hasOwn(records[0] as object, 'slug')) {
    throw new ServiceInputError(`${fileName}: the CSV header must have a slug column (slug,name)`);
  }
  // Line numbers as an editor shows them: the header is line 1.
  return records.map((record, i) => validateService(record, `${fileName}: line ${i + 2}`));
}

/** Adds services that do not exist yet; returns the slugs added (existing ones are left as they are). */
export async function addMicroServices(db: Queryable, services: readonly MicroServiceInput[]): Promise<string[]> {
  const unique = [...new Map(services.map((s) => [s.slug, s])).values()];
  const { rows } = await db.query<{ slug: string }>(
    `INSERT INTO public.micro_services (slug, name)
     SELECT s.slug, s.name FROM jsonb_to_recordset($1::jsonb) AS s (slug text, name text)
     ON CONFLICT (slug) DO NOTHING
     RETURNING slug`,
    [JSON.stringify(unique.map((s) => ({ slug: s.slug, name: s.name ?? null })))],
  );
  return rows.map((r) => r.slug).sort();
}
