// One tab of the booking wizard, wired as the README's browser snippet wires it:
// the browser preset as the global meter provider, the singleton logger, the
// page-hide flush. The harness (test/support/browser-tabs.ts) tells it where the
// collector is and which lookups to make; it skews this tab's clock before load.
import { metrics } from '@opentelemetry/api';
import { uuidLookupLogger } from '../../src/core/index.ts';
import { createBrowserTelemetry, installPageHideFlush } from '../../src/browser/index.ts';

/** One lookup the harness asks for: success (with or without fallback) or failure. */
export interface PlannedLookup {
  slug: string;
  ms: number;
  outcome: 'success' | 'failure';
  fallback: boolean;
}

const params = new URLSearchParams(location.search);
const telemetry = createBrowserTelemetry({
  serviceName: 'booking-wizard',
  otlpUrl: params.get('otlp') ?? '/otel/v1/metrics',
  exportIntervalMillis: Number(params.get('interval') ?? 30_000),
  onExportError: (error) => ((window as unknown as { exportErrors: string[] }).exportErrors ??= []).push(error.cause instanceof Error ? `${error.message} (${error.cause.name}: ${error.cause.message})` : error.message),
});
metrics.setGlobalMeterProvider(telemetry.meterProvider);
installPageHideFlush({ logger: uuidLookupLogger, telemetry });

const uuid = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';
Object.assign(window, {
  lookups(plan: PlannedLookup[]): number {
    for (const l of plan) {
      if (l.outcome === 'failure') uuidLookupLogger.logFailure(l.slug, l.ms, 'Service not found');
      else uuidLookupLogger.logSuccess(l.slug, uuid, l.ms, l.fallback);
    }
    return uuidLookupLogger.getMetrics().totalLookups;
  },
  tabReady: true,
});
