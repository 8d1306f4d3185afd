// When the [schedule:NAME] sections run, as pure data: each schedule keeps the time of its
// next run (epoch ms, from core/cron.ts); the daemon's 1-second tick asks which are due.
//
// - A run whose tick came late (a busy loop, a suspended VM) runs once, saying how late;
//   several runs missed together run once ("3 runs missed, run once").
// - A run missed by more than MAX_CATCH_UP_MS (the wall clock stepped forward, the server
//   was suspended overnight) is skipped and logged: a 04:00 group restart must not happen
//   at 10:00 in the middle of the working day.
// - The wall clock stepping back by up to MAX_CATCH_UP_MS runs nothing twice (the next run
//   stays where it was); a bigger step back plans every schedule again from the new time.
import type { ScheduleConfig } from './failsafe-model';
import { nextRunAfter, parseCron, type CronSpec } from './cron';

export const MAX_CATCH_UP_MS = 3600_000;

export interface PlannedSchedule {
  readonly cfg: ScheduleConfig;
  readonly spec: CronSpec;
  /** epoch ms of the next run, or null: never again */
  readonly next: number | null;
}

export interface SchedulePlan {
  readonly schedules: readonly PlannedSchedule[];
  /** the wall clock at the last tick, to see it step back */
  readonly lastTickMs: number;
}

export interface ScheduleRun {
  cfg: ScheduleConfig;
  /** when it was due (epoch ms) and how late the tick is */
  dueAt: number;
  lateMs: number;
  /** runs due since, folded into this one */
  missed: number;
  /** missed by more than MAX_CATCH_UP_MS: not run */
  skipped: boolean;
  next: number | null;
}

export function planSchedules(list: readonly ScheduleConfig[], nowMs: number): SchedulePlan {
  return {
    schedules: list.map((cfg) => {
      const spec = parseCron(cfg.cron);
      return { cfg, spec, next: nextRunAfter(spec, nowMs) };
    }),
    lastTickMs: nowMs,
  };
}

/** The runs due at `nowMs`, and the plan after them. */
export function tickSchedules(plan: SchedulePlan, nowMs: number): { plan: SchedulePlan; runs: ScheduleRun[] } {
  if (nowMs < plan.lastTickMs - MAX_CATCH_UP_MS) {
    // the clock went back a long way: plan from the new time
    return { plan: planSchedules(plan.schedules.map((s) => s.cfg), nowMs), runs: [] };
  }
  const runs: ScheduleRun[] = [];
  const schedules = plan.schedules.map((s): PlannedSchedule => {
    if (s.next === null || s.next > nowMs) return s;
    let missed = 0;
    let after = nextRunAfter(s.spec, s.next);
    while (after !== null && after <= nowMs && missed < 10_000) {
      missed++;
      after = nextRunAfter(s.spec, after);
    }
    const lateMs = nowMs - s.next;
    runs.push({ cfg: s.cfg, dueAt: s.next, lateMs, missed, skipped: lateMs > MAX_CATCH_UP_MS, next: after });
    return { ...s, next: after };
  });
  return { plan: { schedules, lastTickMs: Math.max(nowMs, plan.lastTickMs) }, runs };
}

/** What a schedule does, for the log: `restart group web`, `suspend monitor web-http for 600s`. */
export function describeScheduleAction(cfg: ScheduleConfig): string {
  const a = cfg.action;
  return a.kind === 'restart_group' ? `restart group ${a.group}` : `suspend monitor ${a.monitor} for ${a.durationSec}s`;
}

/** The log line of a run: `Schedule nightly (0 4 * * *), 3s late: restart group web`. */
export function describeScheduleRun(r: ScheduleRun): string {
  const head = `Schedule ${r.cfg.name} (${r.cfg.cron})`;
  if (r.skipped) {
    const when = new Date(r.dueAt).toString().slice(0, 24);
    return `${head}: the run due at ${when} was missed by ${Math.round(r.lateMs / 1000)}s (the clock stepped forward, or the server was suspended): skipped, not done late: ${describeScheduleAction(r.cfg)}`;
  }
  const late = r.lateMs >= 2000 ? `, ${Math.round(r.lateMs / 1000)}s late` : '';
  const missed = r.missed > 0 ? `, ${r.missed} more run${r.missed === 1 ? '' : 's'} missed meanwhile: run once` : '';
  return `${head}${late}${missed}: ${describeScheduleAction(r.cfg)}`;
}
