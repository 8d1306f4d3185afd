// `stall` monitor: procsafe's own event-loop delay. A loop blocked by a long synchronous
// task (or a host starved of CPU) delays every other monitor's checks and the systemd
// watchdog; this makes it visible. monitorEventLoopDelay samples the loop from a libuv
// timer in C++ and keeps a histogram; each check reads its maximum since the previous
// check, then resets it.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Probe, ProbeResult } from './types';

/** Sampling period of the histogram, ms: the delay is measured to about this. */
const RESOLUTION_MS = 10;

export function createStallProbe(maxDelayMs: number): Probe {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  let since = performance.now();

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    // A block that ended just before this check is recorded only when the sampling
    // timer next runs: give it that chance (a few ms, well inside any timeout).
    try {
      await sleep(Math.min(2 * RESOLUTION_MS, Math.max(timeoutMs - 1, 0)), undefined, { signal });
    } catch {
      return { ok: false, detail: 'check aborted' };
    }
    // the histogram counts delay beyond the resolution, in ns; with no sample yet, max is 0
    const maxMs = h.count > 0 ? h.max / 1e6 : 0;
    const window = Math.round((performance.now() - since) / 1000);
    h.reset();
    since = performance.now();
    const what = `event loop max delay ${Math.round(maxMs)} ms in the last ${window} s (limit ${maxDelayMs} ms)`;
    return { ok: maxMs <= maxDelayMs, detail: what };
  }

  return { check, close: () => h.disable() };
}
