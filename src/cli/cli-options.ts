import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

/** Adds the options of every command that opens the database. */
export function databaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL; without one, the embedded database)')
    .option('--data-dir <dir>', 'folder of the embedded database (default: ./.uuid-lookup/pglite)')
    .option('--json', 'machine-readable output');
}

/** A whole number within bounds, for commander. */
export function integerBetween(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return parsed;
  };
}

/** A number within bounds (fractions allowed), for commander. */
export function numberBetween(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return parsed;
  };
}
