// Cron expressions of [schedule:NAME] sections, in the server's local time zone (TZ, else
// /etc/localtime), computed by croner (docs/dependencies.md says why that library). Syntax is
// validated beforehand by config/ini-cron.ts: 5 fields (minute hour day-of-month month
// day-of-week) or 6 with seconds first; as in Vixie cron, when both day fields are restricted
// a day matches if either does.
//
// Daylight saving time, as Vixie cron and croner's DST rules have it (docs/failsafe.md):
// - a fixed-time schedule (seconds, minutes and hours without `*` or a step: `30 2 * * *`,
//   `0 2,14 * * *`) whose time falls in the hour skipped in spring runs once, when the clock
//   jumps (03:00), and runs once on the day in autumn when its time occurs twice (the first);
// - an interval schedule (`*/15 * * * *`, `0 * * * *`) follows elapsed time: it skips the
//   times that do not exist and runs on both occurrences of a repeated time.
import { Cron } from 'croner';

export interface CronSpec {
  readonly expr: string;
  readonly cron: Cron;
}

/** Throws (croner's message) on an expression croner cannot read. */
export function parseCron(expr: string): CronSpec {
  const cron = new Cron(expr.trim(), {
    paused: true, // computation only: procsafe's own 1-second tick runs the actions
    mode: '5-or-6-parts',
    fixedTimeRule: 'no-wildcard',
    // `N/STEP` means N, N+STEP, … as in Vixie cron (ini-cron.ts accepts it)
    sloppyRanges: true,
    domAndDow: false,
  });
  return { expr, cron };
}

/** The first run strictly after `afterMs` (epoch ms), or null if the expression never runs. */
export function nextRunAfter(spec: CronSpec, afterMs: number): number | null {
  return spec.cron.nextRun(new Date(afterMs))?.getTime() ?? null;
}
