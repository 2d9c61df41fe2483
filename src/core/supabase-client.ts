// What the SDK uses of a supabase-js client, as structural types: the SDK's
// declarations then need no `@supabase/supabase-js` (an optional peer dependency;
// an app without it type-checks with `skipLibCheck: false`). A supabase-js
// `SupabaseClient` is one of these; so is any object with the same methods.

/** A PostgREST error as supabase-js reports it: Postgres's SQLSTATE in `code`. */
export interface PostgrestErrorLike {
  message: string;
  code?: string;
}

/** What awaiting a supabase-js query gives, as far as the SDK reads it. */
export interface PostgrestResponseLike {
  data: unknown;
  error: PostgrestErrorLike | null;
  status: number;
}

/** A supabase-js `select` query, with the filters the slug source applies. */
export interface PostgrestSelectLike extends PromiseLike<PostgrestResponseLike> {
  /**
   * supabase-js's `in(column, values)` filter ({@link PostgrestInFilter}). Typed
   * as present only: comparing supabase-js's generic filter signature with any
   * other exceeds TypeScript's instantiation depth (TS2589).
   */
  in: unknown;
  order(column: string): { range(from: number, to: number): PromiseLike<PostgrestResponseLike> };
}

/** The signature of {@link PostgrestSelectLike.in}, as the slug source calls it. */
export type PostgrestInFilter = (column: string, values: readonly string[]) => PromiseLike<PostgrestResponseLike>;

/** The query builder of one table (`client.from(table)`). */
export interface PostgrestTableLike {
  insert(values: object | object[]): PromiseLike<PostgrestResponseLike>;
  select(columns: string): PostgrestSelectLike;
}

/** A supabase-js client (`createClient(url, anonKey)`), as far as the SDK uses it. */
export interface SupabaseClientLike {
  from(relation: string): PostgrestTableLike;
}
