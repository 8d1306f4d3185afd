// The ProcessSaver-mode daemon: the imperative shell around the pure entry machine.
// It turns /proc scans, pid deaths, script exits, timer expiry and padmin requests into
// EntryEvents, feeds them to step(), and carries out the returned actions.
//
// Timers: one for the nearest entry deadline, one for the periodic scan (MONITOR_INTERVAL),
// and a short back-off "seek" scan while a process is expected to appear. When every entry
// is AVAIL there is no scan at all: deaths arrive as events from the DeathWatcher.
import { hostname } from 'node:os';
import type { EventKind, EventSink } from '../core/events';
import {
  msg,
  type Clock,
  type EntryAction,
  type EntryEvent,
  type EntryState,
  type RestoredEntry,
  initialState,
  isSeeking,
  nextDeadline,
  startEntry,
  step,
} from '../core/entry-machine';
import { pentSignature, type Pfile } from '../core/model';
import { isOsAction, type RetryOverAction } from '../core/states';
import type { Logger } from '../log/logger';
import type { DeathWatcher, ProcId, ProcInfo, ProcessTable } from '../proc/types';
import { runScript } from '../exec/run-script';
import { ScriptOutput, type OutputLine } from '../core/script-output';
import { CLK_TCK, readEnviron, readStat } from '../proc/proc-table';
import { selectOldest } from '../proc/match';
import { runOsAction } from '../exec/os-action';
import { readBootId, readStateFile, writeStateEntries, type RunningScriptId, type StateSnapshot } from '../state/state-file';
import { EntryJson } from './state-entries';
import { syncStateFileLater, type StateSync } from '../state/state-sync';
import { startControlServer } from '../control/server';
import { ControlErrorCode as ErrorCode, socketPath, type ControlRequest, type ControlResponse } from '../control/protocol';
import { formatShowParam, formatShowPent, type PentView } from '../cli/format';
import { systemClock } from './clock';
import { CommandError, parseCommand, type PadminCommand } from './commands';
import { entryConfig, newRuntime, pentView, type EntryRuntime } from './entry-runtime';
import { findForEntries, lookedFor } from './scan-index';
import { deathWatchOf, deathWatchStatus, deathWatchText } from './watcher';
import { nativeAddonFile } from '../native/index';
import { createSystemdLink, formatStatus, type SystemdLink } from '../systemd/daemon-link';
import type { Notifier } from '../systemd/notify';

export interface PfileDaemonOptions {
  pfile: Pfile;
  runDir: string;
  /** record OS actions instead of doing them (SPEC §7). */
  rehearse: boolean;
  logger: Logger;
  table: ProcessTable;
  watcher: DeathWatcher;
  /** re-reads the pfile for `reload` / SIGHUP; throws ConfigError. */
  loadPfile: (path: string) => Pfile;
  clock?: () => Clock;
  /** sd_notify, from createNotifier(); null or absent when not run by systemd as Type=notify
   *  (and for the pfiles inside FailSafe mode, whose daemon notifies for the whole process). */
  notifier?: Notifier | null;
  /** FailSafe mode: a retry-over `group` hands over to the recovery chain of the group holding this pfile. */
  onGroupRetryOver?: (pname: string) => void;
  /** down / restart / retry_over events, for alerts, the web page and metrics */
  onEvent?: EventSink;
  /** the server's name in events (FailSafe `[daemon] name`; else the host name) */
  serverName?: string;
  /** any entry's state changed (the web page refreshes) */
  onStateChange?: () => void;
}

const SEEK_FIRST_MS = 5;
const SEEK_MAX_MS = 200;
/** Restart scripts running at once; more wait in a queue (a mass death must not fork-bomb the host). */
export const MAX_CONCURRENT_SCRIPTS = 32;
const SCRIPTS_PER_TURN = 4;

export class PfileDaemon {
  private pfile: Pfile;
  private entries: EntryRuntime[] = [];
  private readonly clock: () => Clock;
  private readonly log: Logger;
  private readonly bootId = readBootId();
  private deadlineTimer: NodeJS.Timeout | null = null;
  private scanTimer: NodeJS.Timeout | null = null;
  private seekTimer: NodeJS.Timeout | null = null;
  private seekDelay = SEEK_FIRST_MS;
  /** how long the last /proc scan took (ms), to keep seek scans to a fraction of the loop */
  private lastScanMs = 0;
  private control: { close(): Promise<void> } | null = null;
  private lastPersistError: string | null = null;
  private persistPending: NodeJS.Immediate | null = null;
  private readonly entryJson = new EntryJson();
  /** fsyncs the state file off the loop (state-sync.ts), for the current SHM_DUMP_FILE */
  private stateSync: { path: string; sync: StateSync } | null = null;
  private readonly scriptQueue: (() => void)[] = [];
  private scriptsRunning = 0;
  private drainPending = false;
  private stopping = false;
  private finish: (code: number) => void = () => undefined;
  readonly socket: string;
  private readonly sd: SystemdLink;

  constructor(private readonly opts: PfileDaemonOptions) {
    this.pfile = opts.pfile;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.socket = socketPath(opts.runDir, opts.pfile.param.ipckey);
    this.sd = createSystemdLink({
      notifier: opts.notifier ?? null,
      status: () => formatStatus(this.entries.map(pentView)) + deathWatchStatus(deathWatchOf(opts.watcher)),
      monitorIntervalSec: opts.pfile.param.monitorInterval,
      warn: (m) => this.log.warning(m),
    });
  }

  private markStarted: () => void = () => undefined;
  private readonly startedP = new Promise<void>((r) => (this.markStarted = r));

  /** Resolves once run() is monitoring (its control socket answers). */
  started(): Promise<void> {
    return this.startedP;
  }

  views(): PentView[] {
    return this.entries.map(pentView);
  }

  /** Starts monitoring; resolves with pcheck's exit code once it stops. */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    this.control = await startControlServer(this.socket, (req) => this.onRequest(req));
    const restored = this.restoreState();
    const now = this.clock();
    const starts: [EntryRuntime, EntryAction[]][] = [];
    this.entries = this.pfile.pents.map((pent) => {
      const rt = newRuntime(pent, this.pfile.param, initialState());
      const r = restored.get(rt.signature);
      const first = startEntry(rt.cfg, now, r?.entry);
      rt.state = first.state;
      rt.script = r?.script ?? null;
      starts.push([rt, first.actions]);
      if (r) this.log.info(`(${pent.pname}) restored: retry_count=${rt.state.retryCount} restart_count=${rt.state.restartCount} monitor_sts=${rt.state.monitorSts}`);
      return rt;
    });
    this.log.info(`Start pcheck (pfile='${this.pfile.path}', ${this.entries.length} entries, death watch: ${this.opts.watcher.mode})`);
    // a restart left by the previous pcheck is resumed (its script awaited), not started again
    for (const [rt, actions] of starts) for (const a of actions) if (a.type !== 'seek') this.execute(rt, a);
    this.scan();
    this.persist();
    this.armScanTimer();
    this.armDeadline();
    this.seekSoon();
    this.sd.ready();
    this.markStarted();
    return done;
  }

  /** FailSafe mode: the group holding this pfile went offline (`on` false: no restarts while its
   *  stop script stops the processes) or came online (`on` true: counters from 0, watch again). */
  setGroupOnline(on: boolean, group: string): void {
    this.log.notice(`pfile='${this.pfile.path}': monitoring ${on ? 'on' : 'off'} (group ${group} ${on ? 'online' : 'offline'})`);
    for (const rt of [...this.entries]) {
      if (on) this.dispatch(rt, { type: 'reset' });
      this.dispatch(rt, { type: on ? 'monitorOn' : 'monitorOff' });
    }
  }

  /** The answer to one padmin command, as over the control socket. */
  command(text: string): ControlResponse {
    return this.onRequest({ command: text });
  }

  /** Stops monitoring without the signal lines (FailSafe mode stops its pfiles this way). */
  async close(): Promise<void> {
    await this.stop(0, null);
  }

  /** SIGTERM / SIGINT: stop monitoring, leave the watched processes running, exit 0. */
  async stopOnSignal(name: 'SIGTERM' | 'SIGINT', num: number): Promise<void> {
    if (this.stopping) return;
    this.log.notice(`${name} Catch (${num})!!`);
    await this.stop(0, 'Stop pcheck!!');
  }

  // ---- events in ----------------------------------------------------------------------

  private dispatch(rt: EntryRuntime, event: EntryEvent): void {
    if (this.stopping || !this.entries.includes(rt)) return;
    const before = rt.state;
    const now = this.clock();
    const r = step(before, event, rt.cfg, now);
    rt.state = r.state;
    this.report(rt, before, r.state, now);
    // queued before the actions, so the new counters are on disk before a script runs
    if (r.state !== before) {
      this.persistSoon();
      this.opts.onStateChange?.();
      this.sd.changed();
    }
    for (const a of r.actions) this.execute(rt, a);
    this.armDeadlineSoon();
  }

  /** Turns a change of proc_sts into an event; and times heals (death → new process up). */
  private report(rt: EntryRuntime, before: EntryState, after: EntryState, now: Clock): void {
    if (before.procSts === after.procSts) return;
    const emit = (kind: EventKind, message: string) =>
      this.opts.onEvent?.({
        kind,
        at: now.wall,
        server: this.opts.serverName ?? hostname(),
        subject: rt.pent.pname,
        message,
        fields: { pfile: this.pfile.path, pentId: rt.pent.id, pid: before.pid, retryCount: after.retryCount, restartCount: after.restartCount, action: rt.pent.retryOverAction },
      });
    if (before.procSts === 'AVAIL') {
      rt.downAtMono = now.mono;
      emit('down', msg.down(rt.pent.pname, before.pid));
    }
    if (after.procSts === 'RESTARTING') emit('restart', msg.tryRestart(rt.pent.pname));
    if (after.procSts === 'RETRY_OVER') emit('retry_over', msg.retryOver(rt.pent.pname, rt.pent.retryOverAction));
    if (after.procSts === 'AVAIL' && rt.downAtMono !== null) {
      if (this.heals.length < 10_000) this.heals.push((now.mono - rt.downAtMono) / 1000);
      rt.downAtMono = null;
    }
  }

  /** Heal times (s) since the last call: death noticed → the restarted process found. */
  takeHealTimes(): number[] {
    return this.heals.splice(0);
  }
  private readonly heals: number[] = [];

  /** Detection bounds (s) since the last call, where the death watch can tell (the poll). */
  takeDetectionTimes(): number[] {
    return this.detections.splice(0);
  }
  private readonly detections: number[] = [];

  /** Looks for the processes of the entries that have none; cheap when none is missing.
   *  `quick` (the frequent looks after a restart): read only processes not seen before and
   *  known ones with a looked-for name; the full scans (MONITOR_INTERVAL, deadlines) catch
   *  the rare rest (a reused pid). With 10,000 processes: ~120 ms full, a few ms quick. */
  private scan(quick = false): void {
    const seeking = this.entries.filter((rt) => isSeeking(rt.state));
    if (seeking.length === 0 || this.stopping) return;
    const t0 = performance.now();
    const opts = quick ? { recheck: lookedFor(seeking), recheckSince: this.seekSince ?? performance.now() } : undefined;
    const found = findForEntries(seeking, this.opts.table.scan(opts));
    this.lastScanMs = performance.now() - t0;
    for (const [rt, p] of found) this.dispatch(rt, { type: 'found', pid: p.pid, startTime: p.startTime });
  }

  private armScanTimer(): void {
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = setInterval(() => {
      this.sd.pass();
      this.scan();
      // a failed write is retried each interval, so the file is right again soon after the
      // disk is (not only at the next state change)
      if (this.lastPersistError !== null) this.persistSoon();
    }, this.pfile.param.monitorInterval * 1000);
  }

  /** A process is about to appear (restart, start-up, reset): scan soon, then back off. */
  private seekSoon(): void {
    // processes first seen since the looking began are read afresh by every quick scan: a
    // restart script's child is a shell before it execs into the program
    this.seekSince ??= performance.now();
    this.seekDelay = SEEK_FIRST_MS;
    if (this.seekTimer) clearTimeout(this.seekTimer);
    this.seekTimer = setTimeout(() => this.seekTick(), this.seekDelay);
  }

  /** performance.now() when the current run of quick scans began (null: none runs). */
  private seekSince: number | null = null;

  private seekTick(): void {
    this.seekTimer = null;
    this.scan(true);
    const expecting = this.entries.some(
      (rt) => rt.state.monitorSts === 'on' && (rt.state.procSts === 'RESTARTING' || rt.state.procSts === 'WAIT'),
    );
    if (!expecting || this.stopping) {
      this.seekSince = null;
      return;
    }
    // back off; and never scan more than a quarter of the time (a big process table during a
    // mass death): the loop must stay free to read the deaths and start the scripts
    this.seekDelay = Math.max(Math.min(this.seekDelay * 2, SEEK_MAX_MS), this.lastScanMs * 3);
    this.seekTimer = setTimeout(() => this.seekTick(), this.seekDelay);
  }

  /** armDeadline once this turn's events are handled: an event moves one entry's deadline, and
   *  a look at every entry per event was O(entries²) in a mass death (1,000,000 looks for 1,000) */
  private armDeadlineSoon(): void {
    this.deadlinePending ??= setImmediate(() => {
      this.deadlinePending = null;
      this.armDeadline();
    });
  }
  private deadlinePending: NodeJS.Immediate | null = null;

  /** One timer for the nearest deadline of all entries. */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (this.stopping) return;
    let next = Infinity;
    for (const rt of this.entries) next = Math.min(next, nextDeadline(rt.state, rt.cfg) ?? Infinity);
    if (next === Infinity) return;
    const delay = Math.max(0, next - this.clock().mono);
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.min(delay, 2 ** 31 - 1));
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    // a process that appeared just now is not a failure: a due entry that is looking for its
    // process looks once more first (a grace window that ends needs no scan of /proc)
    const due = this.clock().mono;
    if (this.entries.some((rt) => isSeeking(rt.state) && (nextDeadline(rt.state, rt.cfg) ?? Infinity) <= due)) this.scan();
    const now = this.clock().mono;
    for (const rt of [...this.entries]) {
      const d = nextDeadline(rt.state, rt.cfg);
      if (d !== null && d <= now) this.dispatch(rt, { type: 'timer' });
    }
    this.armDeadline();
  }

  // ---- actions out --------------------------------------------------------------------

  private execute(rt: EntryRuntime, a: EntryAction): void {
    switch (a.type) {
      case 'log':
        this.log.log(a.severity, a.message);
        return;
      case 'watch': {
        rt.unwatch?.();
        const unwatch = this.opts.watcher.watch({ pid: a.pid, startTime: a.startTime }, (info) => {
          if (rt.unwatch !== unwatch) return; // a stale watch of an earlier pid
          rt.unwatch = null;
          if (info.detectedWithinMs !== null && this.detections.length < 10_000) this.detections.push(info.detectedWithinMs / 1000);
          this.dispatch(rt, { type: 'died' });
        });
        rt.unwatch = unwatch;
        return;
      }
      case 'runScript':
        this.startScript(rt, a.env);
        return;
      case 'awaitScript':
        this.awaitScript(rt, { pid: a.pid, startTime: a.startTime });
        return;
      case 'seek':
        this.seekSoon();
        return;
      case 'retryOver':
        this.retryOver(a.action, rt.pent.pname);
        return;
    }
  }

  /** Queues a restart script; scripts start after the current burst of events has been
   *  handled (so a mass death logs every Down first), at most MAX_CONCURRENT_SCRIPTS at once. */
  private startScript(rt: EntryRuntime, env: Record<string, string>): void {
    this.scriptQueue.push(() => this.spawnScript(rt, env));
    this.drainScripts();
  }

  /** Starts queued scripts a few per loop turn: a fork costs milliseconds, and the death
   *  events of a mass kill must be read (and logged Down) in between, not after 32 forks. */
  private drainScripts(): void {
    if (this.drainPending) return;
    this.drainPending = true;
    setImmediate(() => {
      this.drainPending = false;
      // the entries' RESTARTING is on disk before their scripts start (a pcheck started after
      // this one is killed must not run them again)
      if (this.persistPending) this.persist();
      let started = 0;
      while (this.scriptsRunning < MAX_CONCURRENT_SCRIPTS && this.scriptQueue.length > 0 && !this.stopping && started < SCRIPTS_PER_TURN) {
        this.scriptQueue.shift()!();
        started++;
      }
      // name the new scripts in the state file, so that such a pcheck waits for them (until then
      // it finds them by path and PS_PNAME): in the next turn, with its deaths, one write a turn
      if (started > 0) this.persistSoon();
      if (this.scriptQueue.length > 0 && this.scriptsRunning < MAX_CONCURRENT_SCRIPTS) this.drainScripts();
    });
  }

  private spawnScript(rt: EntryRuntime, env: Record<string, string>): void {
    if (!this.entries.includes(rt)) return; // removed by a reload while queued
    this.scriptsRunning++;
    const timeout = rt.pent.scriptTimeout ?? this.pfile.param.scriptTimeout;
    const pname = rt.pent.pname;
    const output = new ScriptOutput();
    const logLine = (l: OutputLine) => this.log.log(l.stream === 'stderr' ? 'warning' : 'info', `(${pname}) script: ${l.text}`);
    const run = runScript({
      path: rt.pent.restartScript,
      env,
      timeoutMs: timeout * 1000,
      // every line is read (a full pipe would block the script), but only the head and the
      // tail are logged (ScriptOutput): megabytes of output must not bury pcheck's own lines
      maxOutputBytes: Infinity,
      onLine: (stream, text) => {
        const line = output.add({ stream, text });
        if (line) logLine(line);
      },
    });
    // its identity for the state file (written by drainScripts right after this)
    const stat = run.pid === null ? null : readStat(run.pid);
    const mine: RunningScriptId | null = run.pid !== null && stat !== null ? { pid: run.pid, startTime: stat.startTime, startedMono: this.clock().mono } : null;
    if (mine) rt.script = mine;
    void run.done.then((r) => {
      for (const l of output.end()) logLine(l);
      this.scriptsRunning--;
      if (rt.script === mine) rt.script = null;
      this.drainScripts();
      this.dispatch(rt, { type: 'scriptExited', code: r.code, signal: r.signal, timedOut: r.timedOut, spawnError: r.spawnError });
    });
  }

  /**
   * Waits for a restart script that the previous pcheck started and that outlived it: its death
   * (pid and start time, so never another process on a reused pid) ends the wait; at the script
   * timeout, counted from its start, its process group is killed as ours would be.
   */
  private awaitScript(rt: EntryRuntime, id: ProcId): void {
    rt.stopAwait?.();
    const startedMono = rt.script?.pid === id.pid ? rt.script.startedMono : this.clock().mono;
    rt.script = { ...id, startedMono };
    let timedOut = false;
    const timeoutMs = (rt.pent.scriptTimeout ?? this.pfile.param.scriptTimeout) * 1000;
    const left = Math.max(0, startedMono + timeoutMs - this.clock().mono);
    const timer = setTimeout(
      () => {
        // still that script (not a process that took its pid): kill its group, as runScript does
        if (this.opts.table.read(id) === null) return;
        timedOut = true;
        // its group (runScript made it a group leader); a script found by its path may not lead one
        for (const target of [-id.pid, id.pid]) {
          try {
            process.kill(target, 'SIGKILL');
            break;
          } catch {
            // no such group: the process itself; gone meanwhile: its death is reported by the watch
          }
        }
      },
      Math.min(left, 2 ** 31 - 1),
    );
    // stops waiting (pcheck stops, a reload drops the entry); the script stays in the state file
    const stop = (): void => {
      clearTimeout(timer);
      unwatch();
      if (rt.stopAwait === stop) rt.stopAwait = null;
    };
    const unwatch = this.opts.watcher.watch(id, () => {
      if (rt.stopAwait !== stop) return;
      stop();
      if (rt.script?.pid === id.pid) rt.script = null;
      this.dispatch(rt, { type: 'scriptGone', pid: id.pid, timedOut });
    });
    rt.stopAwait = stop;
  }

  private retryOver(action: RetryOverAction, pname: string): void {
    if (action === 'exit') {
      void this.stop(1, null);
    } else if (isOsAction(action)) {
      this.persist(true); // on disk before a reboot
      runOsAction(action, { rehearse: this.opts.rehearse, rehearseLog: `${this.opts.runDir}/rehearse.log` }).then(
        (r) => {
          if (r.rehearsed) this.log.notice(`REHEARSE: would ${action}: ${r.command}`);
        },
        (e: unknown) => this.log.crit(`OS action ${action} failed: ${(e as Error).message}`),
      );
    }
    if (action === 'group') this.opts.onGroupRetryOver?.(pname);
    // `none` keeps watching; without a FailSafe daemon, `group` is refused at start-up.
  }

  // ---- state file ---------------------------------------------------------------------

  /** the state file's head: everything but the entries */
  private stateHead(): Omit<StateSnapshot, 'entries'> {
    return { version: 1, pfile: this.pfile.path, pcheckPid: process.pid, writtenAt: Date.now(), bootId: this.bootId };
  }

  private persistSoon(): void {
    this.persistPending ??= setImmediate(() => this.persist());
  }

  /** Writes the state file; a failure is logged once per distinct error (not per attempt:
   *  a full disk must not flood the log), and monitoring goes on. */
  private persist(durableNow = false): void {
    if (this.persistPending) clearImmediate(this.persistPending);
    this.persistPending = null;
    const path = this.pfile.param.shmDumpFile;
    if (path === null) return;
    try {
      // fsynced off the loop, after (state-sync.ts); at stop and before an OS action, now
      writeStateEntries(path, this.stateHead(), this.entries.map((rt) => this.entryJson.of(rt)), { sync: durableNow });
      if (!durableNow) this.syncLater(path);
      if (this.lastPersistError !== null) this.log.notice(`State file ${path} written again`);
      this.lastPersistError = null;
    } catch (e) {
      const m = (e as Error).message;
      if (m !== this.lastPersistError) this.log.err(`Cannot write state file: ${m}`);
      this.lastPersistError = m;
    }
  }

  private syncLater(path: string): void {
    if (this.stateSync?.path !== path) {
      const sync = syncStateFileLater(path, (e) => {
        const m = `Cannot write state file: fsync of ${path} failed: ${e.message}`;
        if (m !== this.lastPersistError) this.log.err(m);
        this.lastPersistError = m;
      });
      this.stateSync = { path, sync };
    }
    this.stateSync.sync.changed();
  }

  /** What the state file of an earlier pcheck says of the entries that still exist: their
   *  counters, and where a restart under way was (with its script, if that still runs). */
  private restoreState(): Map<string, { entry: RestoredEntry; script: RunningScriptId | null }> {
    const out = new Map<string, { entry: RestoredEntry; script: RunningScriptId | null }>();
    const path = this.pfile.param.shmDumpFile;
    if (path === null) return out;
    let r: ReturnType<typeof readStateFile>;
    try {
      r = readStateFile(path);
    } catch (e) {
      // unreadable (EACCES, EIO): monitoring matters more than the counters
      this.log.err(`${(e as Error).message}; starting with zero counters`);
      return out;
    }
    if ('corrupt' in r) {
      this.log.err(`State file ${path} is corrupt (${r.corrupt}); set aside as ${r.movedTo ?? '(could not move)'}; starting with zero counters`);
      return out;
    }
    if ('missing' in r) return out;
    // pids and monotonic times mean nothing after a reboot ('' is an unknown boot: never the same)
    const sameBoot = this.bootId !== '' && r.snapshot.bootId === this.bootId;
    const scripts = new Map(this.pfile.pents.map((p) => [pentSignature(p), p.restartScript]));
    let procs: ProcInfo[] | null = null;
    for (const e of r.snapshot.entries) {
      const rec = sameBoot && e.procSts === 'RESTARTING' ? (e.restart ?? null) : null;
      // the script still runs when a process with its pid AND start time is alive (not a zombie)
      let script = rec?.script && this.opts.table.read(rec.script) !== null ? rec.script : null;
      const path = scripts.get(e.signature);
      if (rec !== null && rec.scriptRunning && rec.script === null && path !== undefined) {
        // killed between starting the script and naming it (a few ms): look for it by its path
        procs ??= this.opts.table.scan();
        script = findScript(procs, path, e.pname, this.clock().mono);
      }
      out.set(e.signature, {
        script,
        entry: {
          retryCount: e.retryCount,
          restartCount: e.restartCount,
          rerunTime: e.rerunTime,
          monitorSts: e.monitorSts,
          sameBoot,
          // a file of an older version has no restart record: its restart is treated as done
          procSts: e.procSts === 'RESTARTING' && rec === null ? 'WAIT' : e.procSts,
          pid: e.pid,
          startTime: e.startTime,
          upSinceMono: sameBoot ? e.upSinceMono : null,
          scriptRunning: rec?.scriptRunning ?? false,
          deadlineMono: rec?.deadlineMono ?? null,
          liveScript: script === null ? null : { pid: script.pid, startTime: script.startTime },
        },
      });
    }
    return out;
  }

  // ---- padmin -------------------------------------------------------------------------

  private onRequest(req: ControlRequest): ControlResponse {
    let cmd: PadminCommand;
    try {
      cmd = parseCommand(req.command);
    } catch (e) {
      if (e instanceof CommandError) return { ok: false, code: ErrorCode.UNKNOWN_COMMAND, error: e.message };
      throw e;
    }
    switch (cmd.kind) {
      case 'show pent': {
        // padmin asks for one form: text, or JSON (`--json`); both when it does not say
        const format = req.args?.format;
        const views = this.entries.map(pentView);
        if (format === 'json') return { ok: true, data: views };
        if (format === 'text') return { ok: true, text: formatShowPent(views) };
        return { ok: true, text: formatShowPent(views), data: views };
      }
      case 'show param': {
        const watch = deathWatchOf(this.opts.watcher);
        const data = { ...this.pfile.param, deathWatch: watch.mode, deathWatchReason: watch.reason, nativeAddon: nativeAddonFile() };
        return { ok: true, text: formatShowParam(this.pfile.param, [['DEATH_WATCH', deathWatchText(watch)]]), data };
      }
      case 'info':
        return {
          ok: true,
          data: { pfile: this.pfile.path, pid: process.pid, ipckey: this.pfile.param.ipckeyText, entries: this.entries.length, deathWatch: this.opts.watcher.mode },
        };
      case 'stop':
      case 'start':
        this.executeCommand(cmd.kind);
        for (const rt of [...this.entries]) this.dispatch(rt, { type: cmd.kind === 'stop' ? 'monitorOff' : 'monitorOn' });
        return { ok: true, text: `monitoring ${cmd.kind === 'stop' ? 'stopped' : 'started'} for ${this.entries.length} entries` };
      case 'reload':
        return this.reload('padmin');
      case 'stop pent':
      case 'start pent':
      case 'reset pent': {
        const rt = this.entries.find((e) => e.pent.id === cmd.id);
        if (!rt) {
          return { ok: false, code: ErrorCode.BAD_ARGUMENT, error: `no entry with pent_id ${cmd.id}; this pfile has pent_id 1 to ${this.entries.length}` };
        }
        this.executeCommand(`${cmd.kind} ${cmd.id}`);
        const type = cmd.kind === 'stop pent' ? 'monitorOff' : cmd.kind === 'start pent' ? 'monitorOn' : 'reset';
        this.dispatch(rt, { type });
        return { ok: true, text: formatShowPent([pentView(rt)]), data: pentView(rt) };
      }
    }
  }

  private executeCommand(what: string): void {
    this.log.notice(`Command execute. [${what}] pfile='${this.pfile.path}'`);
  }

  /** Re-reads the pfile. A bad one is refused and the running configuration stays. */
  reload(by: 'padmin' | 'SIGHUP'): ControlResponse {
    // a SIGHUP right after SIGTERM: nothing to reload, and no line may follow `Stop pcheck!!`
    if (this.stopping) return { ok: false, code: ErrorCode.REFUSED, error: 'pcheck is stopping' };
    let next: Pfile;
    try {
      next = this.opts.loadPfile(this.pfile.path);
      if (next.param.ipckey !== this.pfile.param.ipckey) {
        throw new Error(`IPCKEY changed from ${this.pfile.param.ipckeyText} to ${next.param.ipckeyText}; restart pcheck to change it`);
      }
      const pnames = next.pents.filter((p) => p.retryOverAction === 'group');
      if (pnames.length > 0) throw new Error(`line ${pnames[0].line}: retry_over_action group needs FailSafe mode (pcheck --config)`);
    } catch (e) {
      const m = (e as Error).message;
      this.log.err(`Reload refused (${by}): ${m}; the running configuration stays`);
      return { ok: false, code: ErrorCode.REFUSED, error: m };
    }
    this.executeCommand('reload');
    const old = new Map(this.entries.map((rt) => [rt.signature, rt]));
    const now = this.clock();
    const kept: EntryRuntime[] = [];
    for (const pent of next.pents) {
      const prev = old.get(pentSignature(pent));
      if (prev) {
        // the same entry: it keeps its state, its death watch and its running script
        old.delete(prev.signature);
        prev.pent = pent;
        prev.cfg = entryConfig(pent, next.param);
        kept.push(prev);
      } else {
        const rt = newRuntime(pent, next.param, initialState());
        rt.state = startEntry(rt.cfg, now).state;
        kept.push(rt);
      }
    }
    for (const gone of old.values()) {
      gone.unwatch?.();
      gone.stopAwait?.();
    }
    const intervalChanged = next.param.monitorInterval !== this.pfile.param.monitorInterval;
    this.pfile = next;
    this.entries = kept;
    if (intervalChanged) {
      this.armScanTimer();
      this.sd.setMonitorInterval(next.param.monitorInterval);
    }
    this.sd.changed();
    this.log.info(`Reloaded pfile='${next.path}': ${kept.length} entries`);
    this.scan();
    this.persist();
    this.armDeadline();
    this.seekSoon();
    return { ok: true, text: `reloaded ${next.path}: ${kept.length} entries` };
  }

  // ---- stop ---------------------------------------------------------------------------

  private async stop(code: number, lastLine: string | null): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.sd.stopping(code === 0 ? 'on signal' : 'retry-over exit');
    for (const t of [this.deadlineTimer, this.seekTimer]) if (t) clearTimeout(t);
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.opts.watcher.close();
    for (const rt of this.entries) rt.stopAwait?.();
    this.persist(true);
    await this.control?.close().catch(() => undefined);
    if (lastLine !== null) this.log.notice(lastLine);
    this.finish(code);
  }
}

/** The oldest live process running the restart script at `path` for `pname`: its argv names the
 *  script (`/bin/bash PATH`, `env bash PATH` or PATH itself) and its environment has PS_PNAME (a
 *  script shared by several entries runs for each with its own), as a RunningScriptId. */
function findScript(procs: ProcInfo[], path: string, pname: string, nowMono: number): RunningScriptId | null {
  const best = selectOldest(procs, (p) => p.argv.includes(path) && readEnviron(p.pid)?.includes(`PS_PNAME=${pname}`) !== false);
  if (best === null) return null;
  // start times are clock ticks since boot: the monotonic clock, but for time spent suspended
  return { pid: best.pid, startTime: best.startTime, startedMono: Math.min(nowMono, (best.startTime * 1000) / CLK_TCK) };
}
