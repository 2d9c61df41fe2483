import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, describeError, ExitStatus } from './cli-context.ts';
import { registerDbCommands } from './commands/db-command.ts';
import { registerDemoCommand } from './commands/demo-command.ts';
import { registerMigrateCommand } from './commands/migrate-command.ts';
import { registerMixinCommands } from './commands/mixin-command.ts';
import { registerReportCommands } from './commands/report-command.ts';
import { registerDoctorCommand } from './commands/doctor-command.ts';
import { registerServicesCommands } from './commands/services-command.ts';
import { registerStatsCommand } from './commands/stats-command.ts';
import { registerTrafficCommand } from './commands/traffic-command.ts';
import { registerWorkerCommand } from './commands/worker-command.ts';

/** The package's version: package.json is two folders up from src/cli/ and dist/cli/ alike. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The `uuid-lookup` command line. */
function buildProgram(): Command {
  const program = new Command('uuid-lookup')
    .version(packageVersion(), '-V, --version', 'print the version of uuid-lookup-observability')
    // Errors come back to runCli instead of ending the process (and tests run it in-process).
    .exitOverride()
    .description('Operate the slug-to-UUID lookup: schema, migration, statistics, reports, checks, traffic, monitoring files.')
    // Commander's messages speak as the tool does.
    .configureOutput({ outputError: (text, write) => write(`uuid-lookup: ${text.replace(/^error: /, '')}`) })
    // A usage error is one line and where to look, not the whole help.
    .showHelpAfterError("(see 'uuid-lookup --help', or 'uuid-lookup <command> --help')")
    // Options after a subcommand are that subcommand's (migrate --data-dir x, migrate runs --data-dir y).
    .enablePositionalOptions();
  registerDbCommands(program);
  registerMigrateCommand(program);
  registerStatsCommand(program);
  registerReportCommands(program);
  registerDoctorCommand(program);
  registerServicesCommands(program);
  registerWorkerCommand(program);
  registerTrafficCommand(program);
  registerDemoCommand(program);
  registerMixinCommands(program);
  return program;
}

/** `check`'s status when it measured nothing (unreachable database, bad flag), as monitoring plugins say UNKNOWN. */
const CHECK_UNKNOWN = 3;

/**
 * Runs the command line and returns its exit status: 0 success, 1 error (one
 * line on stderr, never a stack trace), 2 usage error; `check` 0 ok, 1 warning,
 * 2 critical, 3 unknown; `migrate` stopped early 130 (SIGINT) or 143 (SIGTERM).
 */
export async function runCli(argv: string[]): Promise<number> {
  const isCheck = argv[2] === 'check';
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof ExitStatus) return error.code;
    if (error instanceof CommanderError) {
      // Commander has printed the message (and --help / --version their text).
      if (error.exitCode === 0) return 0;
      return isCheck ? CHECK_UNKNOWN : 2;
    }
    process.stderr.write(`uuid-lookup: ${describeError(error)}\n`);
    if (isCheck) return CHECK_UNKNOWN;
    return error instanceof CliError ? error.exitCode : 1;
  }
}
