import type { SlugResolver } from './slug-resolver.ts';
import type { SupabaseClientLike } from './supabase-client.ts';

/** Options of {@link submitJob}. */
export interface SubmitJobOptions {
  client: SupabaseClientLike;
  resolver: Pick<SlugResolver, 'resolve'>;
  /** The service slug the wizard chose, e.g. `wall-painting`. */
  microSlug: string;
  /** The rest of the job's columns. */
  fields?: Record<string, unknown>;
  /** The wizard session, so analytics can join lookups to the submission. */
  sessionId?: string;
  /** Default `jobs`. */
  table?: string;
}

/** What {@link submitJob} returns: supabase-js's `{ data, error }`, and the UUID used. */
export interface SubmitJobResult {
  microUuid: string | null;
  error: { message: string; code?: string } | null;
}

/**
 * Inserts a job that carries both the slug (`micro_id`, for compatibility) and
 * the resolved UUID (`micro_uuid`), as the spec's "Job Submission" shows. When
 * the slug resolves to nothing the job is still submitted, with `micro_uuid`
 * null, for the migration to pick up once the service exists.
 *
 * @example
 * ```ts
 * const { microUuid, error } = await submitJob({ client: supabase, resolver, microSlug: 'wall-painting', fields: { title } });
 * ```
 */
export async function submitJob(options: SubmitJobOptions): Promise<SubmitJobResult> {
  const microUuid = await options.resolver.resolve(options.microSlug);
  const row: Record<string, unknown> = { ...options.fields, micro_id: options.microSlug, micro_uuid: microUuid };
  if (options.sessionId !== undefined) row.session_id = options.sessionId;
  const { error } = await options.client.from(options.table ?? 'jobs').insert(row);
  return { microUuid, error: error === null ? null : { message: error.message, code: error.code } };
}
