import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';

// Clusters of their own beside the machine's: PostgreSQL refuses to run as root, so
// the server binaries run as the postgres user when the tests run as root (CI).

/** The server binaries of the cluster the machine runs (Debian: /usr/lib/postgresql/<version>/bin). */
export const PG_BIN = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort().at(-1) ?? '15'}/bin`;

/** Runs one of the server's programs as the postgres user; throws with its stderr when it fails. */
export function asPostgres(program: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0;
  const run = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, program), ...args], { encoding: 'utf8' })
    : spawnSync(path.join(PG_BIN, program), args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr}`);
  return run.stdout;
}

/** A directory the postgres user owns, for a cluster's data, socket and log. */
export function clusterDirectory(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres', dir]);
  return dir;
}

/** A running cluster of its own: where to reach it, and how to stop it and remove its files. */
export interface OwnCluster {
  port: number;
  url: string;
  stop(): void;
}

/**
 * A hot standby of the machine's cluster (127.0.0.1:`primaryPort`), streaming from it as
 * a replica does: a base backup, then `pg_ctl start` on a port of its own. It reports
 * its replay position every second, so the primary's `pg_stat_replication` follows it
 * closely.
 */
export async function startStandby(primaryPort = 5432): Promise<OwnCluster> {
  const dir = clusterDirectory('uuid-lookup-standby-');
  const data = path.join(dir, 'data');
  const port = await freePort();
  const stop = (): void => {
    try {
      asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // not started, or gone already
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // -R writes standby.signal and primary_conninfo; -X stream brings the WAL the backup needs;
    // a fast checkpoint, not the spread one that waits minutes on an idle cluster.
    asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', data, '-X', 'stream', '-R', '--checkpoint=fast']);
    // Debian keeps the configuration outside the data directory: the standby gets its own.
    const files = {
      'postgresql.conf': `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nhot_standby = on\nwal_receiver_status_interval = 1s\n`,
      'pg_hba.conf': 'local all all trust\nhost all all 127.0.0.1/32 trust\n',
      'pg_ident.conf': '',
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(data, name), text);
    if (process.getuid?.() === 0) spawnSync('chown', ['-R', 'postgres', dir]);
    asPostgres('pg_ctl', ['-D', data, '-w', '-l', path.join(dir, 'log'), 'start']);
  } catch (error) {
    stop();
    throw error;
  }
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}
