// A FailSafe monitor's shell: schedules its probe (interval, start_wait, timeout, timing)
// and feeds the results to the pure recovery chain; carries out the chain's actions
// through the daemon. A `process` monitor has no probe: the retry-overs (`group`) of its
// pfile's entries are its failures.
import type { FinalAction, GroupState, MonitorConfig } from '../../core/failsafe-model';
import { initialMonitorState, recoveryDeadline, recoveryStep, type MonitorEvent, type MonitorState, type RecoveryConfig, type SuspendedBy, type TargetView } from '../../core/recovery';
import type { Logger } from '../../log/logger';
import type { EventKind } from '../../core/events';
import { createProbe, type Probe } from '../../monitors/index';
import type { ChainRecord } from '../../state/failsafe-state';

export interface MonitorRunnerDeps {
  log: Logger;
  monoNow(): number;
  restartGroup(group: string, monitor: string): void;
  /** returns why the action is not done (max_final_actions), else null; `announce` is told
   *  which before anything is done (the final_action event) */
  finalAction(action: FinalAction, monitor: MonitorRunner, announce: (refused: string | null) => void): string | null;
  /** the state of a group, to hold checks while it is starting or stopping */
  groupState(group: string): GroupState | null;
  /** monotonic ms since the group is in its state (a check that began before saw another one) */
  groupSince?(group: string): number | null;
  /** group_restart, final_action, monitor_error, monitor_recovered */
  event(kind: EventKind, message: string, fields: Record<string, string | number | null>): void;
  /** the chain or the status changed (the state file) */
  changed?(): void;
}

export class MonitorRunner {
  state: MonitorState = initialMonitorState();
  lastCheckAt: number | null = null;
  /** epoch ms of the chain's last step (a failure counted, a restart, the final action) */
  changedAt: number | null = null;
  private readonly probe: Probe | null;
  private timer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private inFlight: AbortController | null = null;
  private closed = false;

  constructor(
    readonly cfg: MonitorConfig,
    private readonly deps: MonitorRunnerDeps,
  ) {
    this.probe = cfg.type === 'process' ? null : createProbe(cfg);
  }

  private get recovery(): RecoveryConfig {
    const c = this.cfg;
    return { name: c.name, target: c.target, retries: c.retries, restartThreshold: c.restartThreshold, grace: c.grace, finalAction: c.finalAction };
  }

  /** The chain as the previous pcheck left it (same configuration): its counters, its final
   *  action done, and a suspension by the operator. */
  restore(r: ChainRecord): void {
    // no reason (an older pcheck's file, or an empty one): done, as the log, padmin and the web page say alike
    const refused = r.finalActionDone && typeof r.finalActionRefused === 'string' && r.finalActionRefused !== '' ? r.finalActionRefused : null;
    this.state = { ...this.state, failures: r.failures, groupRestarts: r.groupRestarts, finalActionDone: r.finalActionDone, finalActionRefused: refused };
    this.changedAt = r.changedAt;
    if (r.suspended) this.state = { ...this.state, status: 'Suspended', suspendedBy: 'operator' };
    const chain = `failures ${r.failures}, group restarts ${r.groupRestarts}/${this.cfg.restartThreshold}${r.finalActionDone ? `, final action ${this.cfg.finalAction} ${refused !== null ? `not done (${refused})` : 'done'}` : ''}`;
    this.deps.log.info(`Monitor ${this.cfg.name} restored: ${chain}${r.suspended ? ', suspended by the operator' : ''}`);
  }

  /** The chain to persist. */
  record(config: string): ChainRecord {
    const s = this.state;
    return { config, failures: s.failures, groupRestarts: s.groupRestarts, finalActionDone: s.finalActionDone, finalActionRefused: s.finalActionRefused, changedAt: this.changedAt, suspended: s.status === 'Suspended' && s.suspendedBy === 'operator' };
  }

  /** One check now, outside the chain (is the group that the previous pcheck left Online still
   *  up?): null when it passes, else what failed. A `process` monitor has no probe: null. */
  async checkOnce(): Promise<string | null> {
    if (this.probe === null) return null;
    const ac = new AbortController();
    const timeoutMs = this.cfg.timeout * 1000;
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const r = await this.probe.check(ac.signal, timeoutMs);
      return r.ok ? null : `monitor ${this.cfg.name} fails: ${r.detail}`;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts checking after start_wait; `active` monitors wait for their group to be Online. */
  start(): void {
    const online = this.cfg.target === null || this.deps.groupState(this.cfg.target) === 'Online';
    if (this.cfg.timing === 'active' && !online) this.feed({ type: 'targetOffline' });
    else this.schedule(this.cfg.startWait * 1000);
  }

  /** The target group changed state. */
  onGroupState(to: GroupState): void {
    if (to === 'Online') {
      // the group's processes are new: the next check comes after a whole interval (plus
      // start_wait), so a service that needs a moment to listen is not failed at once and
      // escalation is never faster than the configuration (SPEC §10)
      if (this.cfg.timing === 'active') this.feed({ type: 'targetOnline' });
      this.schedule((this.cfg.interval + this.cfg.startWait) * 1000);
    } else if (this.cfg.timing === 'active' && (to === 'Offline' || to === 'Error' || to === 'Stopping')) {
      this.cancelCheck();
      this.feed({ type: 'targetOffline' });
    }
  }

  feed(e: MonitorEvent): void {
    if (this.closed) return;
    const r = recoveryStep(this.state, e, this.recovery, this.deps.monoNow());
    const before = this.state;
    this.state = r.state;
    if (r.state.failures !== before.failures || r.state.groupRestarts !== before.groupRestarts || r.state.finalActionDone !== before.finalActionDone) {
      this.changedAt = Date.now();
      this.deps.changed?.();
    } else if (r.state.status !== before.status) this.deps.changed?.();
    const fields = { monitor: this.cfg.name, group: this.cfg.target, detail: r.state.detail };
    let lastLog = '';
    let refused: string | null = null;
    for (const a of r.actions) {
      switch (a.type) {
        case 'log':
          this.deps.log.log(a.severity, a.message);
          lastLog = a.message;
          break;
        case 'restartGroup':
          this.deps.event('group_restart', lastLog, { ...fields, groupRestarts: r.state.groupRestarts });
          this.deps.restartGroup(a.group, this.cfg.name);
          break;
        case 'finalAction':
          refused = this.deps.finalAction(a.action, this, (no) => this.announce(a.action, lastLog, no));
          break;
        case 'statusChanged':
          this.deps.log.info(`Monitor ${this.cfg.name}: ${a.from} -> ${a.to}`);
          if (a.to === 'Error') this.deps.event('monitor_error', `Monitor ${this.cfg.name} Error: ${r.state.detail}`, fields);
          if (a.from === 'Error' && (a.to === 'Normal' || a.to === 'Warning')) {
            this.deps.event('monitor_recovered', `Monitor ${this.cfg.name} recovered: ${r.state.detail}`, fields);
          }
          break;
      }
    }
    // the chain's end says so ("was not done"), and padmin status shows NOT DONE
    if (refused !== null) {
      this.state = recoveryStep(this.state, { type: 'finalActionRefused', reason: refused }, this.recovery, this.deps.monoNow()).state;
      this.deps.changed?.();
    }
    this.armGrace();
  }

  /** The final_action event: a refused action says so, so an alert does not tell of a reboot
   *  that max_final_actions held back. */
  private announce(action: FinalAction, message: string, refused: string | null): void {
    const fields = { monitor: this.cfg.name, group: this.cfg.target, detail: this.state.detail, action };
    if (refused === null) this.deps.event('final_action', message, fields);
    else this.deps.event('final_action', `${message} (not done: ${refused})`, { ...fields, refused });
  }

  suspend(by: SuspendedBy = 'operator'): void {
    this.feed({ type: 'suspend', by });
    if (this.state.status === 'Suspended') this.cancelCheck();
  }

  /** An `active` monitor whose group is not Online goes back to Offline (no check, no start). */
  resume(by: SuspendedBy = 'operator'): void {
    const target = this.cfg.target === null ? null : this.deps.groupState(this.cfg.target);
    this.feed({ type: 'resume', by, targetOffline: this.cfg.timing === 'active' && target !== 'Online' });
    if (this.state.status === 'Normal') this.schedule(0);
  }

  close(): void {
    this.closed = true;
    this.cancelCheck();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.probe?.close();
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.probe === null || this.closed) return;
    this.timer = setTimeout(() => void this.check(), delayMs);
  }

  private cancelCheck(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
    this.inFlight = null;
  }

  private async check(): Promise<void> {
    this.timer = null;
    if (this.probe === null || this.closed) return;
    const s = this.state.status;
    const target = this.cfg.target === null ? null : this.deps.groupState(this.cfg.target);
    // hold checks while the target group is being stopped or started (its recovery is under way)
    const held = s === 'Suspended' || s === 'Offline' || target === 'Starting' || target === 'Stopping';
    if (!held) {
      const ac = new AbortController();
      this.inFlight = ac;
      const timeoutMs = this.cfg.timeout * 1000;
      const timer = setTimeout(() => ac.abort(), timeoutMs);
      const began = this.deps.monoNow();
      const result = await this.probe.check(ac.signal, timeoutMs);
      clearTimeout(timer);
      if (this.inFlight !== ac) return; // cancelled meanwhile (suspend, group offline, close)
      this.inFlight = null;
      this.lastCheckAt = Date.now();
      this.feed({ type: 'result', ok: result.ok, warning: result.warning, detail: result.detail, target: this.targetView(began) });
    }
    if (this.timer === null) this.schedule(this.cfg.interval * 1000);
  }

  /** The target group as this result finds it: a failure counts only if it ran, as it is, all along. */
  private targetView(checkBegan: number): TargetView | undefined {
    if (this.cfg.target === null) return undefined;
    const state = this.deps.groupState(this.cfg.target);
    if (state === null) return undefined;
    const since = this.deps.groupSince?.(this.cfg.target) ?? null;
    return { state, restartedSinceCheck: since !== null && since > checkBegan };
  }

  private armGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    const due = recoveryDeadline(this.state, this.recovery);
    if (due === null || this.closed) return;
    this.graceTimer = setTimeout(() => this.feed({ type: 'tick' }), Math.max(0, due - this.deps.monoNow()));
  }
}
