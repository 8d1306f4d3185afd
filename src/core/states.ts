// The closed set of entry states (`proc_sts`) and monitoring switches (`monitor_sts`).
// Imports nothing: every other module depends on this file, never the reverse.

export const PROC_STATES = ['WAIT', 'AVAIL', 'DOWN', 'RESTARTING', 'RETRY_OVER'] as const;
/** WAIT: not found yet at start-up; AVAIL: running; DOWN: lost and not being restarted
 *  (monitoring off); RESTARTING: restart script running or waiting for the process to
 *  appear; RETRY_OVER: restarts used up. */
export type ProcSts = (typeof PROC_STATES)[number];

export const MONITOR_STATES = ['on', 'off'] as const;
export type MonitorSts = (typeof MONITOR_STATES)[number];

export const RETRY_OVER_ACTIONS = ['exit', 'none', 'group', 'shutdown', 'reboot', 'panic'] as const;
export type RetryOverAction = (typeof RETRY_OVER_ACTIONS)[number];

export const OS_ACTIONS = ['shutdown', 'reboot', 'panic'] as const;
export type OsAction = (typeof OS_ACTIONS)[number];

export function isOsAction(a: string): a is OsAction {
  return (OS_ACTIONS as readonly string[]).includes(a);
}
