// The monitors of a FailSafe daemon (SPEC §8): their runners around the pure recovery chains,
// kept across a reload when unchanged (with their counters), restored from the state file when
// pcheck restarts (SPEC §10 "No reboot loops"), told when their group changes state, and — for
// a `process` monitor — handed the retry-overs of its pfile's entries as a typed event.
import type { EventKind } from '../../core/events';
import type { FinalAction, GroupState, MonitorConfig } from '../../core/failsafe-model';
import type { Logger } from '../../log/logger';
import type { ChainRecord } from '../../state/failsafe-state';
import { systemClock } from '../shared/clock';
import { MonitorRunner } from './monitor-runner';

export interface MonitorsDeps {
  log: Logger;
  groupState(group: string): GroupState | null;
  groupSince(group: string): number | null;
  restartGroup(group: string, monitor: string): void;
  /** returns why the action is not done (max_final_actions), else null; `announce` is told
   *  which before anything is done */
  finalAction(action: FinalAction, monitor: MonitorRunner, announce: (refused: string | null) => void): string | null;
  event(kind: EventKind, monitor: string, message: string, fields: Record<string, string | number | null>): void;
  /** a chain changed (the state file) */
  changed(): void;
  /** the chain the previous pcheck left for this monitor, if its configuration is the same */
  restored(name: string, config: string): ChainRecord | undefined;
}

/** A monitor's configuration as one string: a changed monitor starts afresh. */
export const configKey = (m: MonitorConfig): string => JSON.stringify(m);

export class Monitors {
  private readonly runners = new Map<string, MonitorRunner>();

  constructor(private readonly d: MonitorsDeps) {}

  get(name: string): MonitorRunner | undefined {
    return this.runners.get(name);
  }

  all(): MonitorRunner[] {
    return [...this.runners.values()];
  }

  names(): string[] {
    return [...this.runners.keys()];
  }

  add(cfg: MonitorConfig): void {
    const d = this.d;
    const m = new MonitorRunner(cfg, {
      log: d.log,
      monoNow: () => systemClock().mono,
      restartGroup: (group) => d.restartGroup(group, cfg.name),
      finalAction: (action, mon, announce) => d.finalAction(action, mon, announce),
      groupState: (group) => d.groupState(group),
      groupSince: (group) => d.groupSince(group),
      event: (kind, message, fields) => d.event(kind, cfg.name, message, fields),
      changed: () => d.changed(),
    });
    const before = d.restored(cfg.name, configKey(cfg));
    if (before !== undefined) m.restore(before);
    this.runners.set(cfg.name, m);
    m.start();
  }

  /** Reload: an unchanged monitor keeps running with its counters; a changed or removed one
   *  stops; returns the configurations to add (once their pfiles run). */
  reconcile(next: MonitorConfig[]): MonitorConfig[] {
    for (const [name, m] of [...this.runners]) {
      const n = next.find((x) => x.name === name);
      if (n && configKey(n) === configKey(m.cfg)) continue;
      m.close();
      this.runners.delete(name);
    }
    this.d.changed();
    return next.filter((m) => !this.runners.has(m.name));
  }

  onGroupState(group: string, to: GroupState): void {
    for (const m of this.runners.values()) if (m.cfg.target === group) m.onGroupState(to);
  }

  /** An entry of `pfile` retried over with action `group`: a failure of the pfile's process monitor. */
  entryRetryOver(pfile: string, pname: string): void {
    const mon = this.all().find((m) => m.cfg.type === 'process' && m.cfg.pfile === pfile);
    if (!mon) {
      this.d.log.err(`(${pname}) RETRY_OVER:GROUP but no group holds pfile='${pfile}'; nothing to recover`);
      return;
    }
    mon.feed({ type: 'entryRetryOver', pname });
  }

  /** One check of every monitor of `group` (a group the previous pcheck left Online): null when
   *  all pass, else the first failure. */
  async checkGroup(group: string): Promise<string | null> {
    const results = await Promise.all(this.all().filter((m) => m.cfg.target === group).map((m) => m.checkOnce()));
    return results.find((r) => r !== null) ?? null;
  }

  records(): Record<string, ChainRecord> {
    return Object.fromEntries(this.all().map((m) => [m.cfg.name, m.record(configKey(m.cfg))]));
  }

  closeAll(): void {
    for (const m of this.runners.values()) m.close();
  }
}
