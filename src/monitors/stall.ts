// `stall` monitor: procsafe's own event-loop delay. A loop blocked by a long synchronous
// task (or a host starved of CPU) delays every other monitor's checks and the systemd
// watchdog; this makes it visible.
//
// Measured with a timer of our own every RESOLUTION_MS: each tick records how late it
// came. Not perf_hooks.monitorEventLoopDelay: it has to be reset() to get a maximum per
// check, and a reset also forgets the time of its last sample, so a block that starts
// right after a check (before its next sample) is not recorded at all.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Probe, ProbeResult } from './types';

/** How often the loop is sampled, ms: the delay is measured to about this. */
const RESOLUTION_MS = 10;

export function createStallProbe(maxDelayMs: number): Probe {
  let prev = performance.now();
  let maxLate = 0;
  let windowStart = prev;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLate = Math.max(maxLate, now - prev - RESOLUTION_MS);
    prev = now;
  }, RESOLUTION_MS);
  timer.unref(); // sampling alone must not keep the daemon alive

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    // A block that ended just before this check is recorded when the sampling timer
    // next runs: give it that chance (a few ms, well inside any timeout).
    try {
      await sleep(Math.min(2 * RESOLUTION_MS, Math.max(timeoutMs - 1, 0)), undefined, { signal });
    } catch {
      return { ok: false, detail: 'check aborted' };
    }
    const late = Math.max(maxLate, 0);
    const windowSec = Math.round((performance.now() - windowStart) / 1000);
    maxLate = 0;
    windowStart = performance.now();
    const detail = `event loop max delay ${Math.round(late)} ms in the last ${windowSec} s (limit ${maxDelayMs} ms)`;
    return { ok: late <= maxDelayMs, detail };
  }

  return { check, close: () => clearInterval(timer) };
}
