import type { Command } from 'commander';
import { Argument, Option } from 'commander';
import { MIN_LOOKUPS } from '../../contract/thresholds.ts';
import { checkExitCode, checkThresholds } from '../../node/reports/check-thresholds.ts';
import { foldLookupRollups, lookupJourneys, lookupPatterns, lookupRegions } from '../../node/reports/lookup-analytics.ts';
import type { ReportName } from '../../node/reports/run-report.ts';
import { DEFAULT_EVENT_WINDOW_MINUTES, formatWindow, READS_ROLLUPS, reportNames, runReport } from '../../node/reports/run-report.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { ExitStatus, withDatabase } from '../cli-context.ts';
import { databaseOptions, duration, integerBetween } from '../cli-options.ts';
import { InvalidArgumentError } from 'commander';
import { printRecord, printTable, printThresholdChecks } from '../output.ts';

const ANALYTICS = ['patterns', 'regions', 'journeys'] as const;
/** Rows of `report regions` printed as a table. */
const REGION_ROWS_SHOWN = 50;

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
      .option(
        '--since <duration>',
        'window: 90m, 24h, 30d (default: 7d for lookups and analytics; the migration reports show all outcomes unless given)',
        duration,
      )
      .option('--time-zone <zone>', 'hours and days of the patterns report in this time zone', timeZone, process.env.TZ ?? 'UTC'),
  ).action(async (name: ReportName | (typeof ANALYTICS)[number], options: DatabaseCommandOptions & { since?: number; timeZone: string }) => {
    await withDatabase(options, async (database) => {
      const since = options.since ?? DEFAULT_EVENT_WINDOW_MINUTES;
      const analytics = (ANALYTICS as readonly string[]).includes(name);
      if (analytics || READS_ROLLUPS.has(name as ReportName)) {
        // The rollups count the events folded so far (migration 20261129000600): fold first, or say what is missing.
        const fold = await foldLookupRollups(database);
        if ('skipped' in fold) process.stderr.write(`note: the pending lookup events were not folded (${fold.skipped}): the figures miss the events stored since the last fold\n`);
      }
      const window = { sinceMinutes: since, timeZone: options.timeZone, fold: false };
      if (analytics && options.json !== true) {
        // The analytics read rollups: hourly (patterns, regions), daily (journeys).
        const grain = name === 'journeys' ? 1440 : 60;
        process.stdout.write(`${name} over the last ${formatWindow(since)}`);
        if (since % grain !== 0) {
          process.stdout.write(` (from the rollup's whole ${grain === 60 ? 'hours' : 'days (UTC)'}: the window starts at the ${grain === 60 ? 'hour' : 'day'} it falls in)`);
        }
        process.stdout.write('\n\n');
      }
      if (name === 'patterns') {
        const rows = await lookupPatterns(database, window);
        if (options.json === true) printRecord({ report: name, time_zone: options.timeZone, rows }, true);
        else printTable(rows.map(({ day_of_week: day, ...figures }) => ({ day: DAYS[day], ...figures })));
        return;
      }
      if (name === 'regions') {
        const rows = await lookupRegions(database, window);
        if (options.json === true) printRecord({ report: name, rows }, true);
        else {
          // The region is the client's to say: a table for people shows the worst ones (JSON has every row).
          printTable(rows.slice(0, REGION_ROWS_SHOWN));
          if (rows.length > REGION_ROWS_SHOWN) {
            process.stdout.write(`(${rows.length - REGION_ROWS_SHOWN} more regions not shown, the slowest and most failing come first: --json has every one)\n`);
          }
        }
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
      const report = await runReport(database, name, options.since === undefined ? { fold: false } : { sinceMinutes: options.since, fold: false });
      if (options.json === true) {
        printRecord(
          {
            report: name,
            title: report.title,
            since_minutes: report.windowMinutes,
            ...(report.coversFrom === undefined ? {} : { covers_from: report.coversFrom }),
            rows: report.rows,
            more_rows: report.moreRows,
          },
          true,
        );
      } else {
        process.stdout.write(`${report.title}\n\n`);
        printTable(report.rows);
        if (report.moreRows > 0) process.stdout.write(`(${report.moreRows} more rows not shown: the spec's query keeps the first ${report.rows.length})\n`);
      }
    });
  });

  databaseOptions(
    program
      .command('check')
      .description(
        'the thresholds against current data; exit 0 ok, 1 warning, 2 critical, 3 unknown: no measurement ' +
          '(unreachable database, bad flag), as monitoring plugins do',
      )
      .addOption(new Option('--since <duration>', 'window of lookups judged: 90m, 24h, 30d').argParser(duration).default(60, '60m'))
      .option('--min-lookups <n>', 'fewer lookups than this is no traffic, not a breach', integerBetween(1, 1_000_000), MIN_LOOKUPS),
  ).action(async (options: DatabaseCommandOptions & { since: number; minLookups: number }) => {
    const code = await withDatabase(options, async (database) => {
      const checks = await checkThresholds(database, { sinceMinutes: options.since, minLookups: options.minLookups });
      if (options.json === true) printRecord({ checks, exit_code: checkExitCode(checks) }, true);
      else printThresholdChecks(checks, { basis: true });
      return checkExitCode(checks);
    });
    if (code !== 0) throw new ExitStatus(code);
  });
}
