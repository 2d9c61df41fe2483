// One way for a benchmark run from a shell to be interrupted (Ctrl-C, or `kill`):
// every cleanup registered here runs, awaited, and then the process exits 130
// (SIGINT) or 143 (SIGTERM). Node's default on those signals ends the process at
// once, without 'exit' handlers; two modules each exiting on the signal would cut
// the other's cleanup short.

type Cleanup = (signal: NodeJS.Signals) => Promise<void> | void;

const cleanups = new Set<Cleanup>();
let installed = false;

/** Runs `cleanup` when the process is interrupted, before it exits 130 or 143. */
export function onInterrupt(cleanup: Cleanup): void {
  cleanups.add(cleanup);
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    void Promise.allSettled([...cleanups].map(async (c) => c(signal))).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
