import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';

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

/** A whole number within bounds, or `off`, for commander. */
export function integerOrOff(min: number, max: number): (value: string) => number | false {
  const integer = integerBetween(min, max);
  return (value: string) => {
    if (value === 'off') return false;
    try {
      return integer(value);
    } catch {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, or off`);
    }
  };
}

/**
 * The batch time the back-fill aims at when neither --batch-size nor
 * --target-batch-ms is given: a second, so a batch's row locks stay short and its
 * commit is frequent, while each batch is large enough to cost little per job.
 */
export const DEFAULT_TARGET_BATCH_MS = 1000;

/** The back-fill's pacing flags (migrate and worker): what they set, as commander gives it. */
export interface PacingFlags {
  batchDelay: number;
  niceRatio: number;
  /** Unset: the default (see {@link DEFAULT_TARGET_BATCH_MS}); false: off. */
  targetBatchMs?: number | false;
  holdCheck: number;
  healthHolds: boolean;
  maxLockWaits: number | false;
  maxReplicationLag: number | false;
  maxWalPerMinute: number | false;
  vacuumHold: boolean;
  holdOnPrometheus?: string;
  holdQuery: string;
}

/** Adds the pacing flags: holds for the database's health (docs/architecture.md, "Back-fill pacing") and a delay between batches. */
export function pacingOptions(command: Command, defaultHoldQuery: string): Command {
  return command
    .option('--batch-delay <ms>', 'pause after each batch', integerBetween(0, 3_600_000), 0)
    .option('--nice-ratio <ratio>', 'also pause after each batch this many times its duration (1: the back-fill works at most half the time; 100: about 1 %, what keeps the app\'s p99 writes within 1.5x on a slow disk)', numberBetween(0, 1000), 0)
    .option(
      '--target-batch-ms <ms>',
      `aim each batch at this time: the size follows the recent time per job (from --batch-size on, 10 to 100000); default ${DEFAULT_TARGET_BATCH_MS} unless --batch-size is given; off: every batch asks for --batch-size`,
      integerOrOff(10, 600_000),
    )
    .option('--hold-check <seconds>', 'while held or paused, look again this often', integerBetween(1, 3600), 10)
    .option('--no-health-holds', "never hold for the database's health (a pause asked by migrate pause still holds)")
    .option('--max-lock-waits <n>', 'hold while more sessions than this wait for a lock on jobs (off: never)', integerOrOff(0, 10_000), 0)
    .option('--max-replication-lag <seconds>', "hold while a replica's replay lag is over this (off: never)", integerOrOff(0, 86_400), 30)
    .addOption(
      new Option('--max-wal-per-minute <MiB>', 'hold while WAL is written faster than this (off: never)').argParser(integerOrOff(1, 10_000_000)).default(false, 'off'),
    )
    .option('--no-vacuum-hold', 'do not hold while a VACUUM runs on jobs')
    .option('--hold-on-prometheus <url>', 'hold while the Prometheus at this URL answers --hold-query with any series (or does not answer)', httpUrl)
    .option('--hold-query <promql>', 'the PromQL of --hold-on-prometheus', nonEmpty('a PromQL query'), defaultHoldQuery);
}
