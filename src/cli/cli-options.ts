import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

/** Adds the options of every command that opens the database. */
export function databaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL; without one, the embedded database)')
    .option('--data-dir <dir>', 'folder of the embedded database (default: ./.uuid-lookup/pglite)', nonEmpty('a folder'))
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

/** `90m`, `24h`, `30d` as minutes: the one syntax of every --since. */
export function duration(value: string): number {
  const match = /^(\d+)(m|h|d)$/.exec(value);
  const minutes = match === null ? Number.NaN : Number(match[1]) * { m: 1, h: 60, d: 1440 }[match[2] as 'm' | 'h' | 'd'];
  if (!Number.isSafeInteger(minutes) || minutes < 1 || minutes > 366 * 1440) {
    throw new InvalidArgumentError('expected a duration like 90m, 24h or 30d (at most 366d)');
  }
  return minutes;
}

/** An absolute http(s) URL, for commander: a typo is refused at start, not at the first POST. */
export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an absolute http(s) URL, like https://hooks.example.com/migration');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http(s) URL');
  return value;
}

/** A value that is not empty (`--data-dir ''` would mean a database in memory, lost at exit). */
export function nonEmpty(what: string): (value: string) => string {
  return (value: string) => {
    if (value.trim() === '') throw new InvalidArgumentError(`expected ${what}, got nothing`);
    return value;
  };
}
