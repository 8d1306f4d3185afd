// No reboot loops (SPEC §10): an OS final action (shutdown, reboot, panic) runs at most
// `max_final_actions` times per `final_action_window` seconds, as CLUSTERPRO limits reboots
// ("maximum reboot count" and its reset time). The history is kept in the FailSafe state file
// with wall-clock times, so it counts across restarts of pcheck and reboots. Pure.

/** An OS final action that was done (or rehearsed): epoch ms. */
export interface FinalActionRecord {
  action: string;
  at: number;
  /** who asked: `monitor web-http`, `group web`, `(pname)` */
  source: string;
}

export interface FinalActionLimit {
  max: number;
  /** seconds */
  windowSec: number;
}

export type LimitVerdict = { allowed: true } | { allowed: false; within: number; reason: string };

/** The records that still count at `now`: within the window. One in the future (the clock was
 *  stepped back) counts too: a clock step must not allow a second reboot. */
export function recentActions(history: readonly FinalActionRecord[], now: number, limit: FinalActionLimit): FinalActionRecord[] {
  return history.filter((r) => r.at > now - limit.windowSec * 1000);
}

/** The history with each record from the future (the clock was stepped back) moved to `now`: it
 *  still counts, but for one window from now, not until the clock catches up with it (an RTC a
 *  year ahead until NTP fixed it would otherwise hold back every OS action for a year). */
export function clampToNow(history: readonly FinalActionRecord[], now: number): FinalActionRecord[] {
  return history.map((r) => (r.at > now ? { ...r, at: now } : r));
}

/** Whether one more OS final action may run at `now`. */
export function mayRunFinalAction(history: readonly FinalActionRecord[], now: number, limit: FinalActionLimit): LimitVerdict {
  const within = recentActions(history, now, limit).length;
  if (within < limit.max) return { allowed: true };
  // "0 OS final actions within the last 3600s" would read as if the window were the reason
  if (limit.max === 0) return { allowed: false, within, reason: 'max_final_actions 0: no OS final action is ever done' };
  const n = `${within} OS final action${within === 1 ? '' : 's'}`;
  return { allowed: false, within, reason: `${n} within the last ${limit.windowSec}s (max_final_actions ${limit.max} per final_action_window)` };
}
