// The life cycle of one pfile entry (SPEC §3) as pure logic: state + event + clock in,
// new state + actions out. No I/O, no timers, no Date.now(): the daemon (src/daemon/)
// turns /proc scans, pid deaths, script exits, timer expiry and padmin requests into
// EntryEvents and carries out the EntryActions.
//
// The transition table TABLE[procSts][event.type] is data; the compiler checks that
// every (state, event) pair is spelled out. Monitoring off (`monitor_sts = off`) is a
// switch orthogonal to proc_sts: it suppresses restarts, not observation.

import type { ProcId } from './proc-id';
import type { ProcSts, RetryOverAction } from './states';
import { log, msg, type Clock, type EntryAction, type EntryConfig, type EntryEvent, type EntryState, type EventOf, type EventType, type Step } from './entry-model';
import { graceDeadline, graceExpired, isRetryOver } from './retry-policy';
import { HANG_KILL_WAIT_MS, hangDeadline, isStuck } from './hang-policy';

/** Retry-over actions after which pcheck does not go on as before: they log FATAL. */
function isFatal(a: RetryOverAction): boolean {
  return a === 'exit' || a === 'shutdown' || a === 'reboot' || a === 'panic';
}

// ---- handlers ---------------------------------------------------------------------------

type Handler<T extends EventType> = (s: EntryState, e: EventOf<T>, cfg: EntryConfig, now: Clock) => Step;

const ignore = <T extends EventType>(): Handler<T> => (s) => ({ state: s, actions: [] });


/** A failure of an entry whose monitoring is on: restart it, or retry-over. `workers`: what the
 *  dead program left in its session, ended before its restart script runs (not on a retry-over). */
function fail(s: EntryState, cfg: EntryConfig, now: Clock, pre: EntryAction[], workers: ProcId[] = []): Step {
  const base: EntryState = { ...s, pid: null, startTime: null, upSinceMono: null, deadlineMono: null, lastUp: null, stuckSinceMono: null, hangKilledMono: null, provisional: false, lostDuringScript: false };
  if (isRetryOver(s, cfg)) {
    const actions = [...pre, log('crit', msg.retryOver(cfg.pname, cfg.retryOverAction))];
    if (isFatal(cfg.retryOverAction)) actions.push(log('crit', msg.fatal(cfg.pname)));
    actions.push({ type: 'retryOver', action: cfg.retryOverAction });
    return { state: { ...base, procSts: 'RETRY_OVER' }, actions };
  }
  const next: EntryState = {
    ...base,
    procSts: 'RESTARTING',
    retryCount: s.retryCount + 1,
    restartCount: s.restartCount + 1,
    rerunTime: now.wall,
    scriptRunning: true,
    pendingEnv: null,
  };
  const env = {
    PS_PNAME: cfg.pname,
    PS_PENT_ID: String(cfg.pentId),
    PS_OLD_PID: s.pid === null ? '' : String(s.pid),
    PS_RETRY_COUNT: String(next.retryCount),
    PS_RESTART_COUNT: String(next.restartCount),
  };
  const tryRestart = log('notice', msg.tryRestart(cfg.pname));
  if (workers.length > 0) pre = [...pre, { type: 'endWorkers', workers }];
  if (s.scriptRunning) {
    // the script of the last restart still runs (it started the program, which died already):
    // this restart counts now, and its script runs when that one has ended
    return {
      state: { ...next, pendingEnv: env },
      actions: [...pre, tryRestart, log('notice', `(${cfg.pname}) the previous restart script still runs: this one starts when it ends`), { type: 'seek' }],
    };
  }
  return { state: next, actions: [...pre, tryRestart, { type: 'runScript', env }, { type: 'seek' }] };
}

/** The process is (back) up: watch it; after a restart, the grace window starts now, unless it
 *  is the very process (pid and start time) the previous pcheck watched: it keeps its window. */
const foundUp: Handler<'found'> = (s, e, cfg, now) => {
  const same = s.lastUp !== null && s.lastUp.pid === e.pid && s.lastUp.startTime === e.startTime;
  const since = same && s.lastUp!.upSinceMono !== null ? s.lastUp!.upSinceMono : now.mono;
  return {
    state: {
      ...s,
      procSts: 'AVAIL',
      pid: e.pid,
      startTime: e.startTime,
      deadlineMono: null,
      upSinceMono: s.retryCount > 0 ? since : null,
      lastUp: null,
      pendingEnv: null, // the program is up: the running script started it
      stuckSinceMono: null,
      hangKilledMono: null,
      provisional: s.procSts === 'RESTARTING' && s.scriptRunning,
      lostDuringScript: false,
    },
    actions: [log('info', msg.up(cfg.pname, e.pid)), { type: 'watch', pid: e.pid, startTime: e.startTime }],
  };
};

const diedWhileAvail: Handler<'died'> = (s, e, cfg, now) => {
  const next = e.successor ?? null;
  if (next !== null) {
    // the program goes on in another process (a daemon forked and its parent exited): the
    // process that stays is the one watched; nothing is restarted, nothing is counted
    return {
      state: { ...s, pid: next.pid, startTime: next.startTime, stuckSinceMono: null, hangKilledMono: null },
      actions: [
        log('notice', `(${cfg.pname}) pid=${s.pid ?? '-----'} exited; pid=${next.pid} of the same program runs: watching it`),
        log('info', msg.up(cfg.pname, next.pid)),
        { type: 'watch', pid: next.pid, startTime: next.startTime },
      ],
    };
  }
  if ((e.duringScript ?? (s.provisional === true && s.scriptRunning)) && s.monitorSts === 'on') {
    // found while its restart script runs and gone before it ends: a step of the script (a
    // configuration check, a start-up helper of the same program), not the program that stays.
    // What runs when the script has ended decides, as after any script.
    return {
      state: {
        ...s,
        procSts: 'RESTARTING',
        pid: null,
        startTime: null,
        upSinceMono: null,
        // the script may have ended meanwhile: then its end is now
        deadlineMono: s.scriptRunning ? null : now.mono,
        provisional: false,
        lostDuringScript: true,
        stuckSinceMono: null,
        hangKilledMono: null,
      },
      actions: [
        log('err', msg.down(cfg.pname, s.pid)),
        log('notice', `(${cfg.pname}) pid=${s.pid ?? '-----'} exited while its restart script still ran: what runs when the script has ended decides`),
        { type: 'seek' },
      ],
    };
  }
  if (s.monitorSts === 'off') {
    // the operator turned monitoring off: the death is told, but it is no alarm
    const down = log('notice', msg.down(cfg.pname, s.pid));
    return { state: { ...s, procSts: 'DOWN', pid: null, startTime: null, upSinceMono: null, stuckSinceMono: null, hangKilledMono: null }, actions: [down] };
  }
  return fail(s, cfg, now, [log('err', msg.down(cfg.pname, s.pid))], e.workers ?? []);
};

/** AVAIL with hang_timeout: the process's state letter, sampled. Stuck (T, t, D) starts the
 *  hang clock; running again stops it. With monitoring off nothing is killed, so nothing is timed. */
const sample: Handler<'sample'> = (s, e, cfg, now) => {
  if ((cfg.hangTimeout ?? null) === null || s.hangKilledMono !== null || s.monitorSts === 'off') return { state: s, actions: [] };
  const stuck = isStuck(e.state);
  if (stuck === (s.stuckSinceMono !== null)) return { state: s, actions: [] };
  return { state: { ...s, stuckSinceMono: stuck ? now.mono : null }, actions: [] };
};

/** Timer in AVAIL: the hang clock (a hung process is killed, then restarted once dead), else
 *  the grace window. */
const availTimer: Handler<'timer'> = (s, e, cfg, now) => {
  const hang = hangDeadline(s, cfg.hangTimeout ?? null);
  if (hang === null || now.mono < hang || s.monitorSts === 'off') return graceTimer(s, e, cfg, now);
  if (s.hangKilledMono === null) {
    return {
      state: { ...s, hangKilledMono: now.mono },
      actions: [log('err', msg.hang(cfg.pname, s.pid)), { type: 'kill', pid: s.pid as number, startTime: s.startTime as number }],
    };
  }
  // SIGKILL has not ended it (a process in D dies only when it leaves the kernel): restart anyway
  const why = `(${cfg.pname}) pid=${s.pid ?? '-----'} still there ${HANG_KILL_WAIT_MS / 1000}s after SIGKILL (uninterruptible): restarting without waiting for it`;
  return fail(s, cfg, now, [log('err', why)]);
};

/** A script killed at its timeout with what it started; never the program it started (kept). */
function timedOut(pname: string, kept: number[] = []): string {
  const spared = kept.length > 0 ? `, except pid=${kept.join(',')}: the program (Up) and its children` : '';
  return `Restart script of (${pname}) timed out; killed it and what it started${spared}`;
}

/** The restart script has ended: what counts is whether the process appears, so only log the outcome. */
const scriptExited: Handler<'scriptExited'> = (s, e, cfg, now) => {
  const actions: EntryAction[] = [];
  if (e.spawnError !== null) actions.push(log('err', `Restart script of (${cfg.pname}) could not run: ${e.spawnError}`));
  else if (e.timedOut) actions.push(log('err', timedOut(cfg.pname, e.kept)));
  else if (e.code !== 0) {
    const how = e.code === null ? `was killed by ${e.signal ?? 'a signal'}` : `exited with status ${e.code}`;
    actions.push(log('warning', `Restart script of (${cfg.pname}) ${how}`));
  }
  return afterScript(s, cfg, now, actions);
};

/** The awaited script of the previous pcheck has ended: as for our own, RESTART_WAIT starts now. */
const scriptGone: Handler<'scriptGone'> = (s, e, cfg, now) => {
  const line = e.timedOut
    ? log('err', timedOut(cfg.pname, e.kept))
    : log('info', `(${cfg.pname}) restart script of the previous pcheck (pid=${e.pid}) has ended`);
  return afterScript(s, cfg, now, [line]);
};

/**
 * A restart script that was held back (the dead process's reap, its workers' end, the queue) is
 * still wanted when it is due only if nothing was found meanwhile and monitoring is on: a program
 * started by someone else during the wait is the program (never start a second copy), and an
 * operator's or a FailSafe group's `stop` means nothing starts.
 */
export function scriptWanted(s: EntryState): boolean {
  return s.procSts === 'RESTARTING' && s.monitorSts === 'on';
}

/** A held-back script not run (scriptWanted false): as after a script, without RESTART_WAIT when
 *  monitoring is off (nothing was started: the entry is DOWN until monitoring is on again). */
const scriptSkipped: Handler<'scriptSkipped'> = (s, _e, cfg, now) => {
  const why = s.procSts === 'AVAIL' ? `pid=${s.pid ?? '-----'} of the program runs (found while the script waited)` : 'monitoring is off';
  const line = log('notice', `Restart script of (${cfg.pname}) not run: ${why}`);
  if (s.procSts === 'RESTARTING' && s.monitorSts === 'off') {
    return { state: { ...s, procSts: 'DOWN', scriptRunning: false, pendingEnv: null, deadlineMono: null, lostDuringScript: false, provisional: false }, actions: [line] };
  }
  return afterScript(s, cfg, now, [line]);
};

function afterScript(s: EntryState, cfg: EntryConfig, now: Clock, actions: EntryAction[]): Step {
  if (s.pendingEnv !== null && s.procSts === 'RESTARTING' && s.monitorSts === 'on') {
    return { state: { ...s, pendingEnv: null, deadlineMono: null }, actions: [...actions, { type: 'runScript', env: s.pendingEnv }, { type: 'seek' }] };
  }
  const state: EntryState = { ...s, scriptRunning: false, pendingEnv: null, provisional: false };
  if (s.procSts === 'RESTARTING') {
    // after a process lost during the script: decide now (the shell scans before the timer)
    state.deadlineMono = now.mono + (s.lostDuringScript === true ? 0 : cfg.restartWait * 1000);
    actions.push({ type: 'seek' });
  }
  return { state, actions };
}

/** Timer in AVAIL: only the grace window can have expired. */
const graceTimer: Handler<'timer'> = (s, _e, cfg, now) => {
  if (!graceExpired(s, cfg, now.mono)) return { state: s, actions: [] };
  return {
    state: { ...s, retryCount: 0, upSinceMono: null },
    actions: [log('info', `(${cfg.pname}) up for ${cfg.grace}s: retry_count reset to 0`)],
  };
};

const waitTimer: Handler<'timer'> = (s, _e, cfg, now) => {
  if (s.monitorSts === 'off' || s.deadlineMono === null || now.mono < s.deadlineMono) return { state: s, actions: [] };
  return fail(s, cfg, now, [log('warning', `(${cfg.pname}) process not found`)]);
};

const restartTimer: Handler<'timer'> = (s, _e, cfg, now) => {
  if (s.scriptRunning || s.deadlineMono === null || now.mono < s.deadlineMono) return { state: s, actions: [] };
  // a process lost during the script: its Down is logged, and that death is the failure
  const pidFail = s.lostDuringScript === true ? [] : [log('err', msg.setPidFail(cfg.pname))];
  if (s.monitorSts === 'off') return { state: { ...s, procSts: 'DOWN', deadlineMono: null, lostDuringScript: false }, actions: pidFail };
  return fail(s, cfg, now, pidFail);
};

const monitorOff: Handler<'monitorOff'> = (s) => ({ state: { ...s, monitorSts: 'off' }, actions: [] });

/** Monitoring back on: a process that is not known to run gets an initial wait, then counts as failed. */
const monitorOnWaiting: Handler<'monitorOn'> = (s, _e, cfg, now) => ({
  state: { ...s, monitorSts: 'on', procSts: 'WAIT', deadlineMono: now.mono + cfg.initialWait * 1000 },
  actions: [{ type: 'seek' }],
});
const monitorOnKeep: Handler<'monitorOn'> = (s) => ({ state: { ...s, monitorSts: 'on' }, actions: [] });

/** `reset pent`: counters to 0; out of RETRY_OVER into WAIT with no wait, so a missing process is restarted at once. */
const reset: Handler<'reset'> = (s, _e, _cfg, now) => {
  const counters = { retryCount: 0, restartCount: 0, upSinceMono: null, rerunTime: null };
  if (s.procSts !== 'RETRY_OVER') return { state: { ...s, ...counters }, actions: [] };
  return { state: { ...s, ...counters, procSts: 'WAIT', deadlineMono: now.mono }, actions: [{ type: 'seek' }] };
};

type Table = { [S in ProcSts]: { [E in EventType]: Handler<E> } };

const TABLE: Table = {
  WAIT: {
    found: foundUp,
    died: ignore(), // nothing is watched while waiting
    sample: ignore(), // samples are of a watched process
    scriptExited, // a script of an earlier life (before `stop`) may still end
    scriptGone,
    scriptSkipped,
    timer: waitTimer,
    monitorOff,
    monitorOn: monitorOnWaiting, // a fresh initial wait: the old one may have run out while off
    reset,
  },
  AVAIL: {
    found: ignore(), // scans look only for entries without a live process
    died: diedWhileAvail,
    sample,
    scriptExited, // the process showed up before its script ended
    scriptGone,
    scriptSkipped,
    timer: availTimer,
    monitorOff,
    monitorOn: monitorOnKeep,
    reset,
  },
  DOWN: {
    found: foundUp,
    died: ignore(),
    sample: ignore(),
    scriptExited,
    scriptGone,
    scriptSkipped,
    timer: ignore(),
    monitorOff,
    monitorOn: monitorOnWaiting,
    reset,
  },
  RESTARTING: {
    found: foundUp,
    died: ignore(),
    sample: ignore(),
    scriptExited,
    scriptGone,
    scriptSkipped,
    timer: restartTimer,
    monitorOff,
    monitorOn: monitorOnKeep,
    reset,
  },
  RETRY_OVER: {
    found: foundUp, // retry-over `none`: the entry comes back when the process reappears
    died: ignore(),
    sample: ignore(),
    scriptExited,
    scriptGone,
    scriptSkipped,
    timer: ignore(),
    monitorOff,
    monitorOn: monitorOnKeep,
    reset,
  },
};

/** The one transition function. */
export function step(s: EntryState, e: EntryEvent, cfg: EntryConfig, now: Clock): Step {
  const handler = TABLE[s.procSts][e.type] as Handler<EventType>;
  return handler(s, e, cfg, now);
}

/** The next monotonic time at which a `timer` event matters for this entry, or null. */
export function nextDeadline(s: EntryState, cfg: EntryConfig): number | null {
  switch (s.procSts) {
    case 'WAIT':
      return s.monitorSts === 'on' ? s.deadlineMono : null;
    case 'RESTARTING':
      return s.scriptRunning ? null : s.deadlineMono;
    case 'AVAIL': {
      const grace = graceDeadline(s, cfg);
      const hang = s.monitorSts === 'on' ? hangDeadline(s, cfg.hangTimeout ?? null) : null;
      return grace === null ? hang : hang === null ? grace : Math.min(grace, hang);
    }
    case 'DOWN':
    case 'RETRY_OVER':
      return null;
  }
}

/** Whether scans should look for this entry's process (it has no live pid). */
export function isSeeking(s: EntryState): boolean {
  return s.procSts !== 'AVAIL';
}
