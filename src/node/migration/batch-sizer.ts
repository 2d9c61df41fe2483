/**
 * Batch sizes that aim at a time per batch, as GitLab's batched background
 * migrations aim at a time efficiency: the time per job over the recent batches
 * (a moving window) says how many jobs fit the target; the size moves towards
 * that, by at most ×1.2 up and ×0.5 down a step, within bounds. Short batches
 * keep the app's waits on the back-fill's row locks short; long ones cost less
 * per job. A statement timeout halves the size at once and forgets the window.
 */
export interface BatchSizing {
  /** The time a batch should take, in milliseconds. */
  targetMillis: number;
  /** Smallest and largest sizes it chooses. Default 10 and 100000. */
  min?: number;
  max?: number;
  /** Batches the moving window holds. Default 5. */
  window?: number;
}

/** A decision, for the run's progress: the size chosen for the next batch, and why. */
export interface BatchSizeDecision {
  size: number;
  /** Milliseconds per job over the window. */
  msPerJob: number;
  /** The window's mean batch time over the target (1: on target). */
  efficiency: number;
}

export interface BatchSizer {
  /** Records a committed batch of `size` jobs that took `millis`; returns the next size. */
  record(size: number, millis: number): BatchSizeDecision;
  /** A batch of `size` hit the statement timeout: the next size, half of it. */
  timedOut(size: number): number;
}

export function createBatchSizer(sizing: BatchSizing): BatchSizer {
  const min = sizing.min ?? 10;
  const max = sizing.max ?? 100_000;
  const window = sizing.window ?? 5;
  if (!Number.isFinite(sizing.targetMillis) || sizing.targetMillis <= 0) {
    throw new RangeError(`uuid-lookup: the target batch time must be a positive number of milliseconds, got ${String(sizing.targetMillis)}`);
  }
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw new RangeError(`uuid-lookup: batch size bounds must be whole numbers with 1 <= min <= max, got ${min} and ${max}`);
  }
  const recent: { size: number; millis: number }[] = [];
  return {
    record(size, millis) {
      recent.push({ size, millis: Math.max(millis, 0.001) });
      if (recent.length > window) recent.shift();
      const jobs = recent.reduce((n, b) => n + b.size, 0);
      const time = recent.reduce((n, b) => n + b.millis, 0);
      const msPerJob = time / Math.max(jobs, 1);
      const efficiency = time / recent.length / sizing.targetMillis;
      const ideal = sizing.targetMillis / msPerJob;
      const stepped = Math.min(Math.max(ideal, size * 0.5), size * 1.2);
      return { size: Math.min(max, Math.max(min, Math.round(stepped))), msPerJob, efficiency };
    },
    timedOut(size) {
      recent.length = 0;
      return Math.max(1, Math.floor(size / 2));
    },
  };
}

/**
 * The size of a run's next batch: aimed at a target time ({@link createBatchSizer})
 * when one is given; otherwise the size asked for, halved after a statement
 * timeout and doubled back after five batches that went through.
 */
export interface BatchSizePolicy {
  /** The size the next batch asks for. */
  readonly size: number;
  /** The batch hit the statement timeout: the next size (smaller). */
  timedOut(): number;
  /** A batch that asked for `asked` jobs committed `processed` of them in `millis`: the next size. */
  committed(asked: number, processed: number, millis: number): number;
}

export function createBatchSizePolicy(batchSize: number, targetMillis: number | undefined): BatchSizePolicy {
  const sizer = targetMillis === undefined ? undefined : createBatchSizer({ targetMillis });
  let size = batchSize;
  let successesSinceShrink = 0;
  return {
    get size() {
      return size;
    },
    timedOut() {
      size = sizer === undefined ? Math.max(1, Math.floor(size / 2)) : sizer.timedOut(size);
      successesSinceShrink = 0;
      return size;
    },
    committed(asked, processed, millis) {
      if (sizer !== undefined) {
        // A short last batch (fewer jobs left than asked) says nothing of the time per job asked for.
        if (processed === asked) size = sizer.record(asked, millis).size;
      } else if (size < batchSize && ++successesSinceShrink >= 5) {
        // Grow back towards the asked size once smaller batches go through.
        size = Math.min(batchSize, size * 2);
        successesSinceShrink = 0;
      }
      return size;
    },
  };
}
