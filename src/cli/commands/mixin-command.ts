import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { parse, parseDocument } from 'yaml';
import type { MixinConfig } from '../../mixin/mixin-config.ts';
import { defaultMixinConfig, MixinConfigError, resolveMixinConfig } from '../../mixin/mixin-config.ts';
import { GENERATED_MARK, GRAFANA_ALERTING_FILES, renderMixinJson, renderMonitoringFiles, renderOperatorManifests } from '../../mixin/render-monitoring-files.ts';
import { CliError } from '../cli-context.ts';

/**
 * The stack's files that are written by hand and shipped in the package (package.json
 * `files`): a render copies them beside the generated ones, so an installed package
 * gives everything the rendered rules read (the collector that makes the lookup
 * metrics, Prometheus's jobs, Alertmanager's routes; the exporter's queries are rendered).
 */
const STACK_FILES: string[] = [
  'otel-collector/config.yaml',
  'otel-collector/builder-config.yaml',
  'otel-collector/gateway.nginx.conf',
  'prometheus/prometheus.yml',
  'prometheus/alertmanager.yml',
];
// The package root: three folders up from src/cli/commands/ or dist/cli/commands/.
const PACKAGE_ROOT = new URL('../../../', import.meta.url);

/** prometheus/prometheus.yml with the contract's job names replaced by the configuration's (comments kept; a job set to '' dropped). */
function withConfiguredJobs(text: string, config: MixinConfig): string {
  const renamed: Record<string, string> = {
    [defaultMixinConfig.lookupJob]: config.lookupJob,
    [defaultMixinConfig.migrationJob]: config.migrationJob,
    [defaultMixinConfig.workerJob]: config.workerJob,
    [defaultMixinConfig.collectorJob]: config.collectorJob,
  };
  const doc = parseDocument(text);
  const jobs = doc.get('scrape_configs') as { items: { get(key: string): unknown; set(key: string, value: unknown): void }[] } | undefined;
  if (jobs !== undefined) {
    // A job configured as '' (no worker, no collector) is not scraped at all.
    jobs.items = jobs.items.filter((job) => renamed[String(job.get('job_name'))] !== '');
    for (const job of jobs.items) {
      const name = job.get('job_name');
      if (typeof name === 'string' && renamed[name] !== undefined) job.set('job_name', renamed[name]);
    }
  }
  return doc.toString();
}

/** Files a render writes only with some options: removed when a later render drops them, if the mixin wrote them. */
const OPTIONAL_FILES: string[] = Object.values(GRAFANA_ALERTING_FILES);

async function readConfig(file: string | undefined): Promise<unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`mixin: cannot read --config ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    // YAML is a superset of JSON: either works.
    return parse(text) ?? {};
  } catch (error) {
    throw new CliError(`mixin: --config ${file} is neither JSON nor YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function render(options: { config?: string; out: string; format: 'files' | 'operator' | 'jsonnet' }): Promise<void> {
  let config;
  try {
    config = resolveMixinConfig(await readConfig(options.config));
  } catch (error) {
    if (error instanceof MixinConfigError) throw new CliError(`mixin: ${options.config ?? 'configuration'}: ${error.message}`);
    throw error;
  }
  if (options.format === 'operator') {
    await writeAll(options.out, renderOperatorManifests(config));
    return;
  }
  if (options.format === 'jsonnet') {
    await writeAll(options.out, new Map([['mixin.json', renderMixinJson(config)]]));
    return;
  }
  const files = renderMonitoringFiles(config);
  const stack = new Map<string, string>();
  for (const file of STACK_FILES) {
    const text = await readFile(new URL(file, PACKAGE_ROOT), 'utf8');
    stack.set(file, file === 'prometheus/prometheus.yml' ? withConfiguredJobs(text, config) : text);
  }
  await writeAll(options.out, new Map([...files, ...stack]));
  for (const file of OPTIONAL_FILES.filter((f) => !files.has(f))) {
    const target = path.join(options.out, file);
    const existing = await readFile(target, 'utf8').catch(() => undefined);
    if (existing?.includes(GENERATED_MARK)) {
      await rm(target);
      process.stdout.write(`removed ${target} (no longer rendered by this configuration)\n`);
    }
  }
}

async function writeAll(out: string, files: Map<string, string>): Promise<void> {
  for (const [file, content] of files) {
    const target = path.join(out, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    process.stdout.write(`wrote ${target}\n`);
  }
}

export function registerMixinCommands(program: Command): void {
  const mixin = program
    .command('mixin')
    .description('the monitoring files (Prometheus rules and tests, Grafana dashboards and alerting) for your jobs, thresholds and datasources');
  mixin
    .command('render')
    .description('render every monitoring file for a configuration (JSON or YAML; keys left out keep their defaults: see `mixin config`), with the collector, Prometheus, Alertmanager and exporter files they need')
    .option('--config <file>', 'the configuration file; none: the defaults')
    .requiredOption('--out <dir>', 'folder to write prometheus/, grafana/ and otel-collector/ under (created; files of the same name are replaced)')
    .addOption(
      new Option(
        '--format <format>',
        "files: the stack's files; operator: a PrometheusRule, ServiceMonitors and dashboard ConfigMaps for prometheus-operator and Grafana's sidecar (see the configuration's operator keys); jsonnet: mixin.json (prometheusAlerts, prometheusRules, grafanaDashboards) for jsonnet's mixin tooling",
      )
        .choices(['files', 'operator', 'jsonnet'])
        .default('files'),
    )
    .action(render);
  mixin
    .command('config')
    .description('print the default configuration as JSON: a starting point for --config')
    .action(() => {
      process.stdout.write(`${JSON.stringify(defaultMixinConfig, null, 2)}\n`);
    });
}
