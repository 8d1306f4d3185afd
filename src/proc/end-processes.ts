// Ends processes politely, then firmly: SIGTERM, a bounded wait for their deaths (the death
// watcher: a pidfd event or the /proc poll), SIGKILL for those still there, a last short wait.
// Used for the workers a dead program left holding its ports (nginx's, apache's children).
import type { DeathWatcher, ProcId, ProcessTable } from './types';

export interface Ended {
  /** ended by SIGTERM within the grace time */
  terminated: number[];
  /** still there after it: sent SIGKILL */
  killed: number[];
}

/** Resolves when every process in `ids` is dead, or after `ms`; never rejects. */
function deathsOf(ids: ProcId[], watcher: DeathWatcher, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let left = ids.length;
    const stops: (() => void)[] = [];
    const done = (): void => {
      clearTimeout(timer);
      for (const s of stops) s();
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (left === 0) return done();
    for (const id of ids) {
      try {
        stops.push(
          watcher.watch(id, () => {
            if (--left === 0) done();
          }),
        );
      } catch {
        // the watcher is closed (pcheck stops) or out of descriptors: the timer bounds the wait
      }
    }
  });
}

function signal(id: ProcId, table: ProcessTable, sig: NodeJS.Signals): boolean {
  if (table.read(id) === null) return false; // gone, or its pid now names another process
  try {
    process.kill(id.pid, sig);
    return true;
  } catch {
    return false;
  }
}

export interface EndOptions {
  watcher: DeathWatcher;
  table: ProcessTable;
  graceMs: number;
  killWaitMs: number;
}

export async function endProcesses(ids: ProcId[], opts: EndOptions): Promise<Ended> {
  const { watcher, table } = opts;
  const termed = ids.filter((id) => signal(id, table, 'SIGTERM'));
  await deathsOf(termed, watcher, opts.graceMs);
  const killed = termed.filter((id) => signal(id, table, 'SIGKILL'));
  if (killed.length > 0) await deathsOf(killed, watcher, opts.killWaitMs);
  const k = new Set(killed.map((id) => id.pid));
  return { terminated: termed.map((id) => id.pid).filter((p) => !k.has(p)), killed: [...k] };
}
