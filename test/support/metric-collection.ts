import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** A MetricReader collected on demand: the real SDK, no exporter. */
export class TestMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A real MeterProvider and its reader. */
export function createTestMeter(): { provider: MeterProvider; reader: TestMetricReader } {
  const reader = new TestMetricReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { provider, reader };
}

/** The collected metrics, by instrument name. */
export async function collectMetrics(reader: MetricReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
  return byName;
}

/** Sum of a counter's data points matching `attributes`. */
export function counterValue(metric: MetricData | undefined, attributes: Record<string, string> = {}): number {
  if (metric === undefined) return 0;
  return (metric.dataPoints as DataPoint<number>[])
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((sum, point) => sum + point.value, 0);
}

/** The histogram data points of a metric. */
export function histogramPoints(metric: MetricData | undefined): DataPoint<Histogram>[] {
  return (metric?.dataPoints ?? []) as DataPoint<Histogram>[];
}
