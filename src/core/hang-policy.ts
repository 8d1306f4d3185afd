// When a watched process counts as hung (PENT option hang_timeout, SPEC §10): stopped (T, or t
// under a tracer) or in uninterruptible sleep (D) for hang_timeout seconds in a row, as seen by
// the samples the daemon takes of its state letter. Pure: the entry machine asks, the clock is given.

/** How long a hung process may take to die of SIGKILL before the restart goes ahead anyway:
 *  a process in D state dies only when it leaves the kernel call it is stuck in. */
export const HANG_KILL_WAIT_MS = 5000;

/** The state letters of a process that does not run: stopped, traced, uninterruptible sleep. */
export function isStuck(state: string): boolean {
  return state === 'T' || state === 't' || state === 'D';
}

export interface HangFields {
  /** monotonic ms since when the samples have shown the process stuck; null: running. */
  stuckSinceMono: number | null;
  /** monotonic ms when it was killed as hung; null: not killed. */
  hangKilledMono: number | null;
}

/** When the next hang decision is due (monotonic ms), or null: the hang is declared once stuck
 *  for hangTimeout; after the kill, the death is awaited HANG_KILL_WAIT_MS. */
export function hangDeadline(s: HangFields, hangTimeoutSec: number | null): number | null {
  if (hangTimeoutSec === null) return null;
  if (s.hangKilledMono !== null) return s.hangKilledMono + HANG_KILL_WAIT_MS;
  return s.stuckSinceMono === null ? null : s.stuckSinceMono + hangTimeoutSec * 1000;
}
