import type { Command } from 'commander';
import { runDoctor } from '../../node/reports/doctor.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions } from '../cli-options.ts';
import { printRecord } from '../output.ts';

/** `doctor`: the spec's troubleshooting as checks, each failed one with its fix; exit 1 when any fails. */
export function registerDoctorCommand(program: Command): void {
  databaseOptions(program.command('doctor').description("the spec's troubleshooting as checks: indexes, statistics, RLS, roles, grants, counters and rollups against the tables")).action(
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
