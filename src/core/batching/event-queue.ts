import type { UuidLookupEvent } from '../lookup-event.ts';

/** A bounded queue of events that refuses the newest when full. */
export interface EventQueue {
  /** Appends the event; false when the queue is full (a row once accepted is never pushed out). */
  push(event: UuidLookupEvent): boolean;
  /** The oldest `count` events, left in place. */
  peek(count: number): UuidLookupEvent[];
  /** Removes these events, wherever they stand. */
  remove(events: readonly UuidLookupEvent[]): void;
  /** Events not handed to the page-hide path before; marks them handed. */
  takeNotHandedOff(): UuidLookupEvent[];
  /** Unmarks events whose page-hide write did not land: the next page hide sends them again. */
  releaseHandedOff(events: readonly UuidLookupEvent[]): void;
  /** Empties the queue; returns how many were in it. */
  clear(): number;
  readonly size: number;
}

export function createEventQueue(maxSize: number): EventQueue {
  const events: UuidLookupEvent[] = [];
  // Events already handed to the page-hide path: visibilitychange and pagehide
  // both fire when a tab goes away, and each event needs sending once.
  const handedOff = new WeakSet<UuidLookupEvent>();
  return {
    push(event) {
      if (events.length >= maxSize) return false;
      events.push(event);
      return true;
    },
    peek: (count) => events.slice(0, count),
    remove(gone) {
      // Batches are taken from the front: the common case is a prefix.
      if (gone.length <= events.length && gone.every((event, i) => events[i] === event)) {
        events.splice(0, gone.length);
        return;
      }
      const set = new Set(gone);
      let kept = 0;
      for (const event of events) if (!set.has(event)) events[kept++] = event;
      events.length = kept;
    },
    takeNotHandedOff() {
      const fresh = events.filter((event) => !handedOff.has(event));
      for (const event of fresh) handedOff.add(event);
      return fresh;
    },
    releaseHandedOff(released) {
      for (const event of released) handedOff.delete(event);
    },
    clear() {
      const count = events.length;
      events.length = 0;
      return count;
    },
    get size() {
      return events.length;
    },
  };
}
