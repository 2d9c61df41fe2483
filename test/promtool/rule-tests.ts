// The promtool unit tests of the alert rules, as data. Inputs and expectations
// are literal numbers and strings here, independent of the mixin that generates
// the rules: the thresholds are checked, not restated from the same source.
// `npm run generate:monitoring` writes them to prometheus/tests/.
import { stringify } from 'yaml';

const STEPS = 60; // 30 s steps: 30 minutes of samples
const EVAL = '20m'; // past every `for` (critical 5m, warning 10m, absent 15m)
const JOB = 'job="uuid-lookup"';
const MIG = 'job="uuid-migration"';

interface Alert {
  severity: 'warning' | 'critical';
  description: string;
  /** Labels besides severity (an absence alert keeps the job's). */
  labels?: Record<string, string>;
}
interface Case {
  name: string;
  series: Record<string, string>;
  alertname: keyof typeof annotations;
  expect: Alert[];
}

const counter = (perStep: number) => `0+${perStep}x${STEPS}`;
const lookups = (labels: string) => `uuid_lookups_total{${JOB},${labels}}`;
const up = (job: string, value: string) => ({ [`up{job="${job}"}`]: value });

const RUNBOOK = 'https://github.com/uuid-lookup/uuid-lookup-observability/blob/main/docs/runbook.md#';
const annotations = {
  UuidLookupLatencyHigh: { summary: 'Slug-to-UUID lookups are slow.', runbook: 'uuidlookuplatencyhigh' },
  UuidLookupFailureRateHigh: { summary: 'Many slug lookups fail.', runbook: 'uuidlookupfailureratehigh' },
  UuidLookupFallbackRateHigh: { summary: 'Many slug lookups fall back.', runbook: 'uuidlookupfallbackratehigh' },
  UuidMigrationFailureRateHigh: { summary: 'Many jobs failed to migrate.', runbook: 'uuidmigrationfailureratehigh' },
  UuidLookupMetricsTargetDown: { summary: 'The lookup metrics cannot be scraped.', runbook: 'uuidlookupmetricstargetdown' },
  UuidMigrationExporterDown: { summary: 'The Postgres exporter cannot be scraped.', runbook: 'uuidmigrationexporterdown' },
  UuidMigrationStatsAbsent: { summary: 'The exporter is up but returns no migration statistics.', runbook: 'uuidmigrationstatsabsent' },
  UuidMigrationWorkerDown: { summary: 'The migration worker cannot be scraped.', runbook: 'uuidmigrationworkerdown' },
  UuidMigrationStalled: { summary: 'The migration worker makes no progress.', runbook: 'uuidmigrationstalled' },
} as const;

/** Lookups: `perStep` a step, `failing`/`fallback` of them, each taking `seconds`. */
function traffic(perStep: number, o: { failing?: number; fallback?: number; seconds?: number } = {}): Record<string, string> {
  const failing = o.failing ?? 0;
  const fallback = o.fallback ?? 0;
  const ok = perStep - failing - fallback;
  const seconds = o.seconds ?? 0.01;
  return {
    [lookups('outcome="success",fallback="false",micro_slug="wall-painting"')]: counter(ok),
    [lookups('outcome="success",fallback="true",micro_slug="wall-painting"')]: counter(fallback),
    [lookups('outcome="failure",fallback="false",micro_slug="wall-painting"')]: counter(failing),
    [`uuid_lookup_duration_seconds_count{${JOB}}`]: counter(perStep),
    [`uuid_lookup_duration_seconds_sum{${JOB}}`]: counter(perStep * seconds),
    ...up('uuid-lookup', `1x${STEPS}`),
  };
}

function migration(success: number, failed: number, skipped: number): Record<string, string> {
  const gauge = (v: number) => `${v}x${STEPS}`;
  return {
    [`uuid_migration_successful_migrations{${MIG}}`]: gauge(success),
    [`uuid_migration_failed_migrations{${MIG}}`]: gauge(failed),
    [`uuid_migration_skipped_migrations{${MIG}}`]: gauge(skipped),
    [`uuid_migration_total_jobs{${MIG}}`]: gauge(success + failed + skipped),
    ...up('uuid-migration', `1x${STEPS}`),
  };
}

const both = (warn: string, crit: string): Alert[] => [
  { severity: 'critical', description: crit },
  { severity: 'warning', description: warn },
];

const cases: Case[] = [
  // Average lookup time: warning > 50 ms, critical > 100 ms.
  {
    name: 'lookup latency: fires warning and critical when lookups average 150 ms',
    series: traffic(50, { seconds: 0.15 }),
    alertname: 'UuidLookupLatencyHigh',
    expect: both(
      'The average lookup time over 5m is 150ms, above the warning limit of 50 ms.',
      'The average lookup time over 5m is 150ms, above the critical limit of 100 ms.',
    ),
  },
  {
    name: 'lookup latency: fires only warning at 75 ms',
    series: traffic(50, { seconds: 0.075 }),
    alertname: 'UuidLookupLatencyHigh',
    expect: [{ severity: 'warning', description: 'The average lookup time over 5m is 75ms, above the warning limit of 50 ms.' }],
  },
  { name: 'lookup latency: stays quiet just under the warning limit (49 ms)', series: traffic(50, { seconds: 0.049 }), alertname: 'UuidLookupLatencyHigh', expect: [] },
  { name: 'lookup latency: stays quiet with no traffic', series: traffic(0), alertname: 'UuidLookupLatencyHigh', expect: [] },
  { name: 'lookup latency: stays quiet on too little traffic to judge (1 slow lookup a step)', series: traffic(1, { seconds: 2 }), alertname: 'UuidLookupLatencyHigh', expect: [] },
  // Failure rate: warning > 5 %, critical > 10 %.
  {
    name: 'failure rate: fires warning and critical when 20% of lookups fail',
    series: traffic(50, { failing: 10 }),
    alertname: 'UuidLookupFailureRateHigh',
    expect: both(
      '20% of lookups failed over 5m, above the warning limit of 5%.',
      '20% of lookups failed over 5m, above the critical limit of 10%.',
    ),
  },
  {
    name: 'failure rate: fires only warning at 8%',
    series: traffic(50, { failing: 4 }),
    alertname: 'UuidLookupFailureRateHigh',
    expect: [{ severity: 'warning', description: '8% of lookups failed over 5m, above the warning limit of 5%.' }],
  },
  { name: 'failure rate: stays quiet just under the warning limit (4%)', series: traffic(50, { failing: 2 }), alertname: 'UuidLookupFailureRateHigh', expect: [] },
  { name: 'failure rate: stays quiet with no traffic', series: traffic(0), alertname: 'UuidLookupFailureRateHigh', expect: [] },
  { name: 'failure rate: stays quiet on too little traffic to judge (every lookup failing, 1 a step)', series: traffic(1, { failing: 1 }), alertname: 'UuidLookupFailureRateHigh', expect: [] },
  // Fallback rate: warning > 20 %, critical > 40 %.
  {
    name: 'fallback rate: fires warning and critical when half the lookups fall back',
    series: traffic(50, { fallback: 25 }),
    alertname: 'UuidLookupFallbackRateHigh',
    expect: both(
      '50% of lookups used a fallback over 5m, above the warning limit of 20%.',
      '50% of lookups used a fallback over 5m, above the critical limit of 40%.',
    ),
  },
  {
    name: 'fallback rate: fires only warning at 30%',
    series: traffic(50, { fallback: 15 }),
    alertname: 'UuidLookupFallbackRateHigh',
    expect: [{ severity: 'warning', description: '30% of lookups used a fallback over 5m, above the warning limit of 20%.' }],
  },
  { name: 'fallback rate: stays quiet just under the warning limit (18%)', series: traffic(50, { fallback: 9 }), alertname: 'UuidLookupFallbackRateHigh', expect: [] },
  { name: 'fallback rate: stays quiet with no traffic', series: traffic(0), alertname: 'UuidLookupFallbackRateHigh', expect: [] },
  // Migration failures: warning > 5 %, critical > 10 % of attempted jobs.
  {
    name: 'migration failures: fires warning and critical when 20% of attempted jobs failed',
    series: migration(700, 200, 100),
    alertname: 'UuidMigrationFailureRateHigh',
    expect: both(
      '20% of attempted jobs failed to migrate, above the warning limit of 5%.',
      '20% of attempted jobs failed to migrate, above the critical limit of 10%.',
    ),
  },
  {
    name: 'migration failures: fires only warning at 7%',
    series: migration(900, 70, 30),
    alertname: 'UuidMigrationFailureRateHigh',
    expect: [{ severity: 'warning', description: '7% of attempted jobs failed to migrate, above the warning limit of 5%.' }],
  },
  { name: 'migration failures: stays quiet at exactly 5% (strictly greater)', series: migration(900, 50, 50), alertname: 'UuidMigrationFailureRateHigh', expect: [] },
  { name: 'migration failures: stays quiet before any job was attempted', series: migration(0, 0, 0), alertname: 'UuidMigrationFailureRateHigh', expect: [] },
];

const LOOKUP_DOWN = "Prometheus has no working target for job uuid-lookup (the collector or the app's pull endpoint): lookup alerts are blind.";
const WORKER_DOWN = 'Prometheus has no working target for job uuid-migration-worker: new jobs are not back-filled on schedule.';
const stalled = (jobs: number): string =>
  `${jobs} jobs were never attempted, and the worker processed none in 30m while it is up: its runs fail or hang.`;

/** The exporter's stats with `pending` never-attempted jobs (beside 3 skipped, 2 failed), and a worker up processing `perStep` jobs a step. */
function worker(pending: number, perStep: number): Record<string, string> {
  const gauge = (v: number) => `${v}x${STEPS}`;
  return {
    ...migration(100, 2, 3),
    [`uuid_migration_jobs_without_uuid{${MIG}}`]: gauge(pending + 3 + 2),
    [`uuid_migration_worker_jobs_total{job="uuid-migration-worker",status="success"}`]: counter(perStep),
    ...up('uuid-migration-worker', `1x${STEPS}`),
  };
}
const EXPORTER_DOWN = 'Prometheus has no working target for job uuid-migration: migration progress and failures are not visible.';
const STATS_ABSENT = 'get_uuid_migration_stats() fails for the exporter: the migrations are not applied, or its role lacks EXECUTE.';

cases.push(
  {
    name: 'lookup target: fires when Prometheus has no target for the lookup metrics',
    series: migration(1, 0, 0),
    alertname: 'UuidLookupMetricsTargetDown',
    expect: [{ severity: 'critical', description: LOOKUP_DOWN, labels: { job: 'uuid-lookup' } }],
  },
  {
    name: 'lookup target: fires when the lookup metrics target is down',
    series: { ...traffic(10), ...up('uuid-lookup', `0x${STEPS}`) },
    alertname: 'UuidLookupMetricsTargetDown',
    expect: [{ severity: 'critical', description: LOOKUP_DOWN, labels: { job: 'uuid-lookup' } }],
  },
  { name: 'lookup target: stays quiet while the target is up, even with no traffic', series: traffic(0), alertname: 'UuidLookupMetricsTargetDown', expect: [] },
  {
    name: 'exporter: fires when the Postgres exporter is down',
    series: { ...migration(1, 0, 0), ...up('uuid-migration', `0x${STEPS}`) },
    alertname: 'UuidMigrationExporterDown',
    expect: [{ severity: 'critical', description: EXPORTER_DOWN, labels: { job: 'uuid-migration' } }],
  },
  {
    name: 'exporter: fires when it is up but returns no migration statistics',
    series: up('uuid-migration', `1x${STEPS}`),
    alertname: 'UuidMigrationStatsAbsent',
    expect: [{ severity: 'warning', description: STATS_ABSENT, labels: { job: 'uuid-migration' } }],
  },
  { name: 'exporter: stays quiet when statistics arrive', series: migration(5, 0, 0), alertname: 'UuidMigrationStatsAbsent', expect: [] },
  {
    name: 'worker: fires when the worker target is down',
    series: { ...migration(5, 0, 0), ...up('uuid-migration-worker', `0x${STEPS}`) },
    alertname: 'UuidMigrationWorkerDown',
    expect: [{ severity: 'warning', description: WORKER_DOWN, labels: { job: 'uuid-migration-worker' } }],
  },
  { name: 'worker: stays quiet while it is up', series: { ...migration(5, 0, 0), ...up('uuid-migration-worker', `1x${STEPS}`) }, alertname: 'UuidMigrationWorkerDown', expect: [] },
  {
    name: 'worker: stalled when 40 jobs were never attempted and it processed none for 30 minutes',
    series: { ...worker(40, 0) },
    alertname: 'UuidMigrationStalled',
    expect: [{ severity: 'warning', description: stalled(40) }],
  },
  { name: 'worker: not stalled while it processes jobs', series: worker(40, 50), alertname: 'UuidMigrationStalled', expect: [] },
  { name: 'worker: not stalled when only skipped and failed jobs remain', series: worker(0, 0), alertname: 'UuidMigrationStalled', expect: [] },
);

/** The promtool test file, as YAML. */
export function renderRuleTests(): string {
  const series = (s: Record<string, string>) => Object.entries(s).map(([name, values]) => ({ series: name, values }));
  const tests = cases.map((c) => ({
    name: c.name,
    interval: '30s',
    input_series: series(c.series),
    alert_rule_test: [
      {
        eval_time: EVAL,
        alertname: c.alertname,
        exp_alerts: c.expect.map((a) => ({
          exp_labels: { severity: a.severity, ...a.labels },
          exp_annotations: {
            summary: annotations[c.alertname].summary,
            description: a.description,
            runbook_url: `${RUNBOOK}${annotations[c.alertname].runbook}`,
          },
        })),
      },
    ],
  }));
  return (
    '# Generated by `npm run generate:monitoring` from test/promtool/rule-tests.ts. Do not edit.\n' +
    '# Run: promtool test rules prometheus/tests/uuid-lookup.test.yml\n' +
    stringify({ rule_files: ['../rules/uuid-lookup.rules.yml'], evaluation_interval: '30s', tests }, { lineWidth: 0 })
  );
}
