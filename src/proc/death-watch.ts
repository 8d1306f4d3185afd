// Noticing the death of a watched process within tens of milliseconds (SPEC §4), by
// polling /proc. Portable to every Linux kernel and needs no native code:
// - /proc/PID/statm is opened once per watched process; each poll is a single pread() at
//   offset 0 (fs.readSync with position 0), no path lookup, and a look at its first bytes;
// - once the task is reaped, reads of that fd fail with ESRCH, even if the pid is reused
//   (the fd stays bound to the old task);
// - a process whose memory is gone (size 0: exiting, or a zombie) is read once more through
//   /proc/PID/stat, which says Z or X when it is dead to us (see isDead): a main thread that
//   exited while the other threads run has no memory of its own either, and is alive.
// Why statm and not stat: pread of stat costs the kernel ~3.6 µs (52 fields, CPU times summed
// over threads), statm ~1.1 µs (7 counters), on a 2-vCPU VM; nothing is allocated per poll.
// Cost: one pread per watch per period. The period is intervalMs (20 ms: detection p50 ~10 ms)
// until a poll of every watch takes more than CPU_BUDGET of the period; beyond that it grows
// to keep to it (measured ~150 watches here; at 1,000 watches ~100-150 ms). This fallback is
// for kernels without pidfd; with pidfd a death costs nothing until it happens. One timer
// serves every watch, and it exists only while something is watched, so an idle watcher
// keeps no event loop alive.
import * as fs from 'node:fs';
import { isDead, isGoneError, readStat } from './proc-stat';
import type { DeathInfo, DeathWatcher, ProcId } from './types';

/** The share of one CPU the polls may take: the period grows beyond intervalMs to keep to it. */
export const CPU_BUDGET = 0.012;
/** ...but never beyond this (ms): detection stays under a second whatever a poll costs. */
const MAX_PERIOD_MS = 1000;
/** statm's first field (size, pages) and a bit more: a size of 0 reads "0 0 0 ...". */
const STATM_BYTES = 32;
const ZERO = 0x30;
const SPACE = 0x20;

export interface PollDeathWatcherOptions {
  /** poll period in ms; default 20. Detection latency is at most about this. */
  intervalMs?: number;
  /** procfs mount point; default /proc (tests may point elsewhere). */
  procRoot?: string;
  /** receives exceptions thrown by onDeath callbacks and unexpected read errors.
   *  Default: rethrow from setImmediate, so they surface as uncaught exceptions without
   *  stopping the other watches of the same poll. */
  onError?: (err: unknown) => void;
}

interface Watch {
  readonly id: ProcId;
  readonly onDeath: (info: DeathInfo) => void;
  /** open /proc/PID/statm */
  fd: number | null;
  pending: NodeJS.Immediate | null;
  /** performance.now() when the process was last read alive */
  lastAlive: number;
}

const rethrowLater = (err: unknown): void => {
  setImmediate(() => {
    throw err;
  });
};

export function createPollDeathWatcher(opts: PollDeathWatcherOptions = {}): DeathWatcher {
  const intervalMs = opts.intervalMs ?? 20;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`intervalMs must be a positive number of milliseconds, got ${String(intervalMs)}`);
  }
  const procRoot = opts.procRoot ?? '/proc';
  const onError = opts.onError ?? rethrowLater;
  const buf = Buffer.allocUnsafe(STATM_BYTES);
  /** watches with an open fd, polled by the timer. */
  const polled = new Set<Watch>();
  /** watches whose death is already known and will be reported from setImmediate. */
  const reporting = new Set<Watch>();
  let timer: NodeJS.Timeout | null = null;
  /** CPU ms of the last poll of every watch (smoothed), for the period */
  let pollCpuMs = 0;

  /** Whether the watched process is dead to us: gone, a zombie, or (at watch time) another process. */
  function deadByStat(w: Watch): boolean {
    let stat;
    try {
      stat = readStat(w.id.pid, procRoot);
    } catch (err) {
      onError(err); // not expected from procfs; give it up as dead rather than believe it watched
      return true;
    }
    return stat === null || isDead(stat) || stat.startTime !== w.id.startTime;
  }

  /** Whether the process behind `fd` (its statm) still runs: its memory is there, or /proc/PID/stat
   *  says a process without memory of its own is alive. */
  function isAlive(w: Watch, fd: number, now: number): boolean {
    let len: number;
    try {
      len = fs.readSync(fd, buf, 0, STATM_BYTES, 0);
    } catch (err) {
      if (isGoneError(err)) return false;
      // Not expected from procfs (EBADF would be a bug). Report it and give the process
      // up as dead: staying silent would leave the caller believing it is watched.
      onError(err);
      return false;
    }
    const noMemory = len < 2 || (buf[0] === ZERO && buf[1] === SPACE);
    if (noMemory && deadByStat(w)) return false;
    w.lastAlive = now;
    return true;
  }

  function release(w: Watch): void {
    polled.delete(w);
    reporting.delete(w);
    if (w.fd !== null) fs.closeSync(w.fd);
    w.fd = null;
    if (w.pending !== null) clearImmediate(w.pending);
    w.pending = null;
    if (polled.size === 0 && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  }

  function report(w: Watch): void {
    release(w);
    try {
      w.onDeath({ detectedWithinMs: performance.now() - w.lastAlive });
    } catch (err) {
      onError(err);
    }
  }

  /** Calls onDeath from setImmediate: never before watch() has returned its unwatch. */
  function reportLater(w: Watch): void {
    release(w);
    reporting.add(w);
    w.pending = setImmediate(() => {
      w.pending = null;
      report(w);
    });
  }

  /** the period: intervalMs, or longer when a poll of every watch would take more than CPU_BUDGET. */
  function period(): number {
    return Math.min(Math.max(intervalMs, pollCpuMs / CPU_BUDGET), MAX_PERIOD_MS);
  }

  function schedule(): void {
    timer = setTimeout(() => {
      timer = null;
      poll();
      if (polled.size > 0 && timer === null) schedule();
    }, period());
  }

  function poll(): void {
    // CPU time of the reads alone (not of the callbacks, which restart what died; not wall
    // time: a poll preempted by other work on the host costs us nothing)
    const cpu0 = process.cpuUsage();
    const now = performance.now();
    const dead: Watch[] = [];
    for (const w of polled) {
      if (w.fd !== null && !isAlive(w, w.fd, now)) dead.push(w);
    }
    const used = process.cpuUsage(cpu0);
    pollCpuMs = 0.7 * pollCpuMs + 0.3 * ((used.user + used.system) / 1000);
    // callbacks may unwatch or watch, also one of the others found dead
    for (const w of dead) if (polled.has(w)) report(w);
  }

  function watch(id: ProcId, onDeath: (info: DeathInfo) => void): () => void {
    const w: Watch = { id, onDeath, fd: null, pending: null, lastAlive: performance.now() };
    try {
      w.fd = fs.openSync(`${procRoot}/${id.pid}/statm`, 'r');
    } catch (err) {
      if (!isGoneError(err)) throw err; // e.g. EMFILE: the caller must know it is not watching
      reportLater(w);
      return () => release(w);
    }
    // the fd is bound to whatever process has the pid now: check by stat (read after the open)
    // that it is the watched one, alive, before trusting the fd's reads
    if (deadByStat(w) || !isAlive(w, w.fd, w.lastAlive)) {
      reportLater(w); // already a zombie, or the pid now belongs to another process
    } else {
      polled.add(w);
      if (timer === null) schedule();
    }
    return () => release(w);
  }

  function close(): void {
    for (const w of [...polled, ...reporting]) release(w);
  }

  return { mode: 'poll', watch, close };
}
