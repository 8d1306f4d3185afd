// Finds the processes of entries that have none, for every entry set of the process (pcheck -f
// has one; FailSafe mode one per pfile): one periodic full scan of /proc for all of them, and
// one run of quick "seek" scans while a process is expected to appear (after a restart script,
// at start-up), backing off from 5 ms to 200 ms. When no entry looks for its process there is
// no scan at all: deaths arrive as events from the death watcher. A process one entry watches is
// never adopted by another, in any set (SPEC §10; docs/decisions.md "Field rules").
import type { Logger } from '../../log/logger';
import type { ProcInfo, ProcessTable, ScanOptions } from '../../proc/types';
import { refreshProgram } from './death-look';
import type { EntryRuntime } from './entry-runtime';
import { findForEntries, lookedFor, tellWatchedElsewhere } from './scan-index';

const SEEK_FIRST_MS = 5;
const SEEK_MAX_MS = 200;
/** reuse every process already known (first seen before +Infinity), read only the new ones */
const WARM: ScanOptions = { recheck: new Set(), recheckSince: Infinity };
/** fewer new pids than this since the last scan: the death's own look reads them cheaply */
const WARM_MIN_NEW_PIDS = 64;

/** An entry set, as the scanner sees it. */
export interface Seeker {
  /** entries looking for their process now */
  seeking(): readonly EntryRuntime[];
  /** all its entries (those that watch a process are never another's to adopt) */
  all(): readonly EntryRuntime[];
  /** its pfile (named when one of its entries blocks an entry of another pfile) */
  readonly path: string;
  /** an entry waits for its process to appear (restart, start-up): keep seeking */
  expecting(): boolean;
  found(rt: EntryRuntime, p: ProcInfo): void;
  /** MONITOR_INTERVAL of its pfile (seconds) */
  monitorIntervalSec(): number;
}

export class Scanner {
  private readonly seekers = new Set<Seeker>();
  /** pids of workers being ended: never adopted meanwhile (they match their entry) */
  readonly ending = new Set<number>();
  /** called at each periodic tick, scan or not (the systemd watchdog, a failed state file write) */
  private readonly ticks: (() => void)[] = [];
  private periodic: NodeJS.Timeout | null = null;
  private periodMs = 0;
  private seekTimer: NodeJS.Timeout | null = null;
  private seekDelay = SEEK_FIRST_MS;
  /** performance.now() when the current run of quick scans began (null: none runs) */
  private seekSince: number | null = null;
  /** how long the last scan took (ms): seek scans stay a fraction of the loop */
  private lastScanMs = 0;
  private closed = false;
  /** scans done, full and quick (for the figures of docs/architecture.md) */
  readonly count = { full: 0, quick: 0, warm: 0 };

  constructor(
    private readonly table: ProcessTable,
    private readonly log: Logger,
  ) {}

  add(s: Seeker): void {
    this.seekers.add(s);
    this.armPeriodic();
  }

  remove(s: Seeker): void {
    this.seekers.delete(s);
    this.armPeriodic();
  }

  onTick(f: () => void): void {
    this.ticks.push(f);
  }

  /** The periodic scan runs at the shortest MONITOR_INTERVAL of the sets (re-armed when it changes). */
  armPeriodic(): void {
    const sec = Math.min(...[...this.seekers].map((s) => s.monitorIntervalSec()));
    const ms = this.closed || !Number.isFinite(sec) ? 0 : sec * 1000;
    if (ms === this.periodMs && (this.periodic !== null) === ms > 0) return;
    if (this.periodic) clearInterval(this.periodic);
    this.periodic = null;
    this.periodMs = ms;
    if (ms === 0) return;
    this.periodic = setInterval(() => {
      for (const f of this.ticks) f();
      if (!this.scan()) this.warm();
    }, ms);
  }

  /**
   * One look for the processes of every entry that has none; cheap when none is missing.
   * `quick` (the frequent looks after a restart): read only processes not seen before and known
   * ones with a looked-for name; the full scans (periodic, deadlines) catch the rare rest (a
   * reused pid). With 10,000 processes: ~120 ms full, a few ms quick.
   */
  scan(quick = false): boolean {
    if (this.closed) return false;
    const owner = new Map<EntryRuntime, Seeker>();
    for (const s of this.seekers) for (const rt of s.seeking()) owner.set(rt, s);
    if (owner.size === 0) return false;
    const seeking = [...owner.keys()];
    const t0 = performance.now();
    // a full scan resolves pname again: an upgrade may have re-pointed its symlink
    if (!quick) seeking.forEach(refreshProgram);
    // a full scan reads every process (recheckSince -Infinity), and the candidates' argv afresh
    const procs = this.table.scan({ recheck: lookedFor(seeking), recheckSince: quick ? (this.seekSince ?? performance.now()) : -Infinity });
    this.count[quick ? 'quick' : 'full']++;
    const watchers = new Map<number, EntryRuntime>();
    const setOf = new Map<EntryRuntime, Seeker>();
    for (const s of this.seekers) {
      for (const rt of s.all()) {
        if (rt.state.pid === null) continue;
        watchers.set(rt.state.pid, rt);
        setOf.set(rt, s);
      }
    }
    // a process another entry (of any set) watches is never adopted; workers being ended are nobody's
    const looked = findForEntries(seeking, this.ending.size === 0 ? procs : procs.filter((p) => !this.ending.has(p.pid)), (pid) => watchers.get(pid));
    this.lastScanMs = performance.now() - t0;
    for (const [rt, b] of looked.blocked) {
      const by = setOf.get(b.by) ?? owner.get(b.by);
      tellWatchedElsewhere(rt, b.proc, b.by, this.log, by !== undefined && by !== owner.get(rt) ? by.path : null);
    }
    for (const [rt, p] of looked.adopt) owner.get(rt)!.found(rt, p);
    return true;
  }

  /**
   * Nobody looks: the periodic tick still reads the processes started since the last look (only
   * those: the known ones are reused) when there are many, so that the table is warm when a
   * death comes. Without it, the first death after 2,000 new processes read them all before its
   * `Down` (~150 ms at 3,000 processes; docs/PERFORMANCE.md, the run of 2026-12-06).
   */
  private warm(): void {
    // an idle host allocates few pids: then one read of ns_last_pid is the whole cost
    if ((this.table.newPids?.() ?? Infinity) < WARM_MIN_NEW_PIDS) return;
    this.table.scan(WARM);
    this.count.warm++;
  }

  /** A process is about to appear (restart, start-up, reset): scan soon, then back off. */
  seekSoon(): void {
    if (this.closed) return;
    // processes first seen since the looking began are read afresh by every quick scan: a
    // restart script's child is a shell before it execs into the program
    this.seekSince ??= performance.now();
    this.seekDelay = SEEK_FIRST_MS;
    if (this.seekTimer) clearTimeout(this.seekTimer);
    this.seekTimer = setTimeout(() => this.seekTick(), this.seekDelay);
  }

  private seekTick(): void {
    this.seekTimer = null;
    this.scan(true);
    if (this.closed || ![...this.seekers].some((s) => s.expecting())) {
      this.seekSince = null;
      return;
    }
    // back off; and never scan more than a quarter of the time (a big process table during a
    // mass death): the loop must stay free to read the deaths and start the scripts
    this.seekDelay = Math.max(Math.min(this.seekDelay * 2, SEEK_MAX_MS), this.lastScanMs * 3);
    this.seekTimer = setTimeout(() => this.seekTick(), this.seekDelay);
  }

  close(): void {
    this.closed = true;
    if (this.seekTimer) clearTimeout(this.seekTimer);
    if (this.periodic) clearInterval(this.periodic);
    this.seekTimer = this.periodic = null;
  }
}
