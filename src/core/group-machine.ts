// The life cycle of a FailSafe group (SPEC §8: Offline, Starting, Online, Stopping, Error)
// as pure logic. A group is started by its start script and stopped by its stop script;
// a restart is a stop followed by a start. A start that keeps failing after
// `activation_retries` extra tries leaves the group in Error and asks for its final action.
//
// The daemon runs the scripts (environment PS_EVENT = START | RESTART | STOP; CLUSTERPRO's
// CLP_EVENT is START for all three) and feeds their exit back as `scriptExited`. An
// activation retry keeps the event of its activation (a retry inside a restart is RESTART). A group without a script "runs" it at once.
//
// A restarted pcheck resumes a group (SPEC §10 "No double start"): `adopt` takes a group that
// still runs as Online without its start script; `restart` with `stopFirst` restarts a group
// that was up, or half up, under the previous pcheck (its stop script, then its start script),
// never a plain start on top of what is left. A stop asked for while starting ends the start:
// a start that then fails is not tried again, the stop script runs.
//
// An activation retry runs the stop script first (still Starting), then the start script: a
// start that failed half way (its application started, then `exit 1`) is cleaned up, as
// Pacemaker stops a resource whose start failed and systemd ends a failed unit's processes
// before it restarts it; a plain second start would leave two copies.
import type { FinalAction, GroupState } from './failsafe-model';

export type ScriptEvent = 'START' | 'RESTART' | 'STOP';

export interface GroupMachineConfig {
  name: string;
  activationRetries: number;
  finalAction: FinalAction;
  /** false: no stop script configured (its log says so; the retry follows at once) */
  hasStop?: boolean;
}

export interface GroupRunState {
  state: GroupState;
  /** failed start tries in the current activation */
  startFailures: number;
  /** START or RESTART: the event of the current activation, which its retries keep */
  startEvent: ScriptEvent;
  /** a restart: start again once the stop script has run */
  startAfterStop: boolean;
  /** a stop asked for while starting: stop once the start script has run */
  stopAfterStart: boolean;
  /** Starting: the stop script runs after a failed start, before its activation retry */
  cleaning: boolean;
  /** group restarts since the daemon started (for padmin status) */
  restarts: number;
}

export type GroupEvent =
  | { type: 'start' }
  /** `again`: from Offline too, the stop script runs (a stop the previous pcheck did not finish) */
  | { type: 'stop'; again?: boolean }
  /** `stopFirst`: from Offline or Error too, the stop script runs before the start script */
  | { type: 'restart'; stopFirst?: boolean }
  /** a group that still runs, taken over as Online without a script (a restarted pcheck) */
  | { type: 'adopt' }
  | { type: 'scriptExited'; phase: 'start' | 'stop'; ok: boolean; detail: string };

export type GroupAction =
  | { type: 'log'; severity: 'info' | 'notice' | 'warning' | 'err' | 'crit'; message: string }
  | { type: 'runScript'; phase: 'start' | 'stop'; event: ScriptEvent }
  | { type: 'finalAction'; action: FinalAction }
  | { type: 'stateChanged'; from: GroupState; to: GroupState };

export interface GroupStep {
  run: GroupRunState;
  actions: GroupAction[];
}

export function initialGroupState(): GroupRunState {
  return { state: 'Offline', startFailures: 0, startEvent: 'START', startAfterStop: false, stopAfterStart: false, cleaning: false, restarts: 0 };
}

const log = (severity: 'info' | 'notice' | 'warning' | 'err' | 'crit', message: string): GroupAction => ({ type: 'log', severity, message });

function to(g: GroupRunState, next: GroupRunState, actions: GroupAction[]): GroupStep {
  if (g.state !== next.state) actions.unshift({ type: 'stateChanged', from: g.state, to: next.state });
  return { run: next, actions };
}

function beginStart(g: GroupRunState, cfg: GroupMachineConfig, event: ScriptEvent): GroupStep {
  return to(g, { ...g, state: 'Starting', startEvent: event, stopAfterStart: false, startAfterStop: false, cleaning: false }, [
    log('notice', `Group ${cfg.name}: ${event === 'RESTART' ? 'restarting (start)' : 'starting'}`),
    { type: 'runScript', phase: 'start', event },
  ]);
}

function beginStop(g: GroupRunState, cfg: GroupMachineConfig, event: ScriptEvent, startAfterStop: boolean): GroupStep {
  return to(g, { ...g, state: 'Stopping', startAfterStop, stopAfterStart: false }, [
    log('notice', `Group ${cfg.name}: ${event === 'RESTART' ? 'restarting (stop)' : 'stopping'}`),
    { type: 'runScript', phase: 'stop', event },
  ]);
}

const same = (g: GroupRunState): GroupStep => ({ run: g, actions: [] });

/** The one transition function of a group. */
export function groupStep(g: GroupRunState, e: GroupEvent, cfg: GroupMachineConfig): GroupStep {
  switch (g.state) {
    case 'Offline':
    case 'Error':
      if (e.type === 'start') return beginStart({ ...g, startFailures: 0 }, cfg, 'START');
      if (e.type === 'restart' && e.stopFirst === true) return beginStop({ ...g, startFailures: 0, restarts: g.restarts + 1 }, cfg, 'RESTART', true);
      if (e.type === 'restart') return beginStart({ ...g, startFailures: 0, restarts: g.restarts + 1 }, cfg, 'RESTART');
      if (e.type === 'adopt') return to(g, { ...g, state: 'Online', startFailures: 0 }, [log('notice', `Group ${cfg.name}: Online (adopted)`)]);
      // Error + stop: run the stop script to clean up what a failed start left behind
      if (e.type === 'stop' && (g.state === 'Error' || e.again === true)) return beginStop(g, cfg, 'STOP', false);
      return same(g);
    case 'Online':
      if (e.type === 'stop') return beginStop(g, cfg, 'STOP', false);
      if (e.type === 'restart') return beginStop({ ...g, restarts: g.restarts + 1 }, cfg, 'RESTART', true);
      return same(g);
    case 'Starting':
      if (e.type === 'stop') return same({ ...g, stopAfterStart: true });
      // a start after a stop, both while starting: the operator's last word, as in Stopping
      if (e.type === 'start') return same({ ...g, stopAfterStart: false });
      if (e.type === 'scriptExited' && e.phase === 'start' && !g.cleaning) return startExited(g, e, cfg);
      if (e.type === 'scriptExited' && e.phase === 'stop' && g.cleaning) return cleanedUp(g, e, cfg);
      return same(g); // a restart while starting: already under way
    case 'Stopping':
      if (e.type === 'start' || e.type === 'restart') return same({ ...g, startAfterStop: true });
      // a stop while a restart stops: no start afterwards (pcheck stops, or the operator changed their mind)
      if (e.type === 'stop') return same({ ...g, startAfterStop: false });
      if (e.type === 'scriptExited' && e.phase === 'stop') return stopExited(g, e, cfg);
      return same(g);
  }
}

function startExited(g: GroupRunState, e: { ok: boolean; detail: string }, cfg: GroupMachineConfig): GroupStep {
  if (e.ok) {
    const online: GroupRunState = { ...g, state: 'Online', startFailures: 0 };
    const r = to(g, online, [log('notice', `Group ${cfg.name}: Online`)]);
    if (!g.stopAfterStart) return r;
    const s = beginStop(online, cfg, 'STOP', false);
    return { run: s.run, actions: [...r.actions, ...s.actions] };
  }
  if (g.stopAfterStart) {
    // stopped while it started (pcheck stops, the operator): clean up what the start left
    const s = beginStop(g, cfg, 'STOP', false);
    return { run: s.run, actions: [log('notice', `Group ${cfg.name}: start ended (${e.detail}); stopping as asked`), ...s.actions] };
  }
  const failures = g.startFailures + 1;
  if (failures <= cfg.activationRetries) {
    return {
      run: { ...g, startFailures: failures, cleaning: true },
      actions: [
        log('err', `Group ${cfg.name}: start failed (${e.detail}); activation retry ${failures}/${cfg.activationRetries} ${cfg.hasStop === false ? '(no stop script to end what the failed start left)' : '(the stop script first, to end what the failed start left)'}`),
        { type: 'runScript', phase: 'stop', event: g.startEvent },
      ],
    };
  }
  return to(g, { ...g, state: 'Error', startFailures: failures, stopAfterStart: false }, [
    log('crit', `Group ${cfg.name}: start failed ${failures} times (${e.detail}): Error; final action ${cfg.finalAction}`),
    { type: 'finalAction', action: cfg.finalAction },
  ]);
}

/** The stop script after a failed start has run: the activation retry starts, unless a stop was
 *  asked for meanwhile (the stop script has just run: Offline). */
function cleanedUp(g: GroupRunState, e: { ok: boolean; detail: string }, cfg: GroupMachineConfig): GroupStep {
  const failed = (then: string): GroupAction[] => (e.ok ? [] : [log('warning', `Group ${cfg.name}: stop script before the activation retry failed (${e.detail}); ${then}`)]);
  if (g.stopAfterStart) {
    return to(g, { ...g, state: 'Offline', cleaning: false, stopAfterStart: false }, [...failed('stopped as asked'), log('notice', `Group ${cfg.name}: Offline (stopped as asked before its activation retry)`)]);
  }
  return { run: { ...g, cleaning: false }, actions: [...failed('starting again anyway'), { type: 'runScript', phase: 'start', event: g.startEvent }] };
}

function stopExited(g: GroupRunState, e: { ok: boolean; detail: string }, cfg: GroupMachineConfig): GroupStep {
  const actions: GroupAction[] = [];
  if (!e.ok) actions.push(log('err', `Group ${cfg.name}: stop script failed (${e.detail}); the group is considered stopped`));
  const offline: GroupRunState = { ...g, state: 'Offline', startAfterStop: false };
  if (!g.startAfterStop) return to(g, offline, [...actions, log('notice', `Group ${cfg.name}: Offline`)]);
  const s = beginStart(offline, cfg, 'RESTART');
  // Stopping → Starting directly: one state change, as the operator sees it
  return { run: s.run, actions: [...actions, ...s.actions.filter((a) => a.type !== 'stateChanged'), { type: 'stateChanged', from: 'Stopping', to: 'Starting' }] };
}
