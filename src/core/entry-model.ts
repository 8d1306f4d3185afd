// The entry machine's vocabulary (src/core/entry-machine.ts): its clock, configuration, state,
// the events the shell delivers, the actions it carries out, and the log lines of SPEC §5.
import type { ProcId } from './proc-id';
import type { MonitorSts, ProcSts, RetryOverAction } from './states';

/** Both clocks, read once by the shell per event. */
export interface Clock {
  /** CLOCK_MONOTONIC, ms: for every duration (grace, waits), immune to clock jumps. */
  mono: number;
  /** wall clock, epoch ms: only for display (`rerun_time`). */
  wall: number;
}

export interface EntryConfig {
  pentId: number;
  pname: string;
  retryLimit: number;
  /** seconds */
  grace: number;
  retryOverAction: RetryOverAction;
  /** seconds to wait for the process after the restart script exits */
  restartWait: number;
  /** seconds a missing process is WAIT (not a failure) at start-up or after `start` */
  initialWait: number;
  /** seconds stopped (T) or in D state before the process is killed as hung; null or absent: never */
  hangTimeout?: number | null;
}

export interface EntryState {
  procSts: ProcSts;
  monitorSts: MonitorSts;
  pid: number | null;
  startTime: number | null;
  retryCount: number;
  restartCount: number;
  /** epoch ms of the last restart, for display; null before the first. */
  rerunTime: number | null;
  /** monotonic ms since when the process is up after a restart (grace window). */
  upSinceMono: number | null;
  /** a restart script of this entry is running. */
  scriptRunning: boolean;
  /** RESTARTING: a restart decided while the previous script of this entry still ran (the
   *  program died again before it ended): its environment, run when that script ends. One
   *  script per entry at a time, so that two never start two copies. */
  pendingEnv: Record<string, string> | null;
  /** WAIT: end of the initial wait; RESTARTING after the script: end of RESTART_WAIT. Monotonic ms. */
  deadlineMono: number | null;
  /** WAIT after a restart of pcheck: the process the previous pcheck watched. Found again (the same
   *  pid AND start time) it keeps its grace window; another process, even on the same pid, starts a new one. */
  lastUp: { pid: number; startTime: number; upSinceMono: number | null } | null;
  /** AVAIL with hang_timeout: since when the samples show the process stopped or in D (monotonic ms). */
  stuckSinceMono: number | null;
  /** AVAIL: when the process was killed as hung (monotonic ms); its death is awaited. */
  hangKilledMono: number | null;
  /** AVAIL: found while its restart script still ran. Until the script ends, its exit is a step
   *  of that script (`nginx -t && nginx`: the check runs first), not a new failure. */
  provisional?: boolean;
  /** RESTARTING: such a process exited; when the script ends, what runs decides at once (no
   *  RESTART_WAIT): found, it is Up; none, the death counts as the failure it was. */
  lostDuringScript?: boolean;
}

/** What a restarted pcheck knows of an entry from the state file of the pcheck before it. */
export interface RestoredEntry {
  retryCount: number;
  restartCount: number;
  rerunTime: number | null;
  monitorSts: MonitorSts;
  /** written in this boot: its pids and monotonic times still mean something. */
  sameBoot: boolean;
  procSts: ProcSts;
  pid: number | null;
  startTime: number | null;
  upSinceMono: number | null;
  /** RESTARTING: the restart script had not ended (or was about to start). */
  scriptRunning: boolean;
  /** RESTARTING: the end of RESTART_WAIT once the script had ended (monotonic ms). */
  deadlineMono: number | null;
  /** that restart script, when it is still running now (same pid and start time): the shell looked. */
  liveScript: ProcId | null;
}

export type EntryEvent =
  /** a scan found a matching process (only delivered while the entry has no live pid). */
  | { type: 'found'; pid: number; startTime: number }
  /** the watched process died (exited, killed, or became a zombie). The shell has looked at
   *  once for what runs: `successor`, another process of the same program that carries on (the
   *  daemon forked and its parent exited); `workers`, processes of the entry left in the dead
   *  process's session (nginx's workers), which keep its ports and are ended before a restart;
   *  `duringScript`: it died while the restart script that it appeared under still ran (as the
   *  shell saw it at the death; the script's exit may be handled first). */
  | { type: 'died'; successor?: ProcId | null; workers?: ProcId[]; duringScript?: boolean }
  /** AVAIL with hang_timeout: the state letter of the watched process, read about every second. */
  | { type: 'sample'; state: string }
  /** kept: at a timeout, what was spared in its group or session (the program it started, Up). */
  | { type: 'scriptExited'; code: number | null; signal: string | null; timedOut: boolean; spawnError: string | null; kept?: number[] }
  /** the restart script of the previous pcheck, awaited since start-up, has ended (its status is
   *  not ours to read); timedOut: this pcheck killed it (and what it started, but the program) at the script timeout. */
  | { type: 'scriptGone'; pid: number; timedOut: boolean; kept?: number[] }
  /** a restart script held back (the dead process's reap, its workers' end, the queue) was due
   *  and not run: scriptWanted() was false (the program was found meanwhile, or monitoring is off). */
  | { type: 'scriptSkipped' }
  /** the shell delivers this when clock.mono reaches nextDeadline(). */
  | { type: 'timer' }
  | { type: 'monitorOff' }
  | { type: 'monitorOn' }
  | { type: 'reset' };

export type EventType = EntryEvent['type'];
export type EventOf<T extends EventType> = Extract<EntryEvent, { type: T }>;

export type LogSeverity = 'crit' | 'err' | 'warning' | 'notice' | 'info';

export type EntryAction =
  | { type: 'log'; severity: LogSeverity; message: string }
  | { type: 'watch'; pid: number; startTime: number }
  | { type: 'runScript'; env: Record<string, string> }
  /** end these processes (SIGTERM, a short wait, SIGKILL) before the next script of the entry runs. */
  | { type: 'endWorkers'; workers: ProcId[] }
  /** SIGKILL this process (a hung one): its death comes back as `died`. */
  | { type: 'kill'; pid: number; startTime: number }
  /** wait for the end of a restart script this pcheck did not start (it outlived the previous
   *  pcheck), then deliver `scriptGone`; kill its process group at the script timeout. */
  | { type: 'awaitScript'; pid: number; startTime: number }
  /** look for the process now and often (it is about to appear). */
  | { type: 'seek' }
  | { type: 'retryOver'; action: RetryOverAction };

export interface Step {
  state: EntryState;
  actions: EntryAction[];
}

export function initialState(): EntryState {
  return {
    procSts: 'WAIT',
    monitorSts: 'on',
    pid: null,
    startTime: null,
    retryCount: 0,
    restartCount: 0,
    rerunTime: null,
    upSinceMono: null,
    scriptRunning: false,
    pendingEnv: null,
    deadlineMono: null,
    lastUp: null,
    stuckSinceMono: null,
    hangKilledMono: null,
  };
}

// ---- messages (SPEC §5 catalogue; exact text) -------------------------------------------

export const msg = {
  up: (pname: string, pid: number) => `(${pname} ,pid=${pid}) Up`,
  down: (pname: string, pid: number | null) => `Process [${pname} , pid=${pid ?? '-----'}] Down`,
  tryRestart: (pname: string) => `Try to restart (${pname})`,
  setPidFail: (pname: string) => `Set pid fail (${pname})`,
  retryOver: (pname: string, a: RetryOverAction) => `(${pname}) RETRY_OVER:${a.toUpperCase()}`,
  hang: (pname: string, pid: number | null) => `Process [${pname} , pid=${pid ?? '-----'}] Hang`,
  fatal: (pname: string) => `(${pname}) FATAL`,
};

export function log(severity: LogSeverity, message: string): EntryAction {
  return { type: 'log', severity, message };
}
