#!/usr/bin/env node
import { Command } from 'commander';
import { CliError, describeError } from './cli-context.ts';
import { registerDbCommands } from './commands/db-command.ts';
import { registerDemoCommand } from './commands/demo-command.ts';
import { registerMigrateCommand } from './commands/migrate-command.ts';
import { registerStatsCommand } from './commands/stats-command.ts';
import { registerTrafficCommand } from './commands/traffic-command.ts';

/** The `uuid-lookup` command line. */
export function buildProgram(): Command {
  const program = new Command('uuid-lookup')
    .description('Operate the slug-to-UUID lookup: schema, migration, statistics, traffic.')
    .showHelpAfterError();
  registerDbCommands(program);
  registerMigrateCommand(program);
  registerStatsCommand(program);
  registerDemoCommand(program);
  registerTrafficCommand(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : 1;
    process.stderr.write(`uuid-lookup: ${describeError(error)}\n`);
    return exitCode;
  }
}

process.exitCode = await main(process.argv);
