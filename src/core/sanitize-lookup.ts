import type { DropReason } from '../contract/metrics.ts';
import { isUuid } from './random-uuid.ts';

/** Limits the database enforces on uuid_lookup events (supabase/migrations, ..._analytics_event_contract.sql). */
export const LIMITS = Object.freeze({
  slugLength: 200,
  errorMessageLength: 1000,
  /** Ten minutes: a longer "lookup" is not a measurement. */
  maxLookupTimeMs: 600_000,
  sessionIdLength: 128,
  /** A success's UUID that is not one is kept as text (`micro_uuid_raw`), cut to this length. */
  uuidRawLength: 128,
});

// The database's analytics_events_context_shape: a coarse code, never an address.
const REGION = /^[A-Za-z0-9_-]{1,32}$/;

/** True for a region the database accepts (analytics_events_context_shape). */
export function isRegionCode(value: unknown): value is string {
  return typeof value === 'string' && REGION.test(value);
}

/** A lookup's input after checking: usable, with what was changed, or dropped with a reason. */
export type SanitizedLookup =
  | {
      ok: true;
      slug: string;
      /** The canonical (lower-case) UUID; null on failure and when the app's value is not a UUID. */
      uuid: string | null;
      /** On a success whose value is not a UUID: that value as text (see {@link uuidRawText}). */
      uuidRaw?: string;
      lookupTimeMs: number;
      errorMessage?: string;
    }
  | { ok: false; reason: DropReason };

// C0/C1 control characters and lone surrogates: they break logs and JSON consumers.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The common case, checked with one test: printable ASCII, no surrounding space.
const PLAIN = /^[!-~](?:[ -~]*[!-~])?$/;

function cleanText(value: string, maxLength: number): string {
  if (value.length <= maxLength && PLAIN.test(value)) return value;
  const cleaned = value.replace(CONTROL, '').toWellFormed();
  return cleaned.length <= maxLength ? cleaned : cleaned.slice(0, maxLength).toWellFormed();
}

/**
 * The text kept for a success's UUID that is not a UUID (`micro_uuid_raw`):
 * a string as given, without control characters, cut to 128 characters; a
 * number, boolean, bigint, null or undefined as `String(value)`; anything else
 * as its type in brackets (`[object]`, `[function]`, `[symbol]`), never by
 * calling its `toString`.
 */
export function uuidRawText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return cleanText(value, LIMITS.uuidRawLength);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value).slice(0, LIMITS.uuidRawLength);
    default:
      return value === null ? 'null' : `[${typeof value}]`;
  }
}

/**
 * Checks one lookup. Never throws: bad input is dropped (with the reason the
 * dropped-events counter gets) or clamped/truncated.
 * - slug: a non-empty string after trimming and removing control characters;
 *   truncated to 200 characters.
 * - duration: a finite number >= 0; above ten minutes it is clamped to ten minutes.
 * - uuid: on success, a UUID (any case) becomes `uuid`, lower-cased. Any other
 *   value still counts as a successful lookup (the app says it resolved): `uuid`
 *   is null and `uuidRaw` keeps the value as text (the spec's own example passes
 *   `'uuid-123'`).
 */
export function sanitizeLookup(input: {
  slug: unknown;
  uuid: unknown;
  lookupTimeMs: unknown;
  success: boolean;
  errorMessage?: unknown;
}): SanitizedLookup {
  if (typeof input.slug !== 'string') return { ok: false, reason: 'invalid_slug' };
  const raw = input.slug;
  const trimmed = raw.length <= LIMITS.slugLength && PLAIN.test(raw) ? raw : raw.trim();
  const slug = cleanText(trimmed, LIMITS.slugLength);
  if (slug === '') return { ok: false, reason: 'invalid_slug' };
  const ms = input.lookupTimeMs;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return { ok: false, reason: 'invalid_duration' };
  const lookupTimeMs = Math.min(ms, LIMITS.maxLookupTimeMs);
  let uuid: string | null = null;
  let uuidRaw: string | undefined;
  if (input.success) {
    const given = input.uuid;
    if (typeof given === 'string' && LOWER_UUID.test(given)) uuid = given;
    else if (isUuid(given)) uuid = given.toLowerCase();
    else uuidRaw = uuidRawText(given);
  }
  const result: SanitizedLookup = { ok: true, slug, uuid, lookupTimeMs };
  if (uuidRaw !== undefined) result.uuidRaw = uuidRaw;
  if (!input.success) {
    const message = input.errorMessage;
    const text = typeof message === 'string' ? message : message instanceof Error ? message.message : 'lookup failed';
    result.errorMessage = cleanText(text, LIMITS.errorMessageLength);
  }
  return result;
}
