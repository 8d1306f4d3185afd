// WATCHDOG=1 keep-alives that prove the monitoring loop works, not just that a timer fires.
//
// Two layers:
// - The event loop. The heartbeat is a timer on the same loop as the monitoring, so when
//   the loop is blocked (a hung filesystem under LOG_FILE, an endless loop, SIGSTOP) no
//   beat is sent at all, and systemd's WatchdogSec= fires.
// - The monitoring loop on top of it. The daemon calls probe.pass() on every pass of its
//   loop (each MONITOR_INTERVAL scan tick, and every event it handles). alive() is true
//   while the last pass is at most staleAfterMs old; a loop that stopped passing (its
//   timers lost, stuck halfway through a stop) stops the beats although this timer runs.
//
// The contract for the daemon: call pass() at least once per MONITOR_INTERVAL for as long
// as it monitors, and create the probe with staleAfterMs = 2 x MONITOR_INTERVAL (see
// staleAfterFor()), so one late tick is tolerated and a missing second one is not.
import type { Notifier } from './notify';

export interface Heartbeat {
  stop(): void;
  /** WATCHDOG=1 sent so far. */
  readonly beats: number;
  /** ticks on which alive() said no (or threw): nothing was sent. */
  readonly skipped: number;
}

/** Sends WATCHDOG=1 now and every intervalMs, each time only if alive() says so. The
 *  timer does not keep the process alive (unref). Never throws from the timer. */
export function startHeartbeat(notifier: Pick<Notifier, 'watchdog'>, opts: { intervalMs: number; alive: () => boolean }): Heartbeat {
  let beats = 0;
  let skipped = 0;
  const tick = () => {
    let ok: boolean;
    try {
      ok = opts.alive();
    } catch {
      ok = false;
    }
    if (!ok) {
      skipped++;
      return;
    }
    beats++;
    try {
      notifier.watchdog();
    } catch {
      // a notifier never throws; a stand-in in a test might
    }
  };
  tick();
  // setInterval takes at most 2^31-1 ms (it would turn a larger delay into 1 ms)
  const timer = setInterval(tick, Math.min(2 ** 31 - 1, Math.max(1, Math.floor(opts.intervalMs))));
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get beats() {
      return beats;
    },
    get skipped() {
      return skipped;
    },
  };
}

/** Monotonic milliseconds (CLOCK_MONOTONIC: never jumps with the wall clock). */
export const monotonicMs = (): number => performance.now();

export interface LoopProbe {
  /** The monitoring loop made a pass: call it on every scan tick and handled event. */
  pass(): void;
  /** A pass happened within the last staleAfterMs. */
  alive(): boolean;
  /** Changeable, e.g. when a reload changes MONITOR_INTERVAL. */
  staleAfterMs: number;
  /** monotonic ms of the last pass (of the creation, before the first). */
  readonly lastPassMs: number;
}

export function createLoopProbe(opts: { staleAfterMs: number; now?: () => number }): LoopProbe {
  const now = opts.now ?? monotonicMs;
  let last = now();
  return {
    staleAfterMs: opts.staleAfterMs,
    pass() {
      last = now();
    },
    alive() {
      return now() - last <= this.staleAfterMs;
    },
    get lastPassMs() {
      return last;
    },
  };
}

/** staleAfterMs for a loop that passes at least every monitorIntervalSec. */
export function staleAfterFor(monitorIntervalSec: number): number {
  return 2 * monitorIntervalSec * 1000;
}
