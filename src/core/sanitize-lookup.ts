import type { DropReason } from '../contract/metrics.ts';
import { isUuid } from './random-uuid.ts';

/** Limits the database enforces on uuid_lookup events (supabase/migrations, ..._analytics_event_contract.sql). */
export const LIMITS = Object.freeze({
  slugLength: 200,
  errorMessageLength: 1000,
  /** Ten minutes: a longer "lookup" is not a measurement. */
  maxLookupTimeMs: 600_000,
  sessionIdLength: 128,
});

// The database's analytics_events_context_shape: a coarse code, never an address.
const REGION = /^[A-Za-z0-9_-]{1,32}$/;

/** True for a region the database accepts (analytics_events_context_shape). */
export function isRegionCode(value: unknown): value is string {
  return typeof value === 'string' && REGION.test(value);
}

/** A lookup's input after checking: usable, with what was changed, or dropped with a reason. */
export type SanitizedLookup =
  | { ok: true; slug: string; uuid: string | null; lookupTimeMs: number; errorMessage?: string; clamped: boolean }
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
 * Checks one lookup. Never throws: bad input is dropped (with the reason the
 * dropped-events counter gets) or clamped/truncated (and flagged).
 * - slug: a non-empty string after trimming and removing control characters;
 *   truncated to 200 characters.
 * - duration: a finite number >= 0; above ten minutes it is clamped to ten minutes.
 * - uuid: on success a canonical UUID, else the event is dropped.
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
  let clamped = slug.length !== trimmed.length;
  let lookupTimeMs = ms;
  if (lookupTimeMs > LIMITS.maxLookupTimeMs) {
    lookupTimeMs = LIMITS.maxLookupTimeMs;
    clamped = true;
  }
  let uuid: string | null = null;
  if (input.success) {
    const given = input.uuid;
    if (typeof given === 'string' && LOWER_UUID.test(given)) uuid = given;
    else if (isUuid(given)) uuid = given.toLowerCase();
    else return { ok: false, reason: 'invalid_uuid' };
  }
  const result: SanitizedLookup = { ok: true, slug, uuid, lookupTimeMs, clamped };
  if (!input.success) {
    const message = input.errorMessage;
    const text = typeof message === 'string' ? message : message instanceof Error ? message.message : 'lookup failed';
    result.errorMessage = cleanText(text, LIMITS.errorMessageLength);
    if (typeof message === 'string' && result.errorMessage.length !== message.length) result.clamped = true;
  }
  return result;
}
