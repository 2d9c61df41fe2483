import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { RunningProcess } from './processes.ts';
import { freePort, startProcess, waitFor } from './processes.ts';
import { defaultMixinConfig } from '../../src/mixin/mixin-config.ts';
import { prometheusRules } from '../../src/mixin/prometheus-rules.ts';
import { toolBinary } from './tools.ts';

// The shipped monitoring files, run by the pinned servers (npm run tools) on loopback.
// Each starter reads the repository's file and changes only what cannot be the same
// here: addresses, file paths, and (said where done) intervals short enough for a test.

const root = path.resolve(import.meta.dirname, '../..');
export const repo = (file: string): string => path.join(root, file);

const readYaml = <T>(file: string): T => parse(readFileSync(repo(file), 'utf8')) as T;

/** A started server: its process, and the address Prometheus scrapes or clients use. */
export interface StackServer {
  process: RunningProcess;
  /** host:port */
  address: string;
}

async function ready(what: string, server: RunningProcess, url: string, timeoutMillis = 60_000): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (server.child.exitCode !== null) throw new Error(`${what} exited: ${server.output().slice(-2000)}`);
      return (await fetch(url)).ok ? true : undefined;
    },
    timeoutMillis,
  );
}

/** The collector: the OTLP/HTTP URL for exporters, and the Prometheus exporter's and its own metrics' addresses. */
export interface RunningCollector extends StackServer {
  otlpHttpUrl: string;
  /** The collector's own metrics (service.telemetry), e.g. deltatocumulative's dropped points. */
  telemetryAddress: string;
}

/**
 * otel-collector/config.yaml as shipped, with its listen addresses moved to free
 * loopback ports and the browser origin allowed by CORS (and, for a benchmark's
 * baseline, some processors taken out of its pipelines).
 */
export async function startCollector(dir: string, options: { corsOrigin?: string; withoutProcessors?: string[] } = {}): Promise<RunningCollector> {
  type Config = {
    extensions: { health_check: { endpoint: string } };
    receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
    exporters: { prometheus: { endpoint: string } };
    service: {
      telemetry: { metrics: { readers: { pull: { exporter: { prometheus: { host: string; port: number } } } }[] } };
      pipelines: Record<string, { processors: string[] }>;
    };
  };
  const config = readYaml<Config>('otel-collector/config.yaml');
  const [grpc, http, health, exporter, telemetry] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  config.receivers.otlp.protocols.grpc.endpoint = `127.0.0.1:${grpc}`;
  config.receivers.otlp.protocols.http.endpoint = `127.0.0.1:${http}`;
  config.extensions.health_check.endpoint = `127.0.0.1:${health}`;
  config.exporters.prometheus.endpoint = `127.0.0.1:${exporter}`;
  for (const reader of config.service.telemetry.metrics.readers) Object.assign(reader.pull.exporter.prometheus, { host: '127.0.0.1', port: telemetry });
  // A benchmark's baseline: the same pipelines without some processors.
  for (const pipeline of Object.values(config.service.pipelines)) pipeline.processors = pipeline.processors.filter((p) => !options.withoutProcessors?.includes(p));
  const file = path.join(dir, `otelcol-${http}.yaml`);
  writeFileSync(file, stringify(config));
  const process = startProcess(toolBinary('otelcol-uuid-lookup'), [`--config=${file}`], { OTEL_CORS_ALLOWED_ORIGIN: options.corsOrigin ?? 'http://127.0.0.1' });
  await ready('the collector to be healthy', process, `http://127.0.0.1:${health}/`);
  return { process, address: `127.0.0.1:${exporter}`, otlpHttpUrl: `http://127.0.0.1:${http}/v1/metrics`, telemetryAddress: `127.0.0.1:${telemetry}` };
}

/** postgres_exporter with prometheus/postgres-exporter/queries.yml, logged in as `dsn`. */
export async function startPostgresExporter(dsn: string, options: { queriesFile?: string } = {}): Promise<StackServer> {
  const port = await freePort();
  const process = startProcess(
    toolBinary('postgres_exporter'),
    [`--web.listen-address=127.0.0.1:${port}`, `--extend.query-path=${options.queriesFile ?? repo('prometheus/postgres-exporter/queries.yml')}`, '--disable-default-metrics', '--disable-settings-metrics'],
    { DATA_SOURCE_NAME: dsn },
  );
  await ready('postgres_exporter', process, `http://127.0.0.1:${port}/metrics`);
  return { process, address: `127.0.0.1:${port}` };
}

/**
 * prometheus/alertmanager.yml as shipped, its receivers' webhooks pointed at
 * `${webhookUrl}/<receiver name>`, and no waiting before a group is sent (1 s).
 */
export async function startAlertmanager(dir: string, webhookUrl: string): Promise<StackServer> {
  const config = readYaml<{
    route: Record<string, unknown> & { routes: Record<string, unknown>[] };
    receivers: { name: string; webhook_configs: { url: string }[] }[];
  }>('prometheus/alertmanager.yml');
  for (const receiver of config.receivers) for (const hook of receiver.webhook_configs) hook.url = `${webhookUrl}/${receiver.name}`;
  for (const route of [config.route, ...config.route.routes]) Object.assign(route, { group_wait: '1s', group_interval: '1s' });
  const port = await freePort();
  const file = path.join(dir, `alertmanager-${port}.yml`);
  writeFileSync(file, stringify(config));
  const process = startProcess(toolBinary('alertmanager'), [
    `--config.file=${file}`,
    `--storage.path=${path.join(dir, `am-data-${port}`)}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ]);
  await ready('Alertmanager', process, `http://127.0.0.1:${port}/-/ready`);
  return { process, address: `127.0.0.1:${port}` };
}

/** A started Prometheus, and a restart that keeps its port and data. */
export interface RunningPrometheus extends StackServer {
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * prometheus/prometheus.yml as shipped: every job it scrapes, each pointed at the
 * addresses given for it instead of its static or DNS targets (a job given none is dropped), `rulesFile` for its rule
 * files, `alertmanager` for its Alertmanager. Scrapes and evaluations every second
 * (15 s and 30 s shipped) so that a test sees rules and alerts within seconds.
 */
export async function startPrometheus(
  dir: string,
  options: { targets: Record<string, string[]>; rulesFile?: string; alertmanager?: string },
): Promise<RunningPrometheus> {
  type Job = { job_name: string; scrape_interval?: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: unknown[] };
  const config = readYaml<{
    global: Record<string, string>;
    rule_files: string[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: Job[];
  }>('prometheus/prometheus.yml');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const targets: Record<string, string[]> = { prometheus: [`127.0.0.1:${port}`], ...options.targets };
  const unknown = Object.keys(targets).filter((job) => !config.scrape_configs.some((c) => c.job_name === job));
  if (unknown.length > 0) throw new Error(`prometheus/prometheus.yml has no job ${unknown.join(', ')}`);
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.scrape_configs = config.scrape_configs
    .filter((job) => targets[job.job_name] !== undefined)
    // Docker's DNS discovers the replicas in compose; here, the addresses given.
    .map(({ scrape_interval: _interval, dns_sd_configs: _dns, ...job }) => ({ ...job, static_configs: [{ targets: targets[job.job_name] ?? [] }] }));
  config.rule_files = options.rulesFile === undefined ? [] : [options.rulesFile];
  config.alerting = { alertmanagers: options.alertmanager === undefined ? [] : [{ static_configs: [{ targets: [options.alertmanager] }] }] };
  const file = path.join(dir, `prometheus-${port}.yml`);
  writeFileSync(file, stringify(config));
  const start = async (): Promise<RunningProcess> => {
    const process = startProcess(toolBinary('prometheus'), [
      `--config.file=${file}`,
      `--storage.tsdb.path=${path.join(dir, `prom-data-${port}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    await ready('Prometheus', process, `${url}/-/ready`);
    return process;
  };
  const running: RunningPrometheus = {
    process: await start(),
    address: `127.0.0.1:${port}`,
    url,
    stop: () => running.process.stop(),
    async restart() {
      await running.process.stop();
      running.process = await start();
    },
  };
  return running;
}

/**
 * The generated rules as the stack tests load them: `for` at zero and a 1 s evaluation,
 * so an alert fires within seconds of its condition. Returns the file's path.
 */
export function writeImmediateRules(dir: string): string {
  const file = path.join(dir, 'uuid-lookup.rules.yml');
  writeFileSync(file, stringify(prometheusRules({ ...defaultMixinConfig, forDuration: { warning: '0s', critical: '0s', absent: '0s' }, evaluationInterval: '1s' })));
  return file;
}

/** An instant query's result, as Prometheus's HTTP API gives it. */
export interface PromQueryResult {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export async function promQuery(prometheusUrl: string, expr: string): Promise<PromQueryResult> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as PromQueryResult;
}
