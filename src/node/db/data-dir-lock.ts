import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/** Who holds an embedded database's folder: written beside the lock, read by whoever is refused. */
interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** Why an embedded database's folder cannot be opened: one line for the operator. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

// The holder refreshes the lock's mtime every STALE_MS / 2; a lock not refreshed
// for STALE_MS belongs to a process that is gone (another host's, or a hung one).
const STALE_MS = 10_000;
const FRESH_MS = 1_000;

function holderFile(dataDir: string): string {
  return `${dataDir}.lock.json`;
}

function readHolder(dataDir: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(holderFile(dataDir), 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Refuses a folder that cannot be an embedded database: a file, or a non-empty
 * folder without a PostgreSQL cluster in it (PG_VERSION). Writes nothing.
 */
export function checkDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  if (!statSync(dataDir).isDirectory()) {
    throw new DataDirError(`--data-dir ${dataDir} is a file, not a folder: name a folder for the embedded database`);
  }
  const entries = readdirSync(dataDir);
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw new DataDirError(
      `--data-dir ${dataDir} holds files but no embedded database (no PG_VERSION): name an empty or new folder`,
    );
  }
}

/**
 * Takes the one-writer lock of an embedded database's folder, or refuses at once
 * with a line naming the holder. PGlite is a single-user PostgreSQL: two
 * processes on one folder corrupt it. A lock whose holder died on this host is
 * taken over at once; one whose holder stopped refreshing it (another host, a
 * hung process) after ten seconds. Returns the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const absolute = path.resolve(dataDir);
  const lockPath = `${absolute}.lock`;
  mkdirSync(path.dirname(absolute), { recursive: true });
  let release: (() => Promise<void>) | undefined;
  for (let attempt = 0; release === undefined; attempt += 1) {
    try {
      release = await lockfile.lock(absolute, {
        realpath: false,
        stale: STALE_MS,
        retries: 0,
        onCompromised: (error) => {
          process.stderr.write(`uuid-lookup: lost the lock of ${absolute}: ${error.message}\n`);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const holder = readHolder(absolute);
      const holderGone = holder === undefined || (holder.host === os.hostname() && !isAlive(holder.pid));
      const age = Date.now() - lockMtime(lockPath);
      if (holderGone && attempt < 3) {
        if (age < FRESH_MS) {
          // A process that has just taken the lock writes its name next: give it a second.
          await new Promise((resolve) => setTimeout(resolve, FRESH_MS - age));
        } else if (holder !== undefined) {
          // The named holder died without releasing: its lock means nothing now.
          rmSync(lockPath, { recursive: true, force: true });
        }
        continue;
      }
      const who =
        holder === undefined
          ? 'another process'
          : `pid ${holder.pid} on ${holder.host} (uuid-lookup ${holder.command}, since ${holder.since})`;
      throw new DataDirError(`the embedded database in ${absolute} is in use by ${who}; one process at a time: wait for it or stop it`);
    }
  }
  const holder: Holder = {
    pid: process.pid,
    host: os.hostname(),
    command: process.argv.slice(2).join(' '),
    since: new Date().toISOString(),
  };
  writeFileSync(holderFile(absolute), `${JSON.stringify(holder)}\n`);
  const taken = release;
  return async () => {
    rmSync(holderFile(absolute), { force: true });
    await taken();
  };
}

function lockMtime(lockPath: string): number {
  try {
    return statSync(lockPath).mtimeMs;
  } catch {
    return 0;
  }
}
