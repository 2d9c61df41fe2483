import type { Meter } from '@opentelemetry/api';
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
  /** Exports pending deltas now (the page-hide hook calls it). */
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
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis })],
  });
  let stopped: Promise<void> | undefined;
  return {
    meterProvider,
    meter: meterProvider.getMeter('uuid-lookup-observability'),
    forceFlush: () => meterProvider.forceFlush(),
    shutdown(shutdownOptions = {}) {
      const bound = positiveMillis('timeoutMillis', shutdownOptions.timeoutMillis, shutdownTimeoutMillis);
      return (stopped ??= settleWithin(meterProvider.shutdown(), bound).then((outcome) => {
        if (outcome === 'timed-out') exporter.fail(new Error(`metrics shutdown did not finish within ${bound} ms; the last export was abandoned`));
      }));
    },
  };
}
