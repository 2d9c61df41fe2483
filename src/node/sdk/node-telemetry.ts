import type { Meter } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { CollectionResult, MetricReader } from '@opentelemetry/sdk-metrics';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { prometheusName } from '../../contract/metrics.ts';
import type { ReportingExporter } from '../../core/export-failures.ts';
import { positiveMillis, reportExportFailures, settleWithin, warnOnConsole } from '../../core/export-failures.ts';

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
  /**
   * OTLP/HTTP export to a collector; `false` turns it off. Default: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
   * or the SDK's default. `timeoutMillis` bounds one export, retries included (default 2000, or
   * `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`; at most the interval): it is
   * also how long an export in flight can keep the process alive. Series are cumulative, so an
   * export that fails loses nothing; the next one carries the totals.
   */
  otlp?: false | { url?: string; headers?: Record<string, string>; exportIntervalMillis?: number; timeoutMillis?: number };
  /** A Prometheus pull endpoint in this process; off unless given. */
  prometheus?: { port?: number; host?: string; endpoint?: string };
  /** How long `shutdown()` waits at most for the last export. Default 2000. */
  shutdownTimeoutMillis?: number;
  /**
   * Told when metric exports start failing: once, and again only after they have
   * recovered. Default: one line on the console (`console.warn`).
   */
  onExportError?: (error: Error) => void;
  /**
   * Register the meter provider as OpenTelemetry's global one (default true), as the
   * OpenTelemetry Node SDK does, so that `uuidLookupLogger` and any logger given no
   * meter record here; `shutdown()` unregisters it. `false` for an application that
   * registers its own provider (then pass `meter` to the logger).
   */
  global?: boolean;
}

/** What {@link createNodeTelemetry} made. */
export interface NodeTelemetry {
  meterProvider: MeterProvider;
  meter: Meter;
  /**
   * Settles when the Prometheus endpoint listens (at once without one); rejects,
   * with one line to show, when its port is taken or its address cannot be bound.
   * Awaiting it is optional: an unawaited failure does not crash the process.
   */
  ready: Promise<void>;
  /** The pull endpoint, when asked for. */
  prometheus?: CollectorNamedPrometheusExporter;
  /**
   * Exports what is pending and stops, within `timeoutMillis` (default: the
   * `shutdownTimeoutMillis` option), whatever the collector does: an export cut
   * short is reported, not thrown. Safe to call twice.
   */
  shutdown(options?: { timeoutMillis?: number }): Promise<void>;
}

const DEFAULT_EXPORT_TIMEOUT_MILLIS = 2_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 2_000;

// OpenTelemetry's own variables for the export timeout, read only when the option is not given.
function timeoutFromEnvironment(): number | undefined {
  for (const name of ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']) {
    const value = Number(process.env[name] ?? Number.NaN);
    if (Number.isFinite(value) && value > 0) return value;
  }
  return undefined;
}

/**
 * The Node preset: cumulative temporality (one process, one writer per series,
 * told apart by a unique `service.instance.id`), OTLP/HTTP to the collector, and
 * optionally a Prometheus pull endpoint.
 *
 * Without a collector it stays out of the way: an export gives up after its
 * timeout (2 s), no timer of its own keeps the process alive, `shutdown()`
 * returns within its bound (2 s), and the failure is reported once.
 *
 * @example
 * ```ts
 * const telemetry = createNodeTelemetry({ serviceName: 'booking-api', prometheus: { port: 9464 } });
 * const logger = createUuidLookupLogger({ meter: telemetry.meter, sink });
 * ```
 */
export function createNodeTelemetry(options: NodeTelemetryOptions): NodeTelemetry {
  if (options.serviceName === '') throw new Error('uuid-lookup: serviceName must not be empty');
  const shutdownTimeoutMillis = positiveMillis('shutdownTimeoutMillis', options.shutdownTimeoutMillis, DEFAULT_SHUTDOWN_TIMEOUT_MILLIS);
  const readers: MetricReader[] = [];
  let reporting: ReportingExporter<OTLPMetricExporter> | undefined;
  if (options.otlp !== false) {
    const otlp = options.otlp ?? {};
    const exportIntervalMillis = positiveMillis('otlp.exportIntervalMillis', otlp.exportIntervalMillis, 15_000);
    const timeoutMillis = Math.min(
      positiveMillis('otlp.timeoutMillis', otlp.timeoutMillis, timeoutFromEnvironment() ?? DEFAULT_EXPORT_TIMEOUT_MILLIS),
      exportIntervalMillis,
    );
    const exporter = new OTLPMetricExporter({
      ...(otlp.url === undefined ? {} : { url: otlp.url }),
      ...(otlp.headers === undefined ? {} : { headers: otlp.headers }),
      temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
      // Bounds the exporter's own retries (and their timers) as well as each request.
      timeoutMillis,
    });
    reporting = reportExportFailures(exporter, {
      timeoutMillis,
      onError: options.onExportError ?? warnOnConsole(`OTLP metrics export${otlp.url === undefined ? '' : ` to ${otlp.url}`}`),
    });
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: reporting,
        exportIntervalMillis,
        // The wrapper answers within timeoutMillis; the reader's own limit is only a backstop.
        exportTimeoutMillis: Math.min(timeoutMillis + 1_000, exportIntervalMillis),
      }),
    );
  }
  let prometheus: CollectorNamedPrometheusExporter | undefined;
  if (options.prometheus !== undefined) {
    prometheus = new CollectorNamedPrometheusExporter({
      port: options.prometheus.port ?? 9464,
      ...(options.prometheus.host === undefined ? {} : { host: options.prometheus.host }),
      endpoint: options.prometheus.endpoint ?? '/metrics',
      // Started below, so that a port in use is an answer, not a log line.
      preventServerStart: true,
    });
    readers.push(prometheus);
  }
  const where = `${options.prometheus?.host ?? 'localhost'}:${options.prometheus?.port ?? 9464}`;
  const ready =
    prometheus === undefined
      ? Promise.resolve()
      : prometheus.startServer().catch((error: NodeJS.ErrnoException) => {
          throw new Error(
            error.code === 'EADDRINUSE'
              ? `uuid-lookup: the metrics port ${where} is in use`
              : `uuid-lookup: cannot serve metrics on ${where}: ${error.message}`,
          );
        });
  ready.catch(() => {}); // handled here too: a caller that never awaits it is not crashed
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.serviceInstanceId ?? crypto.randomUUID(),
    }),
    readers,
  });
  // Refused (with OpenTelemetry's own diagnostic) when the application registered another first.
  const registered = options.global !== false && metrics.setGlobalMeterProvider(meterProvider);
  let stopped: Promise<void> | undefined;
  return {
    meterProvider,
    meter: meterProvider.getMeter('uuid-lookup-observability'),
    ready,
    ...(prometheus === undefined ? {} : { prometheus }),
    shutdown(shutdownOptions = {}) {
      const bound = positiveMillis('timeoutMillis', shutdownOptions.timeoutMillis, shutdownTimeoutMillis);
      if (registered && metrics.getMeterProvider() === meterProvider) metrics.disable();
      return (stopped ??= settleWithin(meterProvider.shutdown(), bound).then((outcome) => {
        if (outcome === 'timed-out') {
          reporting?.fail(new Error(`metrics shutdown did not finish within ${bound} ms; the last export was abandoned`));
        }
      }));
    },
  };
}
