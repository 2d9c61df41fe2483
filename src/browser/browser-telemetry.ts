import { diag, type Meter } from '@opentelemetry/api';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { positiveMillis, reportExportFailures, settleWithin, warnOnConsole } from '../core/export-failures.ts';

/** Options of {@link createBrowserTelemetry}. */
export interface BrowserTelemetryOptions {
  serviceName: string;
  /** The collector's OTLP/HTTP metrics endpoint, e.g. `https://otel.example.com/v1/metrics` (CORS enabled). */
  otlpUrl: string;
  headers?: Record<string, string>;
  /** Default 30000: browsers are many; each exports deltas. */
  exportIntervalMillis?: number;
  /** One export, retries included. Default: the OTLP exporter's (10000, at most the interval). */
  timeoutMillis?: number;
  /** How long `shutdown()` waits at most for the last export. Default 2000. */
  shutdownTimeoutMillis?: number;
  /**
   * Told when metric exports start failing: once, and again only after they have
   * recovered. Default: one line on the console (`console.warn`).
   */
  onExportError?: (error: Error) => void;
}

/** What {@link createBrowserTelemetry} made. */
export interface BrowserTelemetry {
  meterProvider: MeterProvider;
  meter: Meter;
  /**
   * Exports pending deltas now, without waiting for an export in flight (the
   * page-hide hook calls it: a closing page cannot wait for an answer), and
   * resolves once every export has been answered.
   */
  forceFlush(): Promise<void>;
  /** Exports what is pending and stops, within `timeoutMillis` (default: `shutdownTimeoutMillis`). Safe to call twice. */
  shutdown(options?: { timeoutMillis?: number }): Promise<void>;
}

/**
 * The browser preset: **delta** temporality. Thousands of tabs exporting
 * cumulative series under one identity would overwrite each other (OTel's
 * single-writer rule); each tab sends what happened since its last export, and
 * the shipped collector config stamps each delta with the collector's clock and
 * adds them up (`transform/stamp_deltas`, `delta_to_cumulative`): a collector
 * without that stamp drops most of them, since tabs' clocks and exports
 * interleave (docs/architecture.md, "The browsers' metrics path").
 *
 * @example
 * ```ts
 * const telemetry = createBrowserTelemetry({ serviceName: 'booking-wizard', otlpUrl: '/otel/v1/metrics' });
 * const logger = createUuidLookupLogger({ meter: telemetry.meter, sink });
 * installPageHideFlush({ logger, telemetry });
 * ```
 */
export function createBrowserTelemetry(options: BrowserTelemetryOptions): BrowserTelemetry {
  const shutdownTimeoutMillis = positiveMillis('shutdownTimeoutMillis', options.shutdownTimeoutMillis, 2_000);
  const exportIntervalMillis = positiveMillis('exportIntervalMillis', options.exportIntervalMillis, 30_000);
  const timeoutMillis =
    options.timeoutMillis === undefined ? undefined : Math.min(positiveMillis('timeoutMillis', options.timeoutMillis, 0), exportIntervalMillis);
  const exporter = reportExportFailures(
    new OTLPMetricExporter({
      url: options.otlpUrl,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(timeoutMillis === undefined ? {} : { timeoutMillis }),
      temporalityPreference: AggregationTemporalityPreference.DELTA,
    }),
    { onError: options.onExportError ?? warnOnConsole(`OTLP metrics export to ${options.otlpUrl}`), ...(timeoutMillis === undefined ? {} : { timeoutMillis }) },
  );
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis });
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [reader],
  });
  // Collects what is pending and hands it to the exporter now, in this task: the
  // reader's own forceFlush first waits for an export in flight to be answered
  // (it never runs two at once), and a page being hidden or closed is gone by
  // then, with its last lookups. Two exports at once are safe on this path: they
  // carry disjoint deltas, which the collector stamps and adds in any order.
  const exportNow = async (): Promise<void> => {
    try {
      const { resourceMetrics, errors } = await reader.collect();
      for (const error of errors) diag.error('uuid-lookup: metrics collection failed', error);
      if (resourceMetrics.scopeMetrics.every((scope) => scope.metrics.every((metric) => metric.dataPoints.length === 0))) return;
      await new Promise<void>((resolve) => exporter.export(resourceMetrics, () => resolve()));
    } catch (error) {
      // Shut down already, or a collection that threw: nothing to send.
      diag.debug('uuid-lookup: page-hide export skipped', error);
    }
  };
  let stopped: Promise<void> | undefined;
  return {
    meterProvider,
    meter: meterProvider.getMeter('uuid-lookup-observability'),
    forceFlush: async () => {
      await exportNow();
      await exporter.settled(); // the periodic export that was in flight too
      await exporter.forceFlush();
    },
    shutdown(shutdownOptions = {}) {
      const bound = positiveMillis('timeoutMillis', shutdownOptions.timeoutMillis, shutdownTimeoutMillis);
      return (stopped ??= settleWithin(
        exportNow().then(() => meterProvider.shutdown()),
        bound,
      ).then((outcome) => {
        if (outcome === 'timed-out') exporter.fail(new Error(`metrics shutdown did not finish within ${bound} ms; the last export was abandoned`));
      }));
    },
  };
}
