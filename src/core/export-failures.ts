import { diag } from '@opentelemetry/api';

// OpenTelemetry's ExportResultCode (from @opentelemetry/core): the core imports
// @opentelemetry/api only, so the exporter is typed by the parts used here.
const SUCCESS = 0;
const FAILED = 1;

interface ExportResultLike {
  code: number;
  error?: Error;
}

/** The parts of an OpenTelemetry push exporter (`PushMetricExporter`) that {@link reportExportFailures} wraps. */
export interface PushExporterLike<T> {
  export(data: T, resultCallback: (result: ExportResultLike) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  selectAggregationTemporality?(instrumentType: never): unknown;
  selectAggregation?(instrumentType: never): unknown;
}

/** Options of {@link reportExportFailures}. */
export interface ExportFailureOptions {
  /** Told once when exports start failing, and once more each time they fail again after a success. */
  onError: (error: Error) => void;
  /** An export not answered by then counts as failed (its own timers keep running until the exporter's timeout). */
  timeoutMillis?: number;
}

/** A wrapped exporter (the exporter methods of the one wrapped), and a way to report a failure found elsewhere (a shutdown cut short). */
export type ReportingExporter<E extends PushExporterLike<never>> = Pick<E, keyof PushExporterLike<never>> & {
  /** Reports `error` unless a failure is being reported already. */
  fail(error: Error): void;
  /** Resolves once every export handed over so far has been answered (or has timed out). */
  settled(): Promise<void>;
};

/** The default way to be told: one line on the console, once per outage. */
export const warnOnConsole =
  (what: string) =>
  (error: Error): void => {
    console.warn(`[uuid-lookup] ${what} failing: ${error.message} (reported once; again only after it has recovered)`);
  };

/**
 * Wraps a metric exporter so that a failing export is reported once, not on
 * every interval, and not silently: `onError` hears of the first failure, and
 * of the next one only after an export has succeeded again. The reader is told
 * the export was handled, so OpenTelemetry's global error handler does not
 * repeat it every interval (the reader only logs a failed result; cumulative
 * series lose nothing by it, the next export carries the totals).
 */
export function reportExportFailures<E extends PushExporterLike<never>>(exporter: E, options: ExportFailureOptions): ReportingExporter<E> {
  let failing = false;
  const fail = (error: Error): void => {
    if (failing) return;
    failing = true;
    try {
      options.onError(error);
    } catch {
      // A reporter that throws must not break the export pipeline.
    }
  };
  const inFlight = new Set<Promise<void>>();
  const wrapped: PushExporterLike<unknown> & { fail(error: Error): void; settled(): Promise<void> } = {
    export(data, resultCallback) {
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let answered = (): void => {};
      const exported = new Promise<void>((resolve) => (answered = resolve));
      inFlight.add(exported);
      const finish = (result: ExportResultLike): void => {
        if (done) return;
        done = true;
        inFlight.delete(exported);
        answered();
        if (timer !== undefined) clearTimeout(timer);
        if (result.code === SUCCESS) {
          if (failing) diag.info('uuid-lookup: metrics export recovered');
          failing = false;
        } else {
          fail(result.error ?? new Error('metrics export failed'));
        }
        resultCallback({ code: SUCCESS });
      };
      if (options.timeoutMillis !== undefined) {
        const timeoutMillis = options.timeoutMillis;
        timer = setTimeout(() => finish({ code: FAILED, error: new Error(`metrics export timed out after ${timeoutMillis} ms`) }), timeoutMillis);
        (timer as { unref?: () => void }).unref?.();
      }
      try {
        (exporter as PushExporterLike<unknown>).export(data, finish);
      } catch (error) {
        finish({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    fail,
    settled: async () => {
      await Promise.all([...inFlight]);
    },
  };
  // The reader asks the exporter for temporality and aggregation when it is made.
  if (exporter.selectAggregationTemporality !== undefined) {
    wrapped.selectAggregationTemporality = exporter.selectAggregationTemporality.bind(exporter);
  }
  if (exporter.selectAggregation !== undefined) wrapped.selectAggregation = exporter.selectAggregation.bind(exporter);
  // Same methods, same signatures: what the reader calls with its own types it gets back unchanged.
  return wrapped as ReportingExporter<E>;
}

/**
 * Resolves when `work` settles or after `timeoutMillis`, whichever comes first;
 * never rejects. Its timer does not keep a Node process alive.
 */
export async function settleWithin(work: Promise<unknown>, timeoutMillis: number): Promise<'done' | 'failed' | 'timed-out'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMillis);
    (timer as { unref?: () => void }).unref?.();
  });
  try {
    return await Promise.race([work.then(() => 'done' as const, () => 'failed' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A positive, finite number of milliseconds, or a RangeError naming the option. */
export function positiveMillis(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`uuid-lookup: ${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}
