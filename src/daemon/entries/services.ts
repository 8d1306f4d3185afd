// What every entry set of the process shares (pcheck -f has one set; FailSafe mode one per
// pfile): one process table, one death watcher, one scanner (one periodic /proc scan and one
// run of seek scans for all entries), one restart-script queue with its concurrency limit, one
// desk where the deaths of a loop turn are looked at together, one hang sampler, one clock, one
// wait for the reaps of dead processes, one host-wide restart lock holder.
import type { Clock } from '../../core/entry-model';
import type { Logger } from '../../log/logger';
import type { DeathWatcher, ProcessTable } from '../../proc/types';
import { systemClock } from '../shared/clock';
import { DeathDesk } from './deaths';
import { HangSampler } from './hang-sampler';
import type { EntryRuntime } from './entry-runtime';
import { ReapGate } from './reap-gate';
import { RestartLock } from './restart-lock';
import { loadNative } from '../../native/index';
import { Scanner } from './scanner';
import { ScriptQueue } from './script-queue';

export interface EntryServices {
  table: ProcessTable;
  watcher: DeathWatcher;
  clock: () => Clock;
  log: Logger;
  scanner: Scanner;
  scripts: ScriptQueue;
  deaths: DeathDesk;
  hangs: HangSampler;
  /** a restart script waits for the reap of the dead process it replaces */
  reaps: ReapGate<EntryRuntime>;
  /** one restart at a time per program, host-wide: another pcheck may watch it too */
  locks: RestartLock<EntryRuntime>;
}

/** `me`: who holds a restart lock, for another pcheck held back by it (`pcheck pid N (pfile P)`). */
export function createEntryServices(o: { table: ProcessTable; watcher: DeathWatcher; log: Logger; me: string; clock?: () => Clock }): EntryServices {
  const scanner = new Scanner(o.table, o.log);
  const scripts = new ScriptQueue();
  const reaps = new ReapGate<EntryRuntime>(o.log, () => scripts.stopped);
  const native = loadNative();
  const locks = new RestartLock<EntryRuntime>({ lock: native?.flockExclusive ? (fd) => native.flockExclusive!(fd) : null, me: o.me, warn: (m) => o.log.warning(m) });
  return {
    table: o.table,
    watcher: o.watcher,
    clock: o.clock ?? systemClock,
    log: o.log,
    scanner,
    scripts,
    deaths: new DeathDesk(o.table, o.log, scanner, scripts, reaps),
    hangs: new HangSampler(),
    reaps,
    locks,
  };
}

/** pcheck stops: no scan, no script, no sample from here on; the watcher is closed. */
export function closeEntryServices(s: EntryServices): void {
  s.scripts.close();
  s.scanner.close();
  s.hangs.close();
  s.deaths.close();
  s.reaps.close();
  s.locks.close();
  s.watcher.close();
}
