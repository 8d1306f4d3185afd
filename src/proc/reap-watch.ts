// Waits until dead processes have been reaped by their parents. Until then /proc/PID is a zombie
// that kill(pid, 0) finds, and a start script that checks its pid file that way (rsyslogd,
// postgres's postmaster.pid, apachectl) refuses to start "a second copy". Neither death watch
// tells: pidfd and the poll report the exit (the zombie), not the reap. So one timer reads
// /proc/PID/stat of every process waited for: a mass death of 1,000 costs one timer whose
// period grows with their number (as the poll death watch's does), never 1,000 timers.
import { readStat } from './proc-stat';
import type { ProcId } from './types';

/** read period; with many waits it grows by MS_PER_WAIT each (0.2 s at 1,000) */
const INTERVAL_MS = 20;
const MS_PER_WAIT = 0.2;

export interface ReapOutcome {
  /** true: /proc no longer has the process (its pid names nothing, or another process) */
  reaped: boolean;
  /** not reaped at the deadline: its parent's pid (the one that does not reap it), else null */
  parent: number | null;
}

export interface ReapWatch {
  /** Resolves once `id` has left /proc, or at `deadline` (a performance.now() time) if it has not. */
  wait(id: ProcId, deadline: number): Promise<ReapOutcome>;
  /** Whether `id` is reaped already (gone, or its pid names another process): nothing to wait for. */
  reaped(id: ProcId): boolean;
  /** Stops the timer; waits not yet resolved never resolve (pcheck stops: nothing follows them). */
  close(): void;
}

interface Pending {
  id: ProcId;
  deadline: number;
  resolve: (r: ReapOutcome) => void;
}

/** The process as /proc shows it now: null when it is gone or its pid names another process. */
function stillThere(id: ProcId, procRoot: string): { ppid: number } | null {
  const st = readStat(id.pid, procRoot);
  return st !== null && st.startTime === id.startTime ? st : null;
}

export function createReapWatch(opts: { procRoot?: string; now?: () => number } = {}): ReapWatch {
  const procRoot = opts.procRoot ?? '/proc';
  const now = opts.now ?? (() => performance.now());
  const pending = new Set<Pending>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  function tick(): void {
    timer = null;
    const t = now();
    for (const p of pending) {
      const st = stillThere(p.id, procRoot);
      if (st !== null && t < p.deadline) continue;
      pending.delete(p);
      p.resolve({ reaped: st === null, parent: st?.ppid ?? null });
    }
    schedule();
  }

  function schedule(): void {
    if (timer !== null || pending.size === 0 || closed) return;
    // never later than the nearest deadline: a wait ends on time however many there are
    let next = Infinity;
    for (const p of pending) next = Math.min(next, p.deadline);
    const delay = Math.min(Math.max(INTERVAL_MS, pending.size * MS_PER_WAIT), Math.max(0, next - now()));
    timer = setTimeout(tick, delay);
  }

  return {
    reaped(id) {
      return stillThere(id, procRoot) === null;
    },
    wait(id, deadline) {
      if (closed) return new Promise(() => undefined);
      // reaped already (a parent that reaps at once: systemd, a subreaper): no timer at all
      if (stillThere(id, procRoot) === null) return Promise.resolve({ reaped: true, parent: null });
      return new Promise((resolve) => {
        pending.add({ id, deadline, resolve });
        schedule();
      });
    },
    close() {
      closed = true;
      pending.clear();
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
