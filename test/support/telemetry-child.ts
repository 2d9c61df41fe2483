// A plain Node process that uses the Node preset as an application does, for
// test/unit/node-telemetry-process.test.ts. Prints one JSON line when its work is
// done; the parent measures how long the process takes to exit after that.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import { createNodeTelemetry } from '../../src/node/sdk/node-telemetry.ts';

interface ChildConfig {
  /** The collector's OTLP endpoint (a closed port, or one that never answers). */
  url: string;
  prometheusPort: number;
  /** Call telemetry.shutdown() when the work is done. */
  shutdown: boolean;
  shutdownTimeoutMillis?: number;
  exportIntervalMillis?: number;
  /** How long the "application" keeps working (lookups every 50 ms). */
  workMillis: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
// An application that listens to OpenTelemetry's diagnostics, as operators are told to.
const toStderr = (level: string) => (message: string, ...args: unknown[]) => console.error(`diag ${level}: ${message}`, ...args.map(String));
diag.setLogger({ error: toStderr('error'), warn: toStderr('warn'), info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);

const telemetry = createNodeTelemetry({
  serviceName: 'telemetry-child',
  otlp: { url: config.url, ...(config.exportIntervalMillis === undefined ? {} : { exportIntervalMillis: config.exportIntervalMillis }) },
  prometheus: { port: config.prometheusPort, host: '127.0.0.1' },
});
const logger = createUuidLookupLogger({ meter: telemetry.meter });
const work = setInterval(() => logger.logSuccess('wall-painting', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 25, false), 50);
await new Promise((resolve) => setTimeout(resolve, config.workMillis));
clearInterval(work);

let shutdownMillis: number | null = null;
if (config.shutdown) {
  const started = performance.now();
  await telemetry.shutdown(config.shutdownTimeoutMillis === undefined ? undefined : { timeoutMillis: config.shutdownTimeoutMillis });
  shutdownMillis = performance.now() - started;
}
console.log(JSON.stringify({ done: true, shutdownMillis }));
