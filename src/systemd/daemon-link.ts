// What a daemon tells systemd, in five calls: ready(), changed(), pass(), stopping(), and
// setMonitorInterval() on reload. Everything is a no-op when not under Type=notify
// (no NOTIFY_SOCKET), so the daemon calls it unconditionally.
//
//   READY=1 + STATUS=   ready(): once monitoring runs (control socket up, first scan done)
//   STATUS=             changed(): after state changes, coalesced to one per event-loop
//                       turn and sent only when the text differs from the last one sent
//   WATCHDOG=1          every WATCHDOG_USEC/2 from ready() on, while the loop passes
//                       (heartbeat.ts); nothing while the event loop is blocked
//   STOPPING=1          stopping(): SIGTERM/SIGINT or retry-over exit; ends the beats
import type { MonitorSts, ProcSts } from '../core/states';
import { createLoopProbe, staleAfterFor, startHeartbeat, type Heartbeat } from './heartbeat';
import type { Notifier } from './notify';

/** The fields of an entry that the status line shows (a PentView has them). */
export interface StatusEntry {
  proc_sts: ProcSts;
  monitor_sts: MonitorSts;
  restart_count: number;
}

const ORDER: readonly ProcSts[] = ['AVAIL', 'WAIT', 'RESTARTING', 'DOWN', 'RETRY_OVER'];

/** `watching 3 entries: 2 AVAIL, 1 RESTARTING; restarts: 4` (and `; monitoring off: N`
 *  when some entries are stopped). Counts of zero are left out. */
export function formatStatus(entries: readonly StatusEntry[]): string {
  const n = entries.length;
  let text = `watching ${n} ${n === 1 ? 'entry' : 'entries'}`;
  if (n === 0) return text;
  const counts = ORDER.map((s) => [s, entries.filter((e) => e.proc_sts === s).length] as const).filter(([, c]) => c > 0);
  text += `: ${counts.map(([s, c]) => `${c} ${s}`).join(', ')}`;
  text += `; restarts: ${entries.reduce((sum, e) => sum + e.restart_count, 0)}`;
  const off = entries.filter((e) => e.monitor_sts === 'off').length;
  if (off > 0) text += `; monitoring off: ${off}`;
  return text;
}

export interface SystemdLink {
  /** false when there is nothing to notify (no NOTIFY_SOCKET). */
  readonly active: boolean;
  /** READY=1 with the status line; starts the WATCHDOG=1 heartbeat. Once. */
  ready(): void;
  /** Something changed: a STATUS= line follows in this loop turn if the text changed. */
  changed(): void;
  /** The monitoring loop made a pass (scan tick, handled event): feeds the watchdog. */
  pass(): void;
  /** After a reload changed MONITOR_INTERVAL. */
  setMonitorInterval(seconds: number): void;
  /** STOPPING=1 with `stopping: REASON`; stops the heartbeat and further STATUS. Once. */
  stopping(reason: string): void;
}

export interface SystemdLinkOptions {
  notifier: Notifier | null;
  /** the status line as it is now, e.g. formatStatus(entries) (called when one is due). */
  status: () => string;
  monitorIntervalSec: number;
  /** one-off warnings, e.g. NOTIFY_SOCKET set but the native addon missing. */
  warn?: (message: string) => void;
}

export function createSystemdLink(opts: SystemdLinkOptions): SystemdLink {
  const n = opts.notifier;
  const probe = createLoopProbe({ staleAfterMs: staleAfterFor(opts.monitorIntervalSec) });
  let readySent = false;
  let stopped = false;
  let lastStatus: string | null = null;
  let pending: NodeJS.Immediate | null = null;
  let heartbeat: Heartbeat | null = null;

  const sendStatus = () => {
    pending = null;
    if (n === null || stopped) return;
    const text = opts.status();
    if (text === lastStatus) return;
    lastStatus = text;
    n.status(text);
  };

  return {
    active: n !== null,
    ready() {
      if (n === null || readySent || stopped) return;
      readySent = true;
      if (n.disabledReason !== null) {
        opts.warn?.(`NOTIFY_SOCKET is set but systemd cannot be notified: ${n.disabledReason}; a Type=notify unit will time out waiting for READY=1 (see docs/systemd.md)`);
      }
      probe.pass();
      lastStatus = opts.status();
      n.ready(lastStatus);
      if (n.watchdogIntervalMs !== null) heartbeat = startHeartbeat(n, { intervalMs: n.watchdogIntervalMs, alive: () => probe.alive() });
    },
    changed() {
      if (n === null || !readySent || stopped || pending !== null) return;
      pending = setImmediate(sendStatus);
    },
    pass() {
      probe.pass();
    },
    setMonitorInterval(seconds) {
      probe.staleAfterMs = staleAfterFor(seconds);
      probe.pass();
    },
    stopping(reason) {
      if (n === null || stopped) return;
      stopped = true;
      heartbeat?.stop();
      if (pending !== null) clearImmediate(pending);
      pending = null;
      n.stopping(`stopping: ${reason}`);
    },
  };
}
