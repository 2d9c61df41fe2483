import type { Command } from 'commander';
import { createSlugResolver } from '../../core/slug-resolver.ts';
import { createUuidLookupLogger } from '../../core/uuid-lookup-logger.ts';
import { createPgAnalyticsSink } from '../../node/sdk/pg-analytics-sink.ts';
import { createPgSlugSource } from '../../node/sdk/pg-slug-source.ts';
import { createNodeTelemetry } from '../../node/sdk/node-telemetry.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions, integerBetween, numberBetween } from '../cli-options.ts';
import { printRecord } from '../output.ts';

interface TrafficOptions extends DatabaseCommandOptions {
  otlpUrl?: string;
  prometheusPort?: number;
  rate: number;
  duration?: number;
  failureRatio: number;
  fallbackRatio: number;
}

/**
 * Simulated wizard traffic through the SDK: real lookups against micro_services
 * (no cache, so each one is timed and logged), with unknown slugs for failures
 * and legacy slugs that only the fallback map knows. Metrics go to the collector
 * (OTLP) and/or a pull endpoint; events to analytics_events.
 */
export function registerTrafficCommand(program: Command): void {
  databaseOptions(
    program
      .command('traffic')
      .description('drive the SDK with simulated wizard lookups, so dashboards and alerts have data')
      .option('--otlp-url <url>', 'OTLP/HTTP metrics endpoint of the collector, e.g. http://localhost:4318/v1/metrics')
      .option('--prometheus-port <port>', 'serve the metrics for Prometheus on this port', integerBetween(1, 65_535))
      .option('--rate <n>', 'lookups per second', numberBetween(0.1, 10_000), 5)
      .option('--duration <seconds>', 'stop after this long (default: run until Ctrl-C)', integerBetween(1, 31_536_000))
      .option('--failure-ratio <r>', 'share of lookups for slugs that match no service', numberBetween(0, 1), 0.03)
      .option('--fallback-ratio <r>', 'share of lookups that only the fallback map resolves', numberBetween(0, 1), 0.1),
  ).action(async (options: TrafficOptions) => {
    if (options.otlpUrl === undefined && options.prometheusPort === undefined) {
      throw new CliError('give --otlp-url, --prometheus-port, or both: the metrics must go somewhere');
    }
    await withDatabase(options, async (db) => {
      const { rows } = await db.query<{ id: string; slug: string }>('SELECT id, slug FROM public.micro_services ORDER BY slug');
      if (rows.length === 0) throw new CliError('micro_services is empty: run `uuid-lookup db seed` first');
      const telemetry = createNodeTelemetry({
        serviceName: 'uuid-lookup-traffic',
        otlp: options.otlpUrl === undefined ? false : { url: options.otlpUrl, exportIntervalMillis: 10_000 },
        ...(options.prometheusPort === undefined ? {} : { prometheus: { port: options.prometheusPort } }),
      });
      const logger = createUuidLookupLogger({ meter: telemetry.meter, sink: createPgAnalyticsSink({ db }), knownSlugs: rows.map((r) => r.slug) });
      const fallback = new Map(['painting-legacy', 'tiles-legacy', 'handyman-legacy'].map((slug, i) => [slug, rows[i % rows.length]!.id]));
      const resolver = createSlugResolver({ source: createPgSlugSource(db), logger, cacheTtlMillis: 0, negativeCacheTtlMillis: 0, fallback });
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const until = options.duration === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.duration * 1000;
      const interval = 1000 / options.rate;
      let sent = 0;
      while (!stop.signal.aborted && Date.now() < until) {
        const dice = Math.random();
        const slug =
          dice < options.failureRatio
            ? `unknown-service-${Math.floor(Math.random() * 5)}`
            : dice < options.failureRatio + options.fallbackRatio
              ? [...fallback.keys()][Math.floor(Math.random() * fallback.size)]!
              : rows[Math.floor(Math.random() * rows.length)]!.slug;
        await resolver.resolve(slug).catch(() => null);
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
      await logger.shutdown();
      await telemetry.shutdown();
      printRecord({ lookups: sent, ...logger.getMetrics() }, options.json);
    });
  });
}
