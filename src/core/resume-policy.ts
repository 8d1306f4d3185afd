// What a new pcheck takes over from the state file of the pcheck before it (SPEC §10,
// "Counters after an exit"). Pure: the daemon reads the file and the boot id.
//
// A pcheck that was killed (SIGKILL, OOM, a crash) in this boot left its entries mid-life: the
// new one resumes them, counters, grace window and any restart under way, so that nothing is
// counted twice and no second copy is started. A pcheck that ended on purpose (SIGTERM, SIGINT,
// a retry-over `exit`, stopped by FailSafe mode) ended that life: the next one starts fresh, as
// ProcessSaver did (its counters lived in shared memory that a stop removed), so a cluster that
// fails the group back does not find the entry already at its retry limit. So does a pcheck
// after a reboot: every process is new. `monitor_sts` is the operator's word, not a counter: an
// entry stopped with `padmin stop pent` stays stopped until `start pent`, whatever happened.
import type { RestoredEntry } from './entry-model';

/** How the pcheck that wrote a state file ended, written in its last write. A pcheck that is
 *  killed writes nothing more: its file still says null (running). */
export type PcheckEnd = 'SIGTERM' | 'SIGINT' | 'RETRY_OVER:EXIT' | 'stopped';

/** Why counters start fresh, for the log; null when they are resumed. */
export function freshReason(ended: string | null, sameBoot: boolean): string | null {
  if (!sameBoot) return 'was written before this boot';
  if (ended === null) return null;
  if (ended === 'RETRY_OVER:EXIT') return 'says the previous pcheck exited after RETRY_OVER:EXIT';
  if (ended === 'SIGTERM' || ended === 'SIGINT') return `says the previous pcheck was stopped by ${ended}`;
  return 'says the previous pcheck was stopped';
}

/**
 * The entry as the new pcheck takes it over: unchanged when the previous pcheck was killed in this
 * boot; else with fresh counters and no process, but the same `monitor_sts`. A restart script of
 * the previous pcheck that still runs is awaited all the same (never a second copy), with the
 * counters fresh.
 */
export function resumedEntry(r: RestoredEntry, ended: string | null): RestoredEntry {
  if (freshReason(ended, r.sameBoot) === null) return r;
  const fresh: RestoredEntry = {
    ...r,
    retryCount: 0,
    restartCount: 0,
    rerunTime: null,
    procSts: 'WAIT',
    pid: null,
    startTime: null,
    upSinceMono: null,
    scriptRunning: false,
    deadlineMono: null,
    liveScript: null,
  };
  if (r.sameBoot && r.liveScript !== null) return { ...fresh, procSts: 'RESTARTING', scriptRunning: true, liveScript: r.liveScript };
  return fresh;
}
