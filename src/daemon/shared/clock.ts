import type { Clock } from '../../core/entry-model';

/** Monotonic ms from CLOCK_MONOTONIC (system-wide since boot, so it survives a restart of pcheck
 *  within the same boot), and wall-clock ms for display. */
export function systemClock(): Clock {
  return { mono: Number(process.hrtime.bigint() / 1_000_000n), wall: Date.now() };
}
