// The deaths of one loop turn, of every entry set, are looked at together after one look at
// what runs (a mass death costs one quick scan, not one per entry): what else of each program
// runs decides the event (a successor is watched instead of a restart; the workers a dead main
// process left are ended before its restart, as workers.ts does). No pid another entry watches,
// in any pfile, is taken for a successor or a worker.
import type { EntryEvent } from '../../core/entry-model';
import type { Logger } from '../../log/logger';
import type { ProcessTable } from '../../proc/types';
import { lookAfterDeaths } from './death-look';
import type { EntryRuntime } from './entry-runtime';
import type { ReapGate } from './reap-gate';
import type { Scanner } from './scanner';
import type { ScriptQueue } from './script-queue';

/** An entry set, as the desk sees it. */
export interface DeathOwner {
  /** still one of its entries (not removed by a reload), and the set still runs */
  has(rt: EntryRuntime): boolean;
  dispatch(rt: EntryRuntime, e: EntryEvent): void;
  /** the pids its entries watch now */
  watchedPids(): Iterable<number>;
  /** all its entries */
  all(): readonly EntryRuntime[];
  persistNow(durable?: boolean): void;
}

export class DeathDesk {
  private readonly owners = new Set<DeathOwner>();
  private readonly dead = new Map<EntryRuntime, { owner: DeathOwner; duringScript: boolean }>();
  private pending = false;
  private closed = false;

  constructor(
    private readonly table: ProcessTable,
    private readonly log: Logger,
    private readonly scanner: Scanner,
    private readonly scripts: ScriptQueue,
    private readonly reaps: ReapGate<EntryRuntime>,
  ) {}

  add(o: DeathOwner): void {
    this.owners.add(o);
  }

  remove(o: DeathOwner): void {
    this.owners.delete(o);
  }

  /** The pids entries of every set watch now, and workers being ended: never another entry's
   *  successor or worker, never killed with a script. */
  taken(): Set<number> {
    const pids = new Set<number>(this.scanner.ending);
    for (const o of this.owners) for (const pid of o.watchedPids()) pids.add(pid);
    return pids;
  }

  /** Which entry, of any set, watches each pid now. */
  watchers(): Map<number, EntryRuntime> {
    const m = new Map<number, EntryRuntime>();
    for (const o of this.owners) for (const rt of o.all()) if (rt.state.pid !== null) m.set(rt.state.pid, rt);
    return m;
  }

  /** The watched process of `rt` died; `duringScript`: while its restart script ran. */
  onDeath(owner: DeathOwner, rt: EntryRuntime, duringScript: boolean): void {
    this.dead.set(rt, { owner, duringScript });
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => this.lookNow());
  }

  private lookNow(): void {
    this.pending = false;
    const batch = [...this.dead].filter(([rt, d]) => d.owner.has(rt) && rt.state.procSts === 'AVAIL');
    this.dead.clear();
    if (this.closed || batch.length === 0) return;
    let looks: ReturnType<typeof lookAfterDeaths> = new Map();
    try {
      looks = lookAfterDeaths(
        batch.map(([rt]) => rt),
        this.table,
        this.taken(),
      );
    } catch (e) {
      this.log.err(`Cannot look for what runs after a death (${(e as Error).message}); restarting as usual`);
    }
    const owners = new Set<DeathOwner>();
    for (const [rt, { owner, duringScript }] of batch) {
      const look = looks.get(rt);
      // its restart script waits for its reap (reap-gate.ts)
      if (rt.watched) this.reaps.died(rt, { pid: rt.watched.pid, startTime: rt.watched.startTime });
      rt.watched = null;
      owner.dispatch(rt, { type: 'died', successor: look?.successor ?? null, workers: look?.workers ?? [], duringScript });
      owners.add(owner);
    }
    // the restarts of this batch start now, not a loop turn later (the look costs no heal time);
    // the new counters are on disk first: a pcheck killed right after the fork must find the
    // restart under way, not the entry still AVAIL
    if (this.scripts.pending) {
      for (const o of owners) o.persistNow();
      this.scripts.drainNow();
    }
  }

  close(): void {
    this.closed = true;
  }
}
