// The recovery chain of one FailSafe monitor (SPEC §8, as in CLUSTERPRO) as pure logic:
// `retries + 1` consecutive failures → restart the target group while the group restarts
// so far are below `restart_threshold` → then the final action, once. The counters reset
// after `grace` seconds of health, or by padmin (`monitor clear`).
//
// Like the entry machine: state + event + clock in, state + actions out; the FailSafe
// daemon runs the probes and carries out the actions.
import type { FinalAction, MonitorStatus } from './failsafe-model';

export interface RecoveryConfig {
  name: string;
  target: string | null;
  retries: number;
  restartThreshold: number;
  /** seconds */
  grace: number;
  finalAction: FinalAction;
}

export interface MonitorState {
  status: MonitorStatus;
  /** consecutive failed checks since the last success or recovery step */
  failures: number;
  /** group restarts this monitor's chain has done (toward restart_threshold) */
  groupRestarts: number;
  finalActionDone: boolean;
  /** monotonic ms since when the checks succeed; null while failing */
  healthySinceMono: number | null;
  /** what the last check saw */
  detail: string;
}

export type MonitorEvent =
  | { type: 'result'; ok: boolean; warning?: boolean; detail: string }
  /** the grace timer: counters reset if healthy for `grace` */
  | { type: 'tick' }
  | { type: 'suspend' }
  | { type: 'resume' }
  /** padmin `monitor clear`: counters to 0 */
  | { type: 'clear' }
  /** timing `active`: the target group went offline / online */
  | { type: 'targetOffline' }
  | { type: 'targetOnline' };

export type MonitorAction =
  | { type: 'log'; severity: 'info' | 'notice' | 'warning' | 'err' | 'crit'; message: string }
  | { type: 'restartGroup'; group: string }
  | { type: 'finalAction'; action: FinalAction }
  /** a change of status worth an alert (issue: alerts) */
  | { type: 'statusChanged'; from: MonitorStatus; to: MonitorStatus };

export function initialMonitorState(): MonitorState {
  return { status: 'Normal', failures: 0, groupRestarts: 0, finalActionDone: false, healthySinceMono: null, detail: '' };
}

export interface RecoveryStep {
  state: MonitorState;
  actions: MonitorAction[];
}

const quiet = (state: MonitorState): RecoveryStep => ({ state, actions: [] });

function withStatus(s: MonitorState, next: MonitorState, actions: MonitorAction[]): RecoveryStep {
  if (s.status !== next.status) actions.push({ type: 'statusChanged', from: s.status, to: next.status });
  return { state: next, actions };
}

/** The one transition function of a monitor's recovery chain. */
export function recoveryStep(s: MonitorState, e: MonitorEvent, cfg: RecoveryConfig, nowMono: number): RecoveryStep {
  const inactive = s.status === 'Suspended' || s.status === 'Offline';
  switch (e.type) {
    case 'suspend':
      return s.status === 'Suspended' ? quiet(s) : withStatus(s, { ...s, status: 'Suspended', failures: 0 }, [log('notice', `Monitor ${cfg.name} suspended`)]);
    case 'resume':
      return s.status !== 'Suspended' ? quiet(s) : withStatus(s, { ...s, status: 'Normal', failures: 0, healthySinceMono: null }, [log('notice', `Monitor ${cfg.name} resumed`)]);
    case 'targetOffline':
      return s.status === 'Suspended' ? quiet(s) : withStatus(s, { ...s, status: 'Offline', failures: 0, healthySinceMono: null }, []);
    case 'targetOnline':
      return s.status !== 'Offline' ? quiet(s) : withStatus(s, { ...s, status: 'Normal' }, []);
    case 'clear':
      return withStatus(s, { ...s, failures: 0, groupRestarts: 0, finalActionDone: false, status: inactive ? s.status : 'Normal' }, [
        log('notice', `Monitor ${cfg.name} cleared: failures, group restarts and final action reset`),
      ]);
    case 'tick':
      return graceReset(s, cfg, nowMono);
    case 'result':
      if (inactive) return quiet(s); // a check that was under way when the monitor stopped
      return e.ok ? success(s, e, cfg, nowMono) : failure(s, e.detail, cfg);
  }
}

function success(s: MonitorState, e: { warning?: boolean; detail: string }, cfg: RecoveryConfig, nowMono: number): RecoveryStep {
  const next: MonitorState = {
    ...s,
    status: e.warning ? 'Warning' : 'Normal',
    failures: 0,
    detail: e.detail,
    healthySinceMono: s.healthySinceMono ?? nowMono,
  };
  const actions: MonitorAction[] = [];
  if (s.status === 'Error') actions.push(log('notice', `Monitor ${cfg.name} recovered: ${e.detail}`));
  const r = withStatus(s, next, actions);
  const g = graceReset(r.state, cfg, nowMono);
  return { state: g.state, actions: [...r.actions, ...g.actions] };
}

function failure(s: MonitorState, detail: string, cfg: RecoveryConfig): RecoveryStep {
  const failures = s.failures + 1;
  const base: MonitorState = { ...s, status: 'Error', failures, detail, healthySinceMono: null };
  const actions: MonitorAction[] = [];
  const limit = cfg.retries + 1;
  if (failures < limit) {
    actions.push(log('warning', `Monitor ${cfg.name} failed (${failures}/${limit}): ${detail}`));
    return withStatus(s, base, actions);
  }
  if (cfg.target !== null && s.groupRestarts < cfg.restartThreshold) {
    const n = s.groupRestarts + 1;
    actions.push(
      log('err', `Monitor ${cfg.name} failed ${failures} times: restarting group ${cfg.target} (group restart ${n}/${cfg.restartThreshold}): ${detail}`),
      { type: 'restartGroup', group: cfg.target },
    );
    return withStatus(s, { ...base, failures: 0, groupRestarts: n }, actions);
  }
  if (s.finalActionDone) {
    actions.push(log('warning', `Monitor ${cfg.name} still failing; final action ${cfg.finalAction} already done: ${detail}`));
    return withStatus(s, { ...base, failures: 0 }, actions);
  }
  const target = cfg.target === null ? 'no group' : `group ${cfg.target}`;
  actions.push(
    log('crit', `Monitor ${cfg.name} failed ${failures} times after ${s.groupRestarts} restarts of ${target}: final action ${cfg.finalAction}: ${detail}`),
    { type: 'finalAction', action: cfg.finalAction },
  );
  return withStatus(s, { ...base, failures: 0, finalActionDone: true }, actions);
}

/** After `grace` seconds of health, the chain starts again from the beginning. */
function graceReset(s: MonitorState, cfg: RecoveryConfig, nowMono: number): RecoveryStep {
  const due = recoveryDeadline(s, cfg);
  if (due === null || nowMono < due) return quiet(s);
  return {
    state: { ...s, groupRestarts: 0, finalActionDone: false },
    actions: [log('info', `Monitor ${cfg.name} healthy for ${cfg.grace}s: group restarts and final action reset`)],
  };
}

/** When the grace reset is due (monotonic ms), or null. */
export function recoveryDeadline(s: MonitorState, cfg: RecoveryConfig): number | null {
  if (s.healthySinceMono === null || (s.groupRestarts === 0 && !s.finalActionDone)) return null;
  return s.healthySinceMono + cfg.grace * 1000;
}

function log(severity: 'info' | 'notice' | 'warning' | 'err' | 'crit', message: string): MonitorAction {
  return { type: 'log', severity, message };
}
