// What the entries of a pfile tell the world beside the log: `down`, `restart` and `retry_over`
// events (alerts, the web page's live feed, metrics), and the heal and detection times of
// /metrics. Built from a change of proc_sts, as the entry machine reports it.
import { msg, type Clock, type EntryState } from '../../core/entry-model';
import type { EventKind, EventSink } from '../../core/events';
import { buildEvent } from '../shared/events';
import type { EntryRuntime } from './entry-runtime';

/** Samples kept between two reads of /metrics (a page nobody reads must not grow without end). */
const MAX_SAMPLES = 10_000;

export class EntryEvents {
  private readonly heals: number[] = [];
  private readonly detections: number[] = [];

  constructor(
    private readonly sink: EventSink | undefined,
    /** the server's name (FailSafe `[daemon] name`; else the host name) */
    private readonly server: string,
    private readonly pfilePath: () => string,
  ) {}

  /** Turns a change of proc_sts into events; and times heals (death → new process up). */
  report(rt: EntryRuntime, before: EntryState, after: EntryState, now: Clock): void {
    if (before.procSts === after.procSts) return;
    // a process found during its restart script exited before the script ended: the same
    // restart goes on (no new Down, no new restart)
    if (before.procSts === 'AVAIL' && after.procSts === 'RESTARTING' && after.restartCount === before.restartCount) return;
    const fields = { pfile: this.pfilePath(), pentId: rt.pent.id, pid: before.pid, retryCount: after.retryCount, restartCount: after.restartCount, action: rt.pent.retryOverAction };
    const emit = (kind: EventKind, message: string) => this.sink?.(buildEvent(kind, this.server, rt.pent.pname, message, fields, now.wall));
    if (before.procSts === 'AVAIL') {
      rt.downAtMono = now.mono;
      emit('down', msg.down(rt.pent.pname, before.pid));
    }
    if (after.procSts === 'RESTARTING') emit('restart', msg.tryRestart(rt.pent.pname));
    if (after.procSts === 'RETRY_OVER') emit('retry_over', msg.retryOver(rt.pent.pname, rt.pent.retryOverAction));
    if (after.procSts === 'AVAIL' && rt.downAtMono !== null) {
      if (this.heals.length < MAX_SAMPLES) this.heals.push((now.mono - rt.downAtMono) / 1000);
      rt.downAtMono = null;
    }
  }

  /** A death noticed `withinMs` after it happened at most (the poll can tell; pidfd cannot). */
  detected(withinMs: number | null): void {
    if (withinMs !== null && this.detections.length < MAX_SAMPLES) this.detections.push(withinMs / 1000);
  }

  /** Heal times (s) since the last call: death noticed → the restarted process found. */
  takeHealTimes(): number[] {
    return this.heals.splice(0);
  }

  /** Detection bounds (s) since the last call, where the death watch can tell (the poll). */
  takeDetectionTimes(): number[] {
    return this.detections.splice(0);
  }
}
