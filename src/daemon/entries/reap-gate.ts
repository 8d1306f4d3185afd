// Before a restart script runs, the dead process it replaces must be reaped (SPEC §10, docs/
// decisions.md "Field rules"): while it is an unreaped zombie, kill(pid, 0) finds it, and daemons
// that check their pid file that way (rsyslogd, postgres, apachectl) refuse to start. Its parent
// is PID 1 or a subreaper; under systemd the reap is immediate (no wait at all), on a host whose
// PID 1 reaps late it takes 1-1.5 s. The wait is bounded: a parent that never reaps (a container
// whose PID 1 does not) is told in the log, and the script runs anyway.
//
// Only the script waits: the Down line and the counters are the machine's, at once.
import type { Logger } from '../../log/logger';
import type { ProcId } from '../../proc/types';
import { createReapWatch, type ReapWatch } from '../../proc/reap-watch';

/** How long after a death its restart script waits at most for the dead process's reap. */
export const REAP_WAIT_MS = 3000;

interface Death {
  id: ProcId;
  /** performance.now() when its death was noticed: the wait is bounded from there */
  atMs: number;
}

export class ReapGate<K extends object> {
  private readonly deaths = new WeakMap<K, Death>();
  private readonly watch: ReapWatch;

  constructor(
    private readonly log: Logger,
    private readonly stopping: () => boolean,
    watch?: ReapWatch,
  ) {
    this.watch = watch ?? createReapWatch();
  }

  /** `key`'s process `id` died now: its next restart script waits for its reap. */
  died(key: K, id: ProcId): void {
    this.deaths.set(key, { id, atMs: performance.now() });
  }

  /** A process was adopted for `key`: an earlier death no longer holds back a script. */
  forget(key: K): void {
    this.deaths.delete(key);
  }

  /**
   * What `key`'s restart script must wait for: the reap of its last dead process, up to
   * REAP_WAIT_MS after the death (then logged); null when nothing died since the last script.
   */
  before(key: K, pname: string): Promise<void> | null {
    const d = this.deaths.get(key);
    if (d === undefined) return null;
    this.deaths.delete(key);
    // reaped already (systemd, a subreaper): the script starts in this loop turn, as without a wait
    if (this.watch.reaped(d.id)) return null;
    return this.watch.wait(d.id, d.atMs + REAP_WAIT_MS).then((r) => {
      if (r.reaped || this.stopping()) return;
      const parent = r.parent === null ? 'its parent' : `its parent (pid=${r.parent})`;
      this.log.warning(`(${pname}) pid=${d.id.pid} is still a zombie after ${REAP_WAIT_MS / 1000} s: ${parent} does not reap it; restarting anyway`);
    });
  }

  close(): void {
    this.watch.close();
  }
}
