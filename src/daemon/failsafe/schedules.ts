// `[schedule:NAME]` (docs/failsafe.md "Schedules"): the plan is computed by the pure
// core/schedule-plan.ts; this room ticks it (once a second, from the daemon's loop), restarts
// groups and suspends monitors for a window, and ends only the suspensions it made.
import type { ScheduleConfig } from '../../core/failsafe-model';
import { describeScheduleRun, planSchedules, tickSchedules, type SchedulePlan } from '../../core/schedule-plan';
import type { Logger } from '../../log/logger';
import type { MonitorRunner } from './monitor-runner';

export interface SchedulesDeps {
  log: Logger;
  restartGroup(group: string, by: string): void;
  monitor(name: string): MonitorRunner | undefined;
  /** wall clock (epoch ms) */
  now(): number;
}

export class Schedules {
  private plan: SchedulePlan;
  private readonly suspendTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly d: SchedulesDeps,
    list: ScheduleConfig[],
  ) {
    this.plan = planSchedules(list, d.now());
  }

  get any(): boolean {
    return this.plan.schedules.length > 0;
  }

  /** Reload: the new list, planned from now. */
  set(list: ScheduleConfig[]): void {
    this.plan = planSchedules(list, this.d.now());
  }

  /** A late tick runs what became due meanwhile, once (core/schedule-plan.ts). */
  tick(): void {
    const r = tickSchedules(this.plan, this.d.now());
    this.plan = r.plan;
    for (const run of r.runs) {
      this.d.log.notice(describeScheduleRun(run));
      if (!run.skipped) this.run(run.cfg);
    }
  }

  private run(cfg: ScheduleConfig): void {
    const a = cfg.action;
    if (a.kind === 'restart_group') {
      this.d.restartGroup(a.group, `schedule ${cfg.name}`);
      return;
    }
    const m = this.d.monitor(a.monitor);
    if (!m) return;
    m.suspend('schedule');
    const prev = this.suspendTimers.get(a.monitor);
    if (prev) clearTimeout(prev);
    this.suspendTimers.set(
      a.monitor,
      setTimeout(() => {
        this.suspendTimers.delete(a.monitor);
        this.d.log.notice(`Schedule ${cfg.name}: suspension of monitor ${a.monitor} over`);
        this.d.monitor(a.monitor)?.resume('schedule');
      }, a.durationSec * 1000),
    );
  }

  close(): void {
    for (const t of this.suspendTimers.values()) clearTimeout(t);
    this.suspendTimers.clear();
  }
}
