import { SingleBar } from 'cli-progress';

/** Progress of a migration run: a bar with rate and ETA on a terminal, a line every few seconds otherwise. */
export interface Progress {
  /** Counts `jobs` more as done and redraws. */
  advance(jobs: number): void;
  /** A line for people (a hold, its end) above the bar, which is drawn again below it. */
  note(line: string): void;
  stop(): void;
}

export function createProgress(total: number, options: { json?: boolean; label?: string } = {}): Progress {
  if (options.json === true) return { advance: () => {}, note: () => {}, stop: () => {} };
  let done = 0;
  const label = options.label ?? 'migrating';
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {value}/{total} jobs | {rate} jobs/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    });
    const started = Date.now();
    bar.start(Math.max(total, 1), 0, { rate: 0 });
    return {
      advance(jobs) {
        done += jobs;
        const seconds = (Date.now() - started) / 1000;
        bar.update(Math.min(done, Math.max(total, 1)), { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
      },
      note(line) {
        // Clear the bar's line and write the note there; the bar comes back under it at its next change.
        process.stderr.write(`\r\x1b[K${line}\n`);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  const started = Date.now();
  return {
    advance(jobs) {
      done += jobs;
      const now = Date.now();
      if (now - last < 2000 && done < total) return;
      last = now;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
      process.stderr.write(`${label}: ${done}/${total} jobs, ${Math.round(rate)} jobs/s, ETA ${eta} s\n`);
    },
    note: (line) => process.stderr.write(`${line}\n`),
    stop: () => {},
  };
}
