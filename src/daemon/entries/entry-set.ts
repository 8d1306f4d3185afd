// The entries of one pfile, as a typed API for both modes (pcheck -f has one set, FailSafe mode
// one per pfile): the imperative shell around the pure entry machine. It turns scan results, pid
// deaths, script exits, timer expiry and operations (monitoring on/off, stop|start|reset pent,
// group online/offline, reload) into EntryEvents, feeds them to step(), and carries out the
// returned actions. The process table, the death watcher, the scanner, the script queue and the
// clock come from outside (EntryServices), shared by every set of the process.
import { step, isSeeking, nextDeadline } from '../../core/entry-machine';
import { initialState, type EntryAction, type EntryEvent } from '../../core/entry-model';
import { startEntry } from '../../core/entry-start';
import type { EventSink } from '../../core/events';
import { reloadSummary } from '../../core/reload-summary';
import type { Pent, Pfile, PfileParam } from '../../core/model';
import type { RetryOverAction } from '../../core/states';
import { openScriptOutputDir, type ScriptOutputDir } from '../../exec/script-output-dir';
import type { ProcInfo } from '../../proc/types';
import type { PentView } from '../../views/pent-view';
import { adopted, newRuntime, pentView, type EntryRuntime } from './entry-runtime';
import { reloadEntries } from './entry-reload';
import { EntryEvents } from './entry-events';
import { EntryStateFile, type StateStore } from './entry-state-file';
import { RestartScripts } from './restart-scripts';
import { findForEntries } from './scan-index';
import type { EntryServices } from './services';
import { endWorkers } from './workers';

export interface EntrySetOptions {
  pfile: Pfile;
  services: EntryServices;
  /** this pfile's control socket: clplogcmd in a restart script writes there (PS_SOCKET) */
  socket: string;
  /** the run directory: the restart scripts' output files go under it */
  runDir: string;
  /** where its state lives (SHM_DUMP_FILE, or a part of the FailSafe state file); null: nowhere */
  store: StateStore | null;
  bootId: string;
  /** the server's name in events */
  serverName: string;
  onEvent?: EventSink;
  /** an entry's state changed (the web page, systemd's status line) */
  onStateChange?: () => void;
  /** an entry retried over: `exit`, the OS actions and `group` are the daemon's (none: nothing) */
  onRetryOver(action: RetryOverAction, rt: EntryRuntime): void;
}

export type PentOp = 'stop' | 'start' | 'reset';

export class EntrySet {
  private pfile: Pfile;
  private entries: EntryRuntime[] = [];
  readonly services: EntryServices;
  readonly socket: string;
  readonly state: EntryStateFile;
  private readonly events: EntryEvents;
  private readonly scripts: RestartScripts;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlinePending: NodeJS.Immediate | null = null;
  /** where restart scripts write (null: pipes) */
  private output: ScriptOutputDir | null = null;
  private closed = false;

  constructor(private readonly o: EntrySetOptions) {
    this.pfile = o.pfile;
    this.services = o.services;
    this.socket = o.socket;
    const s = o.services;
    this.state = new EntryStateFile(o.store, o.pfile.path, {
      table: s.table,
      log: s.log,
      bootId: o.bootId,
      monoNow: () => s.clock().mono,
      entries: () => this.entries,
    });
    this.events = new EntryEvents(o.onEvent, o.serverName, () => this.pfile.path);
    this.scripts = new RestartScripts(this);
  }

  get path(): string {
    return this.pfile.path;
  }

  /** The pfile as it runs now (reload replaces it). */
  get current(): Pfile {
    return this.pfile;
  }

  param(): PfileParam {
    return this.pfile.param;
  }

  get size(): number {
    return this.entries.length;
  }

  get stopped(): boolean {
    return this.closed;
  }

  /** Claims the state file (throws a ConfigError when another pcheck holds it). */
  claim(): void {
    this.state.claim(this.pfile, this.o.store);
  }

  /** A reload to another SHM_DUMP_FILE claims it like at start (throws: the reload is refused). */
  claimFor(next: Pfile, store: StateStore | null): void {
    if (next.param.shmDumpFile !== this.pfile.param.shmDumpFile) this.state.claim(next, store);
  }

  /** Starts watching: counters as the previous pcheck left them; a restart it left under way is
   *  resumed (its script awaited), not started again. `held`: monitoring off at once (the entries
   *  of a FailSafe group that is not Online yet). `starting`: called once the entries exist, before
   *  their first actions (pcheck -f logs its start line there). */
  start(held = false, starting?: () => void): void {
    const s = this.services;
    // opened once the control socket and the state file are ours
    this.output = openScriptOutputDir(this.o.runDir, `pcheck-0x${this.pfile.param.ipckey.toString(16).padStart(8, '0')}`, (m) => s.log.warning(m));
    s.scanner.add(this);
    s.deaths.add(this);
    s.hangs.add(this);
    const restored = this.state.restore(this.pfile);
    const now = s.clock();
    const starts: [EntryRuntime, EntryAction[]][] = [];
    this.entries = this.pfile.pents.map((pent) => {
      const rt = newRuntime(pent, this.pfile.param, initialState());
      const r = restored.get(rt.signature);
      const first = startEntry(rt.cfg, now, r?.entry);
      rt.state = first.state;
      rt.script = r?.script ?? null;
      starts.push([rt, first.actions]);
      if (r?.resumed) s.log.info(`(${pent.pname}) restored: retry_count=${rt.state.retryCount} restart_count=${rt.state.restartCount} monitor_sts=${rt.state.monitorSts}`);
      else if (r && rt.state.monitorSts === 'off') s.log.info(`(${pent.pname}) restored: monitor_sts=off (padmin start pent ${pent.id} turns it on)`);
      return rt;
    });
    starting?.();
    for (const [rt, actions] of starts) for (const a of actions) if (a.type !== 'seek') this.execute(rt, a);
    s.scanner.scan();
    this.state.persistNow();
    this.armDeadline();
    s.scanner.seekSoon();
    for (const rt of held ? [...this.entries] : []) this.dispatch(rt, { type: 'monitorOff' });
  }

  views(): PentView[] {
    return this.entries.map(pentView);
  }

  /** padmin stop / start: monitoring of every entry off or on. */
  setMonitoring(on: boolean): void {
    for (const rt of [...this.entries]) this.dispatch(rt, { type: on ? 'monitorOn' : 'monitorOff' });
  }

  /** padmin stop|start|reset pent ID; null when there is no such entry. */
  pent(op: PentOp, id: number): PentView | null {
    const rt = this.entries.find((e) => e.pent.id === id);
    if (!rt) return null;
    this.dispatch(rt, { type: op === 'stop' ? 'monitorOff' : op === 'start' ? 'monitorOn' : 'reset' });
    return pentView(rt);
  }

  /** FailSafe mode: the group holding this pfile went offline (no restarts while its stop script
   *  stops the processes) or came online (watch again; `fresh`: counters from 0 — not for a group
   *  adopted as it ran). */
  groupOnline(on: boolean, group: string, fresh = true): void {
    this.services.log.notice(`pfile='${this.pfile.path}': monitoring ${on ? 'on' : 'off'} (group ${group} ${on ? 'online' : 'offline'})`);
    for (const rt of [...this.entries]) {
      if (on && fresh) this.dispatch(rt, { type: 'reset' });
      this.dispatch(rt, { type: on ? 'monitorOn' : 'monitorOff' });
    }
  }

  /** The entries whose program does not run now (one full scan): a group adopted as it ran must have them all. */
  notRunning(): EntryRuntime[] {
    // what an entry of another set watches is not this set's program (its own entries' are)
    const watchers = this.services.deaths.watchers();
    for (const rt of this.entries) if (rt.state.pid !== null) watchers.delete(rt.state.pid);
    const found = findForEntries(this.entries, this.services.table.scan(), (pid) => watchers.get(pid)).adopt;
    return this.entries.filter((rt) => !found.has(rt));
  }

  /** Applies a pfile already checked for reload: an entry that stays (same signature) keeps its
   *  state, its death watch and its running script; a new one starts; a removed one is let go.
   *  Returns what changed, for the log and padmin (src/core/reload-summary.ts). */
  apply(next: Pfile, opts: { failsafe?: boolean } = {}): string {
    const before = this.pfile;
    // entries kept although their options changed (a restart under way), [before, after]
    const carried: [Pent, Pent][] = [];
    const kept = reloadEntries(this.entries, next, this.services.clock(), (gone) => this.services.locks.release(gone), (from, to) => carried.push([from, to]));
    const intervalChanged = next.param.monitorInterval !== this.pfile.param.monitorInterval;
    this.pfile = next;
    this.entries = kept;
    const s = this.services;
    if (intervalChanged) s.scanner.armPeriodic();
    s.scanner.scan();
    this.state.persistNow();
    this.armDeadline();
    s.scanner.seekSoon();
    return reloadSummary(before, next, { carried, failsafe: opts.failsafe });
  }

  /** Stops watching (pcheck stops, or FailSafe mode drops the pfile): nothing starts afterwards;
   *  running restart scripts are stopped. Returns the exits of the killed scripts. */
  close(): Promise<unknown>[] {
    if (this.closed) return [];
    const seeking = this.entries.filter((rt) => isSeeking(rt.state));
    const running = () => new Set([...findForEntries(seeking, this.services.table.scan()).adopt.values()].map((p) => p.pid));
    this.closed = true;
    const killed = this.scripts.stopAll(this.entries, running);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.deadlinePending) clearImmediate(this.deadlinePending);
    for (const rt of this.entries) {
      rt.unwatch?.();
      rt.unwatch = null;
      rt.stopAwait?.();
      this.services.locks.release(rt);
    }
    this.output?.close();
    const s = this.services;
    s.scanner.remove(this);
    s.deaths.remove(this);
    s.hangs.remove(this);
    return killed;
  }

  takeHealTimes(): number[] {
    return this.events.takeHealTimes();
  }

  takeDetectionTimes(): number[] {
    return this.events.takeDetectionTimes();
  }

  // ---- what the shared services see of this set ------------------------------------------

  seeking(): EntryRuntime[] {
    return this.entries.filter((rt) => isSeeking(rt.state));
  }

  all(): readonly EntryRuntime[] {
    return this.entries;
  }

  expecting(): boolean {
    return this.entries.some((rt) => rt.state.monitorSts === 'on' && (rt.state.procSts === 'RESTARTING' || rt.state.procSts === 'WAIT'));
  }

  found(rt: EntryRuntime, p: ProcInfo): void {
    this.dispatch(rt, { type: 'found', pid: p.pid, startTime: p.startTime });
  }

  monitorIntervalSec(): number {
    return this.pfile.param.monitorInterval;
  }

  sampled(): EntryRuntime[] {
    return this.entries.filter((rt) => rt.pent.hangTimeout !== null);
  }

  has(rt: EntryRuntime): boolean {
    return !this.closed && this.entries.includes(rt);
  }

  *watchedPids(): Iterable<number> {
    for (const rt of this.entries) if (rt.state.pid !== null) yield rt.state.pid;
  }

  taken(): Set<number> {
    return this.services.deaths.taken();
  }

  outputDir(): ScriptOutputDir | null {
    return this.output;
  }

  /** `durable`: fsynced before it returns (before an OS action). */
  persistNow(durable = false): void {
    this.state.persistNow(durable);
  }

  persistSoon(): void {
    this.state.persistSoon();
  }

  flushState(): void {
    this.state.flush();
  }

  // ---- events in, actions out -------------------------------------------------------------

  dispatch(rt: EntryRuntime, event: EntryEvent): void {
    if (!this.has(rt)) return;
    const before = rt.state;
    const now = this.services.clock();
    const r = step(before, event, rt.cfg, now);
    rt.state = r.state;
    if (r.state.procSts !== 'RESTARTING') this.services.locks.release(rt); // the restart is decided
    this.events.report(rt, before, r.state, now);
    // queued before the actions, so the new counters are on disk before a script runs
    if (r.state !== before) {
      this.state.persistSoon();
      this.o.onStateChange?.();
    }
    for (const a of r.actions) this.execute(rt, a);
    this.armDeadlineSoon();
  }

  private execute(rt: EntryRuntime, a: EntryAction): void {
    const s = this.services;
    switch (a.type) {
      case 'log':
        s.log.log(a.severity, a.message);
        return;
      case 'watch': {
        rt.unwatch?.();
        rt.watched = adopted(s.table, a);
        s.reaps.forget(rt); // a process runs: an earlier death holds back no script
        const unwatch = s.watcher.watch({ pid: a.pid, startTime: a.startTime }, (info) => {
          if (rt.unwatch !== unwatch) return; // a stale watch of an earlier pid
          rt.unwatch = null;
          this.events.detected(info.detectedWithinMs);
          s.deaths.onDeath(this, rt, rt.state.provisional === true && rt.state.scriptRunning);
        });
        rt.unwatch = unwatch;
        s.hangs.arm();
        return;
      }
      case 'endWorkers':
        endWorkers(s, rt, a.workers, () => this.closed);
        return;
      case 'kill':
        killIfStill(s.table.read(a) !== null, a.pid);
        return;
      case 'runScript':
        this.scripts.start(rt, a.env);
        return;
      case 'awaitScript':
        this.scripts.await(rt, { pid: a.pid, startTime: a.startTime });
        return;
      case 'seek':
        s.scanner.seekSoon();
        return;
      case 'retryOver':
        this.o.onRetryOver(a.action, rt);
        return;
    }
  }

  /** armDeadline once this turn's events are handled: an event moves one entry's deadline, and
   *  a look at every entry per event was O(entries²) in a mass death (1,000,000 looks for 1,000). */
  private armDeadlineSoon(): void {
    this.deadlinePending ??= setImmediate(() => {
      this.deadlinePending = null;
      this.armDeadline();
    });
  }

  /** One timer for the nearest deadline of the set's entries. */
  private armDeadline(): void {
    if (this.deadlinePending) clearImmediate(this.deadlinePending);
    this.deadlinePending = null;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (this.closed) return;
    let next = Infinity;
    for (const rt of this.entries) next = Math.min(next, nextDeadline(rt.state, rt.cfg) ?? Infinity);
    if (next === Infinity) return;
    const delay = Math.max(0, next - this.services.clock().mono);
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.min(delay, 2 ** 31 - 1));
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    // a process that appeared just now is not a failure: a due entry that is looking for its
    // process looks once more first (a grace window that ends needs no scan of /proc)
    const due = this.services.clock().mono;
    if (this.entries.some((rt) => isSeeking(rt.state) && (nextDeadline(rt.state, rt.cfg) ?? Infinity) <= due)) this.services.scanner.scan();
    const now = this.services.clock().mono;
    for (const rt of [...this.entries]) {
      const d = nextDeadline(rt.state, rt.cfg);
      if (d !== null && d <= now) this.dispatch(rt, { type: 'timer' });
    }
    this.armDeadline();
  }
}

/** The hung process, if it is still that one: its death comes back through the watch. */
function killIfStill(still: boolean, pid: number): void {
  if (!still) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
