import type { Command } from 'commander';
import { Argument } from 'commander';
import { checkExitCode, checkThresholds } from '../../node/reports/check-thresholds.ts';
import { runDoctor } from '../../node/reports/doctor.ts';
import { lookupJourneys, lookupPatterns, lookupRegions } from '../../node/reports/lookup-analytics.ts';
import type { ReportName } from '../../node/reports/run-report.ts';
import { reportNames, runReport } from '../../node/reports/run-report.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, setExitCode, withDatabase } from '../cli-context.ts';
import { databaseOptions, integerBetween } from '../cli-options.ts';
import { InvalidArgumentError } from 'commander';
import { printRecord, printTable, printThresholdChecks } from '../output.ts';

const ANALYTICS = ['patterns', 'regions', 'journeys'] as const;

/** `90m`, `24h`, `7d` as minutes. */
function duration(value: string): number {
  const match = /^(\d+)(m|h|d)$/.exec(value);
  const minutes = match === null ? Number.NaN : Number(match[1]) * { m: 1, h: 60, d: 1440 }[match[2] as 'm' | 'h' | 'd'];
  if (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > 366 * 1440) {
    throw new InvalidArgumentError('expected a duration like 90m, 24h or 30d (at most 366d)');
  }
  return minutes;
}

function timeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone such as Europe/Berlin or UTC');
  }
  return value;
}

const DAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function registerReportCommands(program: Command): void {
  databaseOptions(
    program
      .command('report')
      .description("the spec's monitoring queries, and the Phase 6 analytics (patterns, regions, journeys), as tables")
      .addArgument(new Argument('<name>', 'which report').choices([...Object.keys(reportNames), ...ANALYTICS]))
      .option('--since <duration>', 'analytics window: 90m, 24h, 30d', duration, 7 * 1440)
      .option('--time-zone <zone>', 'hours and days of the patterns report in this time zone', timeZone, process.env.TZ ?? 'UTC'),
  ).action(async (name: ReportName | (typeof ANALYTICS)[number], options: DatabaseCommandOptions & { since: number; timeZone: string }) => {
    await withDatabase(options, async (database) => {
      const window = { sinceMinutes: options.since, timeZone: options.timeZone };
      if (name === 'patterns') {
        const rows = await lookupPatterns(database, window);
        if (options.json === true) printRecord({ report: name, time_zone: options.timeZone, rows }, true);
        else printTable(rows.map(({ day_of_week: day, ...figures }) => ({ day: DAYS[day], ...figures })));
        return;
      }
      if (name === 'regions') {
        const rows = await lookupRegions(database, window);
        if (options.json === true) printRecord({ report: name, rows }, true);
        else printTable(rows);
        return;
      }
      if (name === 'journeys') {
        const journeys = await lookupJourneys(database, window);
        if (options.json === true) printRecord({ report: name, ...journeys }, true);
        else {
          process.stdout.write('Wizard sessions: submission after trouble\n\n');
          printTable(journeys.comparison);
          process.stdout.write('\nServices whose failures and fallbacks cost the most submissions\n\n');
          printTable(journeys.costliest);
        }
        return;
      }
      const report = await runReport(database, name);
      if (options.json === true) printRecord({ report: name, title: report.title, rows: report.rows }, true);
      else {
        process.stdout.write(`${report.title}\n\n`);
        printTable(report.rows);
      }
    });
  });

  databaseOptions(
    program
      .command('check')
      .description('the thresholds against current data; exit 0 ok, 1 warning, 2 critical (for cron and CI)')
      .option('--since <minutes>', 'window of lookups judged', integerBetween(1, 43_200), 60)
      .option('--min-lookups <n>', 'fewer lookups than this is no traffic, not a breach', integerBetween(1, 1_000_000), 20),
  ).action(async (options: DatabaseCommandOptions & { since: number; minLookups: number }) => {
    const code = await withDatabase(options, async (database) => {
      const checks = await checkThresholds(database, { sinceMinutes: options.since, minLookups: options.minLookups });
      if (options.json === true) printRecord({ checks, exit_code: checkExitCode(checks) }, true);
      else printThresholdChecks(checks, { basis: true });
      return checkExitCode(checks);
    });
    setExitCode(code);
  });

  databaseOptions(program.command('doctor').description("the spec's troubleshooting as checks: indexes, statistics, RLS, roles, grants")).action(
    async (options: DatabaseCommandOptions) => {
      const failed = await withDatabase(options, async (database) => {
        const checks = await runDoctor(database, { embedded: database.kind === 'pglite' });
        if (options.json === true) printRecord({ checks }, true);
        else {
          for (const check of checks) {
            process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
            if (!check.ok && check.fix) process.stdout.write(`      fix: ${check.fix}\n`);
          }
        }
        return checks.filter((c) => !c.ok).length;
      });
      if (failed > 0) throw new CliError(`${failed} check(s) failed`, 1);
    },
  );
}
