/** The spec's metrics (section 1, "Metrics Tracked"). */
export interface UUIDLookupMetrics {
  totalLookups: number;
  successfulLookups: number;
  failedLookups: number;
  /** Milliseconds, over all lookups, failures included (the alert's average is the same). */
  averageLookupTime: number;
  /** Percentage of all lookups that used a fallback. */
  fallbackRate: number;
}

/** The in-process figures behind `getMetrics()`. */
export interface LookupStats {
  add(success: boolean, fallbackUsed: boolean, lookupTimeMs: number): void;
  snapshot(): UUIDLookupMetrics;
}

export function createLookupStats(): LookupStats {
  let total = 0;
  let successes = 0;
  let fallbacks = 0;
  let totalTimeMs = 0;
  return {
    add(success, fallbackUsed, lookupTimeMs) {
      total += 1;
      if (success) successes += 1;
      if (fallbackUsed) fallbacks += 1;
      totalTimeMs += lookupTimeMs;
    },
    snapshot() {
      return {
        totalLookups: total,
        successfulLookups: successes,
        failedLookups: total - successes,
        averageLookupTime: total === 0 ? 0 : totalTimeMs / total,
        fallbackRate: total === 0 ? 0 : (100 * fallbacks) / total,
      };
    },
  };
}
