import type { Command } from 'commander';
import { Argument } from 'commander';
import { checkExitCode, checkThresholds } from '../../node/reports/check-thresholds.ts';
import { runDoctor } from '../../node/reports/doctor.ts';
import type { ReportName } from '../../node/reports/run-report.ts';
import { reportNames, runReport } from '../../node/reports/run-report.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, setExitCode, withDatabase } from '../cli-context.ts';
import { databaseOptions, integerBetween } from '../cli-options.ts';
import { printRecord, printTable } from '../output.ts';

export function registerReportCommands(program: Command): void {
  databaseOptions(
    program
      .command('report')
      .description("the spec's monitoring queries as tables")
      .addArgument(new Argument('<name>', 'which report').choices(Object.keys(reportNames))),
  ).action(async (name: ReportName, options: DatabaseCommandOptions) => {
    await withDatabase(options, async (database) => {
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
      else printTable(checks.map((c) => ({ threshold: c.title, value: c.value === null ? '-' : `${c.value}${c.unit === 'ms' ? ' ms' : '%'}`, warning: c.warning, critical: c.critical, state: c.state, basis: c.basis })));
      return checkExitCode(checks);
    });
    setExitCode(code);
  });

  databaseOptions(program.command('doctor').description("the spec's troubleshooting as checks: indexes, statistics, RLS, roles, grants")).action(
    async (options: DatabaseCommandOptions) => {
      const failed = await withDatabase(options, async (database) => {
        const checks = await runDoctor(database);
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
