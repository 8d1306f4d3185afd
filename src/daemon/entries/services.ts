// What every entry set of the process shares (pcheck -f has one set; FailSafe mode one per
// pfile): one process table, one death watcher, one scanner (one periodic /proc scan and one
// run of seek scans for all entries), one restart-script queue with its concurrency limit, one
// desk where the deaths of a loop turn are looked at together, one hang sampler, one clock.
import type { Clock } from '../../core/entry-machine';
import type { Logger } from '../../log/logger';
import type { DeathWatcher, ProcessTable } from '../../proc/types';
import { systemClock } from '../shared/clock';
import { DeathDesk } from './deaths';
import { HangSampler } from './hang-sampler';
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
}

export function createEntryServices(o: { table: ProcessTable; watcher: DeathWatcher; log: Logger; clock?: () => Clock }): EntryServices {
  const scanner = new Scanner(o.table);
  const scripts = new ScriptQueue();
  return {
    table: o.table,
    watcher: o.watcher,
    clock: o.clock ?? systemClock,
    log: o.log,
    scanner,
    scripts,
    deaths: new DeathDesk(o.table, o.log, scanner, scripts),
    hangs: new HangSampler(),
  };
}

/** pcheck stops: no scan, no script, no sample from here on; the watcher is closed. */
export function closeEntryServices(s: EntryServices): void {
  s.scripts.close();
  s.scanner.close();
  s.hangs.close();
  s.deaths.close();
  s.watcher.close();
}
