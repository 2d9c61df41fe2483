import type { Meter } from '@opentelemetry/api';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

/** Options of {@link createBrowserTelemetry}. */
export interface BrowserTelemetryOptions {
  serviceName: string;
  /** The collector's OTLP/HTTP metrics endpoint, e.g. `https://otel.example.com/v1/metrics` (CORS enabled). */
  otlpUrl: string;
  headers?: Record<string, string>;
  /** Default 30000: browsers are many; each exports deltas. */
  exportIntervalMillis?: number;
}

/** What {@link createBrowserTelemetry} made. */
export interface BrowserTelemetry {
  meterProvider: MeterProvider;
  meter: Meter;
  /** Exports pending deltas now (the page-hide hook calls it). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The browser preset: **delta** temporality. Thousands of tabs exporting
 * cumulative series under one identity would overwrite each other (OTel's
 * single-writer rule); each tab sends what happened since its last export and
 * the collector's `deltatocumulative` processor adds them up.
 *
 * @example
 * ```ts
 * const telemetry = createBrowserTelemetry({ serviceName: 'booking-wizard', otlpUrl: '/otel/v1/metrics' });
 * const logger = createUuidLookupLogger({ meter: telemetry.meter, sink });
 * installPageHideFlush({ logger, telemetry });
 * ```
 */
export function createBrowserTelemetry(options: BrowserTelemetryOptions): BrowserTelemetry {
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: options.otlpUrl,
          ...(options.headers === undefined ? {} : { headers: options.headers }),
          temporalityPreference: AggregationTemporalityPreference.DELTA,
        }),
        exportIntervalMillis: options.exportIntervalMillis ?? 30_000,
      }),
    ],
  });
  return {
    meterProvider,
    meter: meterProvider.getMeter('uuid-lookup-observability'),
    forceFlush: () => meterProvider.forceFlush(),
    shutdown: () => meterProvider.shutdown(),
  };
}
