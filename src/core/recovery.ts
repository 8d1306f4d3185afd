// The recovery chain of one FailSafe monitor (SPEC §8, as in CLUSTERPRO) as pure logic:
// `retries + 1` consecutive failures → restart the target group while the group restarts
// so far are below `restart_threshold` → then the final action, once. The counters reset
// after `grace` seconds of health (never by themselves with `grace = 0`), or by padmin
// (`monitor clear`).
//
// A failure counts only while the target group runs as the check saw it: Online, and not
// (re)started since the check began. A failure seen while the group is Starting, Stopping,
// Offline or Error, or by a check that began before the group's last (re)start, is logged
// once and not counted: another monitor's (or the operator's) recovery is under way, or the
// group was stopped on purpose. So two monitors failing at once restart the group once, and
// a monitor never starts a group that is not running (docs/failsafe.md).
//
// Like the entry machine: state + event + clock in, state + actions out; the FailSafe
// daemon runs the probes and carries out the actions.
import type { FinalAction, GroupState, MonitorStatus } from './failsafe-model';

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
  /** the chain reached its final action (done, or refused by max_final_actions) */
  finalActionDone: boolean;
  /** why max_final_actions refused the final action; null when it was done (or not reached) */
  finalActionRefused: string | null;
  /** monotonic ms since when the checks succeed; null while failing */
  healthySinceMono: number | null;
  /** what the last check saw */
  detail: string;
  /** who suspended the monitor (a schedule's window ends only its own suspension) */
  suspendedBy: SuspendedBy | null;
  /** the last failure was not counted (its line is logged once per run of them) */
  notCounted: boolean;
  /** the chain has ended and still fails: when its `still failing` line was last logged
   *  (monotonic ms; repeated every END_REPEAT_MS, not at every check); null: not yet */
  endLoggedMono: number | null;
}

/** How often a monitor whose chain has ended says again that it still fails. */
export const END_REPEAT_MS = 10 * 60 * 1000;

/** An operator (padmin, the web page) or a `[schedule]` `suspend_monitor`. */
export type SuspendedBy = 'operator' | 'schedule';

/** The target group as a check result finds it. */
export interface TargetView {
  state: GroupState;
  /** the group was (re)started after the check began: the check saw the old one */
  restartedSinceCheck: boolean;
}

export type MonitorEvent =
  /** `target`: the target group when the result came (absent: no target, or it always counts) */
  | { type: 'result'; ok: boolean; warning?: boolean; detail: string; target?: TargetView }
  /** a `process` monitor: an entry of its pfile retried over with action `group` (its entries are
   *  watched only while the group is Online: this failure always counts) */
  | { type: 'entryRetryOver'; pname: string }
  /** the grace timer: counters reset if healthy for `grace` */
  | { type: 'tick' }
  | { type: 'suspend'; by: SuspendedBy }
  /** `targetOffline`: an `active` monitor whose target is not Online goes back to Offline */
  | { type: 'resume'; by: SuspendedBy; targetOffline: boolean }
  /** padmin `monitor clear`: counters to 0 */
  | { type: 'clear' }
  /** the daemon did not carry out the final action the chain asked for (max_final_actions) */
  | { type: 'finalActionRefused'; reason: string }
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
  return { status: 'Normal', failures: 0, groupRestarts: 0, finalActionDone: false, finalActionRefused: null, healthySinceMono: null, detail: '', suspendedBy: null, notCounted: false, endLoggedMono: null };
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
      return suspend(s, e.by, cfg);
    case 'resume':
      return resume(s, e, cfg);
    case 'targetOffline':
      return s.status === 'Suspended' ? quiet(s) : withStatus(s, { ...s, status: 'Offline', failures: 0, healthySinceMono: null }, []);
    case 'targetOnline':
      return s.status !== 'Offline' ? quiet(s) : withStatus(s, { ...s, status: 'Normal' }, []);
    case 'clear':
      return withStatus(s, { ...s, failures: 0, groupRestarts: 0, finalActionDone: false, finalActionRefused: null, endLoggedMono: null, status: inactive ? s.status : 'Normal' }, [
        log('notice', `Monitor ${cfg.name} cleared: failures, group restarts and final action reset`),
      ]);
    case 'tick':
      return graceReset(s, cfg, nowMono);
    case 'finalActionRefused':
      return s.finalActionDone ? quiet({ ...s, finalActionRefused: e.reason }) : quiet(s);
    case 'entryRetryOver':
      return inactive ? quiet(s) : failure(s, `(${e.pname}) RETRY_OVER:GROUP`, cfg, nowMono);
    case 'result':
      if (inactive) return quiet(s); // a check that was under way when the monitor stopped
      if (e.ok) return success(s, e, cfg, nowMono);
      return counts(e.target) ? failure(s, e.detail, cfg, nowMono) : notCounted(s, e.detail, e.target, cfg);
  }
}

function suspend(s: MonitorState, by: SuspendedBy, cfg: RecoveryConfig): RecoveryStep {
  if (s.status !== 'Suspended') {
    const who = by === 'schedule' ? ' by a schedule' : '';
    return withStatus(s, { ...s, status: 'Suspended', failures: 0, suspendedBy: by }, [log('notice', `Monitor ${cfg.name} suspended${who}`)]);
  }
  if (by === 'operator' && s.suspendedBy === 'schedule') {
    // the operator takes it over: the schedule's window no longer ends it
    return { state: { ...s, suspendedBy: 'operator' }, actions: [log('notice', `Monitor ${cfg.name} suspended (by the operator now: the schedule's window no longer ends it)`)] };
  }
  if (by === 'schedule' && s.suspendedBy === 'operator') {
    return { state: s, actions: [log('notice', `Monitor ${cfg.name} is already suspended by the operator: the schedule leaves it as it is`)] };
  }
  return quiet(s);
}

function resume(s: MonitorState, e: { by: SuspendedBy; targetOffline: boolean }, cfg: RecoveryConfig): RecoveryStep {
  if (s.status !== 'Suspended') return quiet(s);
  if (e.by === 'schedule' && s.suspendedBy !== 'schedule') {
    return { state: s, actions: [log('notice', `Monitor ${cfg.name} stays suspended: the operator suspended it (padmin monitor resume ${cfg.name} resumes it)`)] };
  }
  // an `active` monitor of a group that is not Online goes back to Offline: it neither checks nor starts the group
  const status = e.targetOffline ? 'Offline' : 'Normal';
  const next: MonitorState = { ...s, status, failures: 0, healthySinceMono: null, suspendedBy: null, notCounted: false };
  return withStatus(s, next, [log('notice', `Monitor ${cfg.name} resumed${e.targetOffline ? ` (Offline: group ${cfg.target ?? '-'} is not Online)` : ''}`)]);
}

const counts = (t: TargetView | undefined): boolean => t === undefined || (t.state === 'Online' && !t.restartedSinceCheck);

/** A failure while the target group is not running as the check saw it: logged once, not counted. */
function notCounted(s: MonitorState, detail: string, t: TargetView | undefined, cfg: RecoveryConfig): RecoveryStep {
  const why = t === undefined ? '' : t.state === 'Online' ? 'was restarted while the check ran' : `is ${t.state}`;
  const actions = s.notCounted ? [] : [log('info', `Monitor ${cfg.name} failed while group ${cfg.target ?? '-'} ${why}: not counted: ${detail}`)];
  return { state: { ...s, detail, notCounted: true }, actions };
}

function success(s: MonitorState, e: { warning?: boolean; detail: string }, cfg: RecoveryConfig, nowMono: number): RecoveryStep {
  const next: MonitorState = {
    ...s,
    status: e.warning ? 'Warning' : 'Normal',
    failures: 0,
    detail: e.detail,
    healthySinceMono: s.healthySinceMono ?? nowMono,
    notCounted: false,
    endLoggedMono: null,
  };
  const actions: MonitorAction[] = [];
  if (s.status === 'Error') actions.push(log('notice', `Monitor ${cfg.name} recovered: ${e.detail}`));
  const r = withStatus(s, next, actions);
  const g = graceReset(r.state, cfg, nowMono);
  return { state: g.state, actions: [...r.actions, ...g.actions] };
}

function failure(s: MonitorState, detail: string, cfg: RecoveryConfig, nowMono: number): RecoveryStep {
  const failures = s.failures + 1;
  const base: MonitorState = { ...s, status: 'Error', failures, detail, healthySinceMono: null, notCounted: false };
  const actions: MonitorAction[] = [];
  // the chain has ended: a failure is neither counted nor escalated; said once, then every
  // END_REPEAT_MS while it fails (not a line at every check, all day long). A failure that
  // makes the status Error again (after its group was restarted or stopped, a suspension, a
  // success) is a new episode: said at once, as its monitor_error alert is sent.
  if (s.finalActionDone) {
    const last = s.status === 'Error' ? s.endLoggedMono : null;
    if (last !== null && nowMono - last < END_REPEAT_MS) return withStatus(s, { ...base, failures: 0 }, actions);
    const end =
      s.finalActionRefused === null
        ? `final action ${cfg.finalAction} already done`
        : `final action ${cfg.finalAction} was not done (${s.finalActionRefused}) and is not tried again until padmin monitor clear ${cfg.name}${cfg.grace === 0 ? '' : ` or ${cfg.grace}s of health`}`;
    const again = last === null ? ` (said again every ${END_REPEAT_MS / 60_000} min while it fails)` : '';
    actions.push(log('warning', `Monitor ${cfg.name} still failing; ${end}: ${detail}${again}`));
    return withStatus(s, { ...base, failures: 0, endLoggedMono: nowMono }, actions);
  }
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
    state: { ...s, groupRestarts: 0, finalActionDone: false, finalActionRefused: null, endLoggedMono: null },
    actions: [log('info', `Monitor ${cfg.name} healthy for ${cfg.grace}s: group restarts and final action reset`)],
  };
}

/** When the grace reset is due (monotonic ms), or null (also with `grace = 0`: only padmin resets). */
export function recoveryDeadline(s: MonitorState, cfg: RecoveryConfig): number | null {
  if (cfg.grace === 0 || s.healthySinceMono === null || (s.groupRestarts === 0 && !s.finalActionDone)) return null;
  return s.healthySinceMono + cfg.grace * 1000;
}

function log(severity: 'info' | 'notice' | 'warning' | 'err' | 'crit', message: string): MonitorAction {
  return { type: 'log', severity, message };
}
