// The workers a dead main process left in its session (nginx's `worker process`, apache's
// children) hold its ports: they are ended before its restart script runs (SPEC §10, decisions.md
// "Workers of a dead master are ended before its restart"); the script also waits for the dead
// process's reap (reap-gate.ts).
import { endProcesses } from '../../proc/end-processes';
import type { ProcId } from '../../proc/types';
import type { EntryRuntime } from './entry-runtime';
import type { EntryServices } from './services';

/** Workers a dead program left get this long to end after SIGTERM, then SIGKILL (and 1 s more). */
export const WORKER_TERM_MS = 1000;

/** Ends `workers` of `rt`'s dead process; the entry's next script waits for rt.clearing. */
export function endWorkers(s: EntryServices, rt: EntryRuntime, workers: ProcId[], stopped: () => boolean): void {
  const pname = rt.pent.pname;
  const pids = workers.map((w) => w.pid).join(',');
  s.log.notice(`(${pname}) ending what the dead process left in its session (it may hold the program's ports): pid=${pids}`);
  const ending = s.scanner.ending;
  for (const w of workers) ending.add(w.pid);
  const opts = { watcher: s.watcher, table: s.table, graceMs: WORKER_TERM_MS, killWaitMs: 1000 };
  const clearing = endProcesses(workers, opts).then(
    (r) => {
      if (stopped()) return;
      const how = [
        ...(r.terminated.length > 0 ? [`pid=${r.terminated.join(',')} by SIGTERM`] : []),
        ...(r.killed.length > 0 ? [`pid=${r.killed.join(',')} by SIGKILL (still there ${WORKER_TERM_MS / 1000}s after SIGTERM)`] : []),
      ];
      s.log.notice(`(${pname}) ended ${how.length > 0 ? how.join(', ') : 'nothing: they were gone'}`);
    },
    (e: unknown) => s.log.err(`(${pname}) could not end pid=${pids}: ${(e as Error).message}`),
  );
  const done = clearing.finally(() => {
    for (const w of workers) ending.delete(w.pid);
    if (rt.clearing === done) rt.clearing = null;
  });
  rt.clearing = done;
}
