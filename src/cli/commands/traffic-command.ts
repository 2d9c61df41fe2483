import type { Command } from 'commander';
import { runWizardTraffic } from '../../node/demo/wizard-traffic.ts';
import { createNodeTelemetry } from '../../node/sdk/node-telemetry.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, refuseSimulatedDataOnServer, withDatabase } from '../cli-context.ts';
import { databaseOptions, integerBetween, numberBetween } from '../cli-options.ts';
import { printRecord } from '../output.ts';

interface TrafficOptions extends DatabaseCommandOptions {
  otlpUrl?: string;
  prometheusPort?: number;
  prometheusHost: string;
  rate: number;
  duration?: number;
  failureRatio: number;
  fallbackRatio: number;
  allowSimulatedData?: boolean;
}

/**
 * Simulated wizard traffic through the SDK (src/node/demo/wizard-traffic.ts) at
 * a rate, until stopped: metrics go to the collector (OTLP) and/or a pull
 * endpoint; events to analytics_events.
 */
export function registerTrafficCommand(program: Command): void {
  databaseOptions(
    program
      .command('traffic')
      .description('drive the SDK with simulated wizard lookups, so dashboards and alerts have data')
      .option('--otlp-url <url>', 'OTLP/HTTP metrics endpoint of the collector, e.g. http://localhost:4318/v1/metrics')
      .option('--prometheus-port <port>', 'serve the metrics for Prometheus on this port', integerBetween(1, 65_535))
      .option('--prometheus-host <address>', 'the address the metrics listen on (0.0.0.0: every interface, as in a container)', '127.0.0.1')
      .option('--rate <n>', 'lookups per second', numberBetween(0.1, 10_000), 5)
      .option('--duration <seconds>', 'stop after this long (default: run until Ctrl-C)', integerBetween(1, 31_536_000))
      .option('--failure-ratio <r>', 'share of lookups for slugs that match no service', numberBetween(0, 1), 0.03)
      .option('--fallback-ratio <r>', 'share of lookups that only the fallback map resolves', numberBetween(0, 1), 0.1)
      .option('--allow-simulated-data', 'let a server (--database-url or DATABASE_URL) receive the simulated lookup events'),
  ).action(async (options: TrafficOptions) => {
    if (options.otlpUrl === undefined && options.prometheusPort === undefined) {
      throw new CliError('give --otlp-url, --prometheus-port, or both: the metrics must go somewhere');
    }
    refuseSimulatedDataOnServer('traffic', options.databaseUrl ?? process.env.DATABASE_URL, options.allowSimulatedData, 'simulated lookup events');
    await withDatabase(options, async (db) => {
      const telemetry = createNodeTelemetry({
        serviceName: 'uuid-lookup-traffic',
        otlp: options.otlpUrl === undefined ? false : { url: options.otlpUrl, exportIntervalMillis: 10_000 },
        ...(options.prometheusPort === undefined ? {} : { prometheus: { port: options.prometheusPort, host: options.prometheusHost } }),
      });
      try {
        await telemetry.ready;
      } catch (error) {
        await telemetry.shutdown();
        const message = (error as Error).message.replace(/^uuid-lookup: /, '');
        throw new CliError(message.endsWith('is in use') ? `${message}: pick another with --prometheus-port` : message);
      }
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      try {
        const result = await runWizardTraffic(db, {
          meter: telemetry.meter,
          rate: options.rate,
          signal: stop.signal,
          failureRatio: options.failureRatio,
          fallbackRatio: options.fallbackRatio,
          ...(options.duration === undefined ? {} : { durationMillis: options.duration * 1000 }),
        });
        printRecord({ lookups: result.totalLookups, ...result }, options.json);
      } finally {
        await telemetry.shutdown();
      }
    });
  });
}
