import type { UuidLookupEvent } from '../lookup-event.ts';
import { eventId } from '../lookup-event.ts';

/** The most recent events, for debugging: a ring buffer of fixed size (0 keeps none). */
export interface RecentEvents {
  add(event: UuidLookupEvent): void;
  /** Oldest first, each with its id. */
  list(): UuidLookupEvent[];
}

export function createRecentEvents(size: number): RecentEvents {
  const ring: UuidLookupEvent[] = [];
  let next = 0;
  return {
    add(event) {
      if (size === 0) return;
      ring[next] = event;
      next = (next + 1) % size;
    },
    list() {
      const ordered = ring.length < size ? ring.slice() : [...ring.slice(next), ...ring.slice(0, next)];
      for (const event of ordered) eventId(event);
      return ordered;
    },
  };
}
