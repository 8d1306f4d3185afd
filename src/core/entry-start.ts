// An entry at start-up (SPEC §10 "No double start"): the state file of the pcheck before this
// one decides whether it waits, resumes a restart under way, or keeps a grace window.
import { initialState, log, type Clock, type EntryConfig, type EntryState, type RestoredEntry, type Step } from './entry-model';

/**
 * The state at start-up: WAIT until initialWait has passed, with the counters of the previous
 * pcheck when it left a state file. An entry it left mid-restart (same boot) resumes that restart
 * instead of starting another one: a script still running is awaited, not run a second time, and
 * a RESTART_WAIT under way goes on to its old deadline. (A script recorded as about to start but
 * not seen running may still have started: the new pcheck waits RESTART_WAIT for the program
 * rather than risk a second copy; if it does not come, that counts as the failure it is.)
 */
export function startEntry(cfg: EntryConfig, now: Clock, restored?: RestoredEntry): Step {
  const s: EntryState = { ...initialState(), deadlineMono: now.mono + cfg.initialWait * 1000 };
  if (!restored) return { state: s, actions: [{ type: 'seek' }] };
  const counters = { retryCount: restored.retryCount, restartCount: restored.restartCount, rerunTime: restored.rerunTime, monitorSts: restored.monitorSts };
  const r = restored;
  if (r.sameBoot && r.procSts === 'RESTARTING') {
    const base: EntryState = { ...s, ...counters, procSts: 'RESTARTING' };
    if (r.liveScript !== null) {
      return {
        state: { ...base, scriptRunning: true, deadlineMono: null },
        actions: [
          log('notice', `(${cfg.pname}) restart script of the previous pcheck still runs (pid=${r.liveScript.pid}): waiting for it to end instead of running it again`),
          { type: 'awaitScript', pid: r.liveScript.pid, startTime: r.liveScript.startTime },
          { type: 'seek' },
        ],
      };
    }
    const fresh = r.scriptRunning || r.deadlineMono === null;
    const deadlineMono = fresh ? now.mono + cfg.restartWait * 1000 : (r.deadlineMono as number);
    const left = Math.max(0, (deadlineMono - now.mono) / 1000);
    return {
      state: { ...base, scriptRunning: false, deadlineMono },
      actions: [log('notice', `(${cfg.pname}) was restarting when the previous pcheck stopped: waiting up to ${left.toFixed(1)}s for it to appear`), { type: 'seek' }],
    };
  }
  const lastUp =
    r.sameBoot && r.procSts === 'AVAIL' && r.pid !== null && r.startTime !== null ? { pid: r.pid, startTime: r.startTime, upSinceMono: r.upSinceMono } : null;
  return { state: { ...s, ...counters, lastUp }, actions: [{ type: 'seek' }] };
}
