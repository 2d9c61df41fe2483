import { randomUuid } from './random-uuid.ts';

/** One lookup as the SDK records it (milliseconds, as the spec's API has them). */
export interface UuidLookupEvent {
  /**
   * Client-generated UUID: a retried batch never lands twice. Assigned when the
   * event is first written or read (see {@link eventId}), not on the hot path.
   */
  id?: string;
  microSlug: string;
  /** The resolved UUID; null on failure, and on a success whose value was not a UUID. */
  microUuid: string | null;
  /**
   * A success whose value was not a UUID (e.g. the spec's `'uuid-123'`): that
   * value as text, at most 128 characters. Absent otherwise.
   */
  microUuidRaw?: string;
  lookupTimeMs: number;
  success: boolean;
  fallbackUsed: boolean;
  errorMessage?: string;
  sessionId?: string;
  region?: string;
  /** The client's clock (epoch ms): kept apart from the server's created_at, never used for ordering. */
  createdAtMillis: number;
}

/** A row of `analytics_events` as the SDK writes it (DESIGN.md, "Analytics event contract"). */
export interface AnalyticsEventRow {
  id: string;
  event_name: 'uuid_lookup';
  event_category: 'wizard_flow';
  event_properties: {
    micro_slug: string;
    micro_uuid: string | null;
    /** Only on a success whose value was not a UUID (then `micro_uuid` is null). */
    micro_uuid_raw?: string;
    lookup_time_ms: number;
    success: boolean;
    fallback_used: boolean;
    error_message?: string;
  };
  session_id?: string;
  region?: string;
  client_created_at: string;
}

/** The event's id, generated on first use and then fixed, so every retry carries the same one. */
export function eventId(event: UuidLookupEvent): string {
  return (event.id ??= randomUuid());
}

/** The `analytics_events` row of a lookup event. */
export function toAnalyticsRow(event: UuidLookupEvent): AnalyticsEventRow {
  const row: AnalyticsEventRow = {
    id: eventId(event),
    event_name: 'uuid_lookup',
    event_category: 'wizard_flow',
    event_properties: {
      micro_slug: event.microSlug,
      micro_uuid: event.microUuid,
      lookup_time_ms: event.lookupTimeMs,
      success: event.success,
      fallback_used: event.fallbackUsed,
    },
    client_created_at: new Date(event.createdAtMillis).toISOString(),
  };
  if (event.microUuidRaw !== undefined) row.event_properties.micro_uuid_raw = event.microUuidRaw;
  if (event.errorMessage !== undefined) row.event_properties.error_message = event.errorMessage;
  if (event.sessionId !== undefined) row.session_id = event.sessionId;
  if (event.region !== undefined) row.region = event.region;
  return row;
}
