/** Options of {@link createRetryPolicy}. */
export interface RetryPolicyOptions {
  /** The first delay's ceiling; it doubles per attempt. */
  initialDelayMillis: number;
  /** The ceiling's cap. */
  maxDelayMillis: number;
  /** Jitter source. */
  random: () => number;
}

/** Delays between attempts of a write that failed and may succeed later. */
export interface RetryPolicy {
  /** The delay before the next attempt, at least a server's Retry-After. Counts the attempt. */
  nextDelay(retryAfterMillis?: number): number;
  /** A write went through: the next failure starts over. */
  reset(): void;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"): a uniform delay below a ceiling that doubles per
 * attempt up to a cap, floored by the server's Retry-After.
 */
export function createRetryPolicy(options: RetryPolicyOptions): RetryPolicy {
  let attempt = 0;
  return {
    nextDelay(retryAfterMillis?: number): number {
      attempt += 1;
      const ceiling = Math.min(options.maxDelayMillis, options.initialDelayMillis * 2 ** (attempt - 1));
      return Math.max(retryAfterMillis ?? 0, options.random() * ceiling);
    },
    reset(): void {
      attempt = 0;
    },
  };
}
