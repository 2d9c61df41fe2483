import type { Meter } from '@opentelemetry/api';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { CollectionResult, MetricReader } from '@opentelemetry/sdk-metrics';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { prometheusName } from '../../contract/metrics.ts';

/**
 * The in-process Prometheus pull exporter, naming metrics as the Collector's
 * `prometheus` exporter does. OTel JS's exporter adds `_total` to counters but no
 * unit suffix (PrometheusSerializer); the Collector adds both. Renaming here, at
 * collection, makes `uuid.lookup.duration` (unit `s`) `uuid_lookup_duration_seconds`
 * through both paths, so dashboards and alert rules hold one set of names.
 */
export class CollectorNamedPrometheusExporter extends PrometheusExporter {
  override async collect(options?: { timeoutMillis?: number }): Promise<CollectionResult> {
    const result = await super.collect(options);
    for (const scope of result.resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        // 'gauge' names carry the unit word but no `_total`: the serializer adds that to counters.
        const name = prometheusName(metric.descriptor.name, metric.descriptor.unit, 'gauge');
        (metric as { descriptor: typeof metric.descriptor }).descriptor = { ...metric.descriptor, name };
      }
    }
    return result;
  }
}

/** Options of {@link createNodeTelemetry}. */
export interface NodeTelemetryOptions {
  /** `service.name`. */
  serviceName: string;
  /** `service.instance.id`: unique per process (the default, a random UUID), so cumulative series never collide. */
  serviceInstanceId?: string;
  /** OTLP/HTTP export to a collector; `false` turns it off. Default: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or the SDK's default. */
  otlp?: false | { url?: string; headers?: Record<string, string>; exportIntervalMillis?: number };
  /** A Prometheus pull endpoint in this process; off unless given. */
  prometheus?: { port?: number; host?: string; endpoint?: string };
}

/** What {@link createNodeTelemetry} made. */
export interface NodeTelemetry {
  meterProvider: MeterProvider;
  meter: Meter;
  /** The pull endpoint, when asked for. */
  prometheus?: CollectorNamedPrometheusExporter;
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

/**
 * The Node preset: cumulative temporality (one process, one writer per series,
 * told apart by a unique `service.instance.id`), OTLP/HTTP to the collector, and
 * optionally a Prometheus pull endpoint.
 *
 * @example
 * ```ts
 * const telemetry = createNodeTelemetry({ serviceName: 'booking-api', prometheus: { port: 9464 } });
 * const logger = createUuidLookupLogger({ meter: telemetry.meter, sink });
 * ```
 */
export function createNodeTelemetry(options: NodeTelemetryOptions): NodeTelemetry {
  if (options.serviceName === '') throw new Error('uuid-lookup: serviceName must not be empty');
  const readers: MetricReader[] = [];
  if (options.otlp !== false) {
    const otlp = options.otlp ?? {};
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          ...(otlp.url === undefined ? {} : { url: otlp.url }),
          ...(otlp.headers === undefined ? {} : { headers: otlp.headers }),
          temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
        }),
        exportIntervalMillis: otlp.exportIntervalMillis ?? 15_000,
      }),
    );
  }
  let prometheus: CollectorNamedPrometheusExporter | undefined;
  if (options.prometheus !== undefined) {
    prometheus = new CollectorNamedPrometheusExporter({
      port: options.prometheus.port ?? 9464,
      ...(options.prometheus.host === undefined ? {} : { host: options.prometheus.host }),
      endpoint: options.prometheus.endpoint ?? '/metrics',
    });
    readers.push(prometheus);
  }
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.serviceInstanceId ?? crypto.randomUUID(),
    }),
    readers,
  });
  return {
    meterProvider,
    meter: meterProvider.getMeter('uuid-lookup-observability'),
    ...(prometheus === undefined ? {} : { prometheus }),
    shutdown: () => meterProvider.shutdown(),
  };
}
