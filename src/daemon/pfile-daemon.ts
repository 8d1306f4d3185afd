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
  scriptWanted,
  startEntry,
  step,
} from '../core/entry-machine';
import { pentSignature, type Pent, type Pfile, type PfileParam } from '../core/model';
import { metricsChangeOnReload } from '../config/pfile-metrics';
import { isOsAction, type RetryOverAction } from '../core/states';
import { freshReason, resumedEntry, type PcheckEnd } from '../core/resume-policy';
import type { Logger } from '../log/logger';
import type { DeathWatcher, ProcId, ProcInfo, ProcessTable } from '../proc/types';
import { runScript } from '../exec/run-script';
import { openScriptOutputDir, ScriptOutputDir } from '../exec/script-output-dir';
import { endProcesses } from '../proc/end-processes';
import { killScriptTree, type TreeKill } from '../proc/script-tree';
import { lookAfterDeaths, refreshProgram } from './death-look';
import { ReapGate } from './reap-gate';
import { RestartLock } from './restart-lock';
import { ScriptOutput, type OutputLine } from '../core/script-output';
import { CLK_TCK, readEnviron, readStat } from '../proc/proc-table';
import { selectOldest } from '../proc/match';
import { runOsAction } from '../exec/os-action';
import { readBootId, readStateFile, writeStateEntries, type RunningScriptId, type StateSnapshot } from '../state/state-file';
import { EntryJson } from './state-entries';
import { syncStateFileLater, type StateSync } from '../state/state-sync';
import { claimStateFile, type StateClaim } from '../state/state-claim';
import { sameFile } from '../config/same-file';
import { loadNative } from '../native/index';
import { startControlServer } from '../control/server';
import { scriptLogEnv, withScriptLog } from '../control/script-log';
import { ControlErrorCode as ErrorCode, socketPath, type ControlRequest, type ControlResponse } from '../control/protocol';
import { formatShowParam, formatShowPent, type PentView } from '../cli/format';
import { systemClock } from './clock';
import { CommandError, parseCommand, type PadminCommand } from './commands';
import { newRuntime, pentView, programIdentity, retarget, type Adopted, type EntryRuntime } from './entry-runtime';
import { findForEntries, lookedFor, tellWatchedElsewhere } from './scan-index';
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

/** An entry as the previous pcheck left it; `resumed`: its counters are taken over. */
interface Restored {
  entry: RestoredEntry;
  script: RunningScriptId | null;
  resumed: boolean;
}

const SEEK_FIRST_MS = 5;
const SEEK_MAX_MS = 200;
/** Restart scripts running at once; more wait in a queue (a mass death must not fork-bomb the host). */
export const MAX_CONCURRENT_SCRIPTS = 32;
const SCRIPTS_PER_TURN = 4;
/** Workers a dead program left get this long to end after SIGTERM, then SIGKILL (and 1 s more). */
export const WORKER_TERM_MS = 1000;
/** How often the state of processes with hang_timeout is read. */
const HANG_SAMPLE_MS = 1000;
/** On stop, how long pcheck waits for the scripts it killed to be reaped (their last output). */
const STOP_SCRIPTS_WAIT_MS = 1000;

export class PfileDaemon {
  private pfile: Pfile;
  /** the METRICS_* keys the /metrics listener runs with: those of the start */
  private readonly metricsParam: PfileParam;
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
  /** where restart scripts write (null: pipes) */
  private outputDir: ScriptOutputDir | null = null;
  private lastPersistError: string | null = null;
  private persistPending: NodeJS.Immediate | null = null;
  private readonly entryJson = new EntryJson();
  /** fsyncs the state file off the loop (state-sync.ts), for the current SHM_DUMP_FILE */
  private stateSync: { path: string; sync: StateSync } | null = null;
  private readonly scriptQueue: { rt: EntryRuntime; start: () => void }[] = [];
  private scriptsRunning = 0;
  private drainPending = false;
  private stopping = false;
  /** how this pcheck ends, for the last write of the state file (null while it runs) */
  private ended: PcheckEnd | null = null;
  /** entries whose process died in this loop turn: looked at together (one scan) */
  private readonly deaths = new Map<EntryRuntime, boolean>();
  private deathsPending = false;
  private hangTimer: NodeJS.Timeout | null = null;
  /** a restart script waits for the reap of the dead process it replaces */
  private readonly reapGate: ReapGate<EntryRuntime>;
  /** one restart at a time per program, host-wide: another pcheck may watch it too */
  private readonly restartLock: RestartLock<EntryRuntime>;
  /** pids of workers being ended: never adopted meanwhile (they match their entry) */
  private readonly ending = new Set<number>();
  private finish: (code: number) => void = () => undefined;
  readonly socket: string;
  private readonly sd: SystemdLink;

  constructor(private readonly opts: PfileDaemonOptions) {
    this.pfile = opts.pfile;
    this.metricsParam = opts.pfile.param;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.reapGate = new ReapGate(opts.logger, () => this.stopping);
    const native = loadNative();
    this.restartLock = new RestartLock({
      lock: native?.flockExclusive ? (fd) => native.flockExclusive!(fd) : null,
      me: `pcheck pid ${process.pid} (pfile ${opts.pfile.path})`,
      warn: (m) => this.log.warning(m),
    });
    this.socket = socketPath(opts.runDir, opts.pfile.param.ipckey);
    this.sd = createSystemdLink({
      notifier: opts.notifier ?? null,
      status: () => formatStatus(this.entries.map(pentView)) + deathWatchStatus(deathWatchOf(opts.watcher)),
      monitorIntervalSec: opts.pfile.param.monitorInterval,
      warn: (m) => this.log.warning(m),
    });
  }

  private markStarted: () => void = () => undefined;
  private failStarted: (e: unknown) => void = () => undefined;
  private readonly startedP = new Promise<void>((resolve, reject) => {
    this.markStarted = resolve;
    this.failStarted = reject;
  });
  /** this pcheck's hold on its state file: no other pcheck may write it */
  private claim: StateClaim | null = null;

  /** Resolves once run() is monitoring (its control socket answers). */
  started(): Promise<void> {
    return this.startedP;
  }

  /** Claims the pfile's state file (before reading it); throws a ConfigError when another pcheck holds it. */
  private claimState(pfile: Pfile): StateClaim | null {
    const path = pfile.param.shmDumpFile;
    if (path === null) return null;
    const native = loadNative();
    const me = { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? 0, bootId: this.bootId, pfile: pfile.path, ipckey: pfile.param.ipckeyText };
    const claim = claimStateFile(path, me, {
      lock: native?.flockExclusive ? (fd) => native.flockExclusive!(fd) : null,
      isAlive: (h) => h.bootId !== '' && h.bootId === this.bootId && this.opts.table.read(h) !== null,
    });
    if (claim.warning !== null) this.log.warning(claim.warning);
    return claim;
  }

  views(): PentView[] {
    return this.entries.map(pentView);
  }

  /** Starts monitoring; resolves with pcheck's exit code once it stops. */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    try {
      this.control = await startControlServer(this.socket, withScriptLog(this.log, (req) => this.onRequest(req)));
      this.claim = this.claimState(this.pfile);
    } catch (e) {
      await this.control?.close();
      this.startedP.catch(() => undefined); // nobody need wait for started(): run() throws
      this.failStarted(e);
      throw e;
    }
    this.outputDir = openScriptOutputDir(this.opts.runDir, `pcheck-0x${this.pfile.param.ipckey.toString(16).padStart(8, '0')}`, (m) => this.log.warning(m));
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
      if (r?.resumed) this.log.info(`(${pent.pname}) restored: retry_count=${rt.state.retryCount} restart_count=${rt.state.restartCount} monitor_sts=${rt.state.monitorSts}`);
      else if (r && rt.state.monitorSts === 'off') this.log.info(`(${pent.pname}) restored: monitor_sts=off (padmin start pent ${pent.id} turns it on)`);
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
    await this.stop(0, null, 'stopped');
  }

  /** SIGTERM / SIGINT: stop monitoring, leave the watched processes running, exit 0. */
  async stopOnSignal(name: 'SIGTERM' | 'SIGINT', num: number): Promise<void> {
    if (this.stopping) return;
    this.log.notice(`${name} Catch (${num})!!`);
    await this.stop(0, 'Stop pcheck!!', name);
  }

  // ---- events in ----------------------------------------------------------------------

  private dispatch(rt: EntryRuntime, event: EntryEvent): void {
    if (this.stopping || !this.entries.includes(rt)) return;
    const before = rt.state;
    const now = this.clock();
    const r = step(before, event, rt.cfg, now);
    rt.state = r.state;
    if (r.state.procSts !== 'RESTARTING') this.restartLock.release(rt); // the restart is decided
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
    // a process found during its restart script exited before the script ended: the same
    // restart goes on (no new Down, no new restart)
    if (before.procSts === 'AVAIL' && after.procSts === 'RESTARTING' && after.restartCount === before.restartCount) return;
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
    // a full scan resolves pname again: an upgrade may have re-pointed its symlink
    if (!quick) seeking.forEach(refreshProgram);
    // a full scan reads every process (recheckSince -Infinity), and the candidates' argv afresh
    const opts = { recheck: lookedFor(seeking), recheckSince: quick ? (this.seekSince ?? performance.now()) : -Infinity };
    const procs = this.opts.table.scan(opts);
    const watchers = new Map<number, EntryRuntime>();
    for (const rt of this.entries) if (rt.state.pid !== null) watchers.set(rt.state.pid, rt);
    // a process another entry watches is never adopted; workers being ended are nobody's
    const looked = findForEntries(seeking, this.ending.size === 0 ? procs : procs.filter((p) => !this.ending.has(p.pid)), (pid) => watchers.get(pid));
    this.lastScanMs = performance.now() - t0;
    for (const [rt, b] of looked.blocked) tellWatchedElsewhere(rt, b.proc, b.by, this.log);
    for (const [rt, p] of looked.adopt) this.dispatch(rt, { type: 'found', pid: p.pid, startTime: p.startTime });
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
        rt.watched = adopted(this.opts.table, a);
        this.reapGate.forget(rt); // a process runs: an earlier death holds back no script
        const unwatch = this.opts.watcher.watch({ pid: a.pid, startTime: a.startTime }, (info) => {
          if (rt.unwatch !== unwatch) return; // a stale watch of an earlier pid
          rt.unwatch = null;
          if (info.detectedWithinMs !== null && this.detections.length < 10_000) this.detections.push(info.detectedWithinMs / 1000);
          this.onDeath(rt, rt.state.provisional === true && rt.state.scriptRunning);
        });
        rt.unwatch = unwatch;
        this.armHangSampler();
        return;
      }
      case 'endWorkers':
        this.endWorkers(rt, a.workers);
        return;
      case 'kill':
        // the hung process, if it is still that one: its death comes back through the watch
        if (this.opts.table.read(a) !== null) {
          try {
            process.kill(a.pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        return;
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
    const queue = (): void => {
      this.scriptQueue.push({ rt, start: () => this.spawnScript(rt, env) });
      this.drainScripts();
    };
    // the workers of the dead program hold its ports, and a pidfile check takes its unreaped
    // zombie for a running copy: the new one starts once they are gone
    const waits = [rt.clearing, this.reapGate.before(rt, rt.pent.pname), this.lockBefore(rt)].filter((p) => p !== null);
    if (waits.length === 0) return queue();
    const gate: Promise<void> = Promise.all(waits).then(() => {
      if (rt.clearing === gate) rt.clearing = null;
    });
    rt.clearing = gate;
    void gate.then(queue);
  }

  /** The host-wide restart lock of rt's program (src/daemon/restart-lock.ts): null when taken at
   *  once; else the wait for it, after which the program is looked for (the other pcheck's copy). */
  private lockBefore(rt: EntryRuntime): Promise<void> | null {
    const wanted = () => !this.stopping && this.entries.includes(rt) && scriptWanted(rt.state);
    const told = (holder: string) => this.log.notice(`(${rt.pent.pname}) ${holder} restarts the same program: this restart script waits for its outcome`);
    return this.restartLock.before(rt, programIdentity(rt), wanted, told)?.then((waited) => void (waited && wanted() && this.scan())) ?? null;
  }

  /** Starts queued scripts a few per loop turn: a fork costs milliseconds, and the death
   *  events of a mass kill must be read (and logged Down) in between, not after 32 forks. */
  private drainScripts(): void {
    if (this.drainPending) return;
    this.drainPending = true;
    setImmediate(() => this.drainNow());
  }

  /** Starts up to SCRIPTS_PER_TURN queued scripts now. Called from the deferred drain, and at
   *  the end of a batch of deaths (already a loop turn after them: the Down lines are out). */
  private drainNow(): void {
    this.drainPending = false;
    // the entries' RESTARTING is on disk before their scripts start (a pcheck started after
    // this one is killed must not run them again)
    if (this.persistPending) this.persist();
    let started = 0;
    while (this.scriptsRunning < MAX_CONCURRENT_SCRIPTS && this.scriptQueue.length > 0 && !this.stopping && started < SCRIPTS_PER_TURN) {
      this.scriptQueue.shift()!.start();
      started++;
    }
    // name the new scripts in the state file, so that such a pcheck waits for them (until then
    // it finds them by path and PS_PNAME): in the next turn, with its deaths, one write a turn
    if (started > 0) this.persistSoon();
    if (this.scriptQueue.length > 0 && this.scriptsRunning < MAX_CONCURRENT_SCRIPTS) this.drainScripts();
  }

  private spawnScript(rt: EntryRuntime, env: Record<string, string>): void {
    if (!this.entries.includes(rt)) return; // removed by a reload while queued
    // held back (reap, workers, queue): found meanwhile, or monitoring turned off → not run
    if (!scriptWanted(rt.state)) return this.dispatch(rt, { type: 'scriptSkipped' });
    this.scriptsRunning++;
    const timeout = rt.pent.scriptTimeout ?? this.pfile.param.scriptTimeout;
    const pname = rt.pent.pname;
    const output = new ScriptOutput();
    const logLine = (l: OutputLine) => this.log.log(l.stream === 'stderr' ? 'warning' : 'info', `(${pname}) script: ${l.text}`);
    /** at a timeout: what was spared (the program the script started) */
    let kept: number[] = [];
    const run = runScript({
      path: rt.pent.restartScript,
      env: { ...env, ...scriptLogEnv(this.socket) }, // clplogcmd writes to this pcheck's log
      timeoutMs: timeout * 1000,
      // every line is read, but only the head and the tail are logged (ScriptOutput): megabytes
      // of output must not bury pcheck's own lines
      maxOutputBytes: Infinity,
      // files, not pipes: the program the script starts may write to them after pcheck is gone
      output: this.outputDir
        ? { dir: this.outputDir, name: ScriptOutputDir.pairName(rt.signature, pname), onFallback: (why) => this.log.warning(`(${pname}) ${why}: this run of the script writes to pipes`) }
        : undefined,
      onLine: (stream, text) => {
        const line = output.add({ stream, text });
        if (line) logLine(line);
      },
      // at the timeout: the script and what it started, never the program it started (Up)
      kill: (pid) => {
        kept = this.endScript(pid).spared;
      },
    });
    // its identity for the state file (written in the next loop turn, see drainNow)
    const stat = run.pid === null ? null : readStat(run.pid);
    const mine: RunningScriptId | null = run.pid !== null && stat !== null ? { pid: run.pid, startTime: stat.startTime, startedMono: this.clock().mono } : null;
    if (mine) rt.script = mine;
    const running = run.pid === null ? null : { pid: run.pid, done: run.done };
    rt.running = running;
    void run.done.then((r) => {
      for (const l of output.end()) logLine(l);
      this.scriptsRunning--;
      if (rt.script === mine) rt.script = null;
      if (rt.running === running) rt.running = null;
      this.drainScripts();
      this.dispatch(rt, { type: 'scriptExited', code: r.code, signal: r.signal, timedOut: r.timedOut, spawnError: r.spawnError, kept });
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
    let kept: number[] = [];
    const timeoutMs = (rt.pent.scriptTimeout ?? this.pfile.param.scriptTimeout) * 1000;
    const left = Math.max(0, startedMono + timeoutMs - this.clock().mono);
    const timer = setTimeout(
      () => {
        // still that script (not a process that took its pid): end it as runScript would ours
        if (this.opts.table.read(id) === null) return;
        timedOut = true;
        kept = this.endScript(id.pid).spared;
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
      this.dispatch(rt, { type: 'scriptGone', pid: id.pid, timedOut, kept });
    });
    rt.stopAwait = stop;
  }

  // ---- deaths, workers, hangs ----------------------------------------------------------

  /** The deaths of one loop turn are looked at together, after one quick scan (a mass death
   *  costs one scan, not one per entry): what else of each program runs decides the event. */
  private onDeath(rt: EntryRuntime, duringScript: boolean): void {
    this.deaths.set(rt, duringScript);
    if (this.deathsPending) return;
    this.deathsPending = true;
    setImmediate(() => {
      this.deathsPending = false;
      const during = new Map(this.deaths);
      const dead = [...this.deaths.keys()].filter((d) => this.entries.includes(d) && d.state.procSts === 'AVAIL');
      this.deaths.clear();
      if (this.stopping || dead.length === 0) return;
      let looks: ReturnType<typeof lookAfterDeaths> = new Map();
      try {
        looks = lookAfterDeaths(dead, this.opts.table, this.watchedPids());
      } catch (e) {
        this.log.err(`Cannot look for what runs after a death (${(e as Error).message}); restarting as usual`);
      }
      for (const d of dead) {
        const look = looks.get(d);
        if (d.watched) this.reapGate.died(d, { pid: d.watched.pid, startTime: d.watched.startTime });
        d.watched = null;
        this.dispatch(d, { type: 'died', successor: look?.successor ?? null, workers: look?.workers ?? [], duringScript: during.get(d) ?? false });
      }
      // the restarts of this batch start now, not a loop turn later (the look costs no heal time);
      // the new counters are on disk first, as dispatch() promises: a pcheck killed right after
      // the fork must find the restart under way, not the entry still AVAIL
      if (this.drainPending) {
        this.persist();
        this.drainNow();
      }
    });
  }

  /** The pids entries watch now: never another entry's successor or worker, never killed with a script. */
  private watchedPids(): Set<number> {
    const pids = new Set<number>(this.ending);
    for (const rt of this.entries) if (rt.state.pid !== null) pids.add(rt.state.pid);
    return pids;
  }

  /** Ends the processes a dead program left in its session (they hold its ports); the entry's
   *  next script waits for this (startScript). */
  private endWorkers(rt: EntryRuntime, workers: ProcId[]): void {
    const pname = rt.pent.pname;
    const pids = workers.map((w) => w.pid).join(',');
    this.log.notice(`(${pname}) ending what the dead process left in its session (it may hold the program's ports): pid=${pids}`);
    for (const w of workers) this.ending.add(w.pid);
    const opts = { watcher: this.opts.watcher, table: this.opts.table, graceMs: WORKER_TERM_MS, killWaitMs: 1000 };
    const clearing = endProcesses(workers, opts).then(
      (r) => {
        if (this.stopping) return;
        const how = [
          ...(r.terminated.length > 0 ? [`pid=${r.terminated.join(',')} by SIGTERM`] : []),
          ...(r.killed.length > 0 ? [`pid=${r.killed.join(',')} by SIGKILL (still there ${WORKER_TERM_MS / 1000}s after SIGTERM)`] : []),
        ];
        this.log.notice(`(${pname}) ended ${how.length > 0 ? how.join(', ') : 'nothing: they were gone'}`);
      },
      (e: unknown) => this.log.err(`(${pname}) could not end pid=${pids}: ${(e as Error).message}`),
    );
    const done = clearing.finally(() => {
      for (const w of workers) this.ending.delete(w.pid);
      if (rt.clearing === done) rt.clearing = null;
    });
    rt.clearing = done;
  }

  /** Samples, about every second, the state of watched processes whose entry has hang_timeout. */
  private armHangSampler(): void {
    if (this.hangTimer !== null || this.stopping || !this.entries.some((rt) => rt.pent.hangTimeout !== null)) return;
    this.hangTimer = setInterval(() => {
      const sampled = this.entries.filter((rt) => rt.pent.hangTimeout !== null);
      if (sampled.length === 0 && this.hangTimer !== null) {
        clearInterval(this.hangTimer); // a reload took the option away
        this.hangTimer = null;
      }
      for (const rt of sampled) {
        const { procSts, pid, startTime } = rt.state;
        if (procSts !== 'AVAIL' || pid === null) continue;
        const st = readStat(pid);
        if (st !== null && st.startTime === startTime) this.dispatch(rt, { type: 'sample', state: st.state });
      }
    }, HANG_SAMPLE_MS);
  }

  // ---- ending scripts -------------------------------------------------------------------

  /** A script that outlived its timeout: first adopt what runs (a program the script started
   *  that no scan has seen yet), then kill the script and what it started, never a program
   *  that an entry watches, nor that program's descendants. */
  private endScript(pid: number): TreeKill {
    if (!this.stopping) this.scan();
    return killScriptTree(pid, this.watchedPids());
  }

  /**
   * pcheck stops (SIGTERM, retry-over exit, internal error): nothing may start afterwards.
   * Queued restarts are dropped; running restart scripts (ours, and the previous pcheck's we
   * await) are killed with what they started, sparing every program that runs (adopted, or
   * found now). Returns the exits of our killed scripts (their last output is logged).
   */
  stopScripts(): Promise<unknown>[] {
    this.stopping = true;
    const dropped = [...new Set([...this.scriptQueue.splice(0).map((q) => q.rt), ...this.entries.filter((rt) => rt.state.pendingEnv !== null || rt.clearing !== null)])];
    if (dropped.length > 0) {
      const names = dropped.slice(0, 5).map((rt) => `(${rt.pent.pname})`).join(' ');
      this.log.notice(`Restart scripts not started, pcheck stops: ${names}${dropped.length > 5 ? ` and ${dropped.length - 5} more` : ''}`);
    }
    const live = this.entries.filter((rt) => rt.script !== null && this.opts.table.read(rt.script) !== null);
    if (live.length === 0) return [];
    const spare = this.watchedPids();
    const seeking = this.entries.filter((rt) => isSeeking(rt.state));
    for (const p of findForEntries(seeking, this.opts.table.scan()).adopt.values()) spare.add(p.pid);
    const waits: Promise<unknown>[] = [];
    for (const rt of live) {
      const id = rt.script!;
      const r = killScriptTree(id.pid, spare);
      const kept = r.spared.length > 0 ? `; kept pid=${r.spared.join(',')}: a program that runs, and its children` : '';
      this.log.notice(`(${rt.pent.pname}) restart script (pid=${id.pid}) stopped, pcheck stops: killed pid=${r.killed.join(',') || '-'}${kept}`);
      if (rt.running !== null) waits.push(rt.running.done);
      rt.stopAwait?.();
    }
    return waits;
  }

  private retryOver(action: RetryOverAction, pname: string): void {
    if (action === 'exit') {
      void this.stop(1, null, 'RETRY_OVER:EXIT');
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
    return { version: 1, pfile: this.pfile.path, pcheckPid: process.pid, writtenAt: Date.now(), bootId: this.bootId, ended: this.ended };
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
  private restoreState(): Map<string, Restored> {
    const out = new Map<string, Restored>();
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
    if (r.snapshot.pfile !== this.pfile.path) {
      // no live pcheck of that pfile holds it (claimState): this pfile renamed, or one that ran before
      this.log.notice(`State file ${path} was written by the pcheck of pfile ${r.snapshot.pfile}, which no longer runs: this pfile takes it over`);
    }
    // pids and monotonic times mean nothing after a reboot ('' is an unknown boot: never the same)
    const sameBoot = this.bootId !== '' && r.snapshot.bootId === this.bootId;
    const ended = r.snapshot.ended ?? null;
    const fresh = freshReason(ended, sameBoot);
    if (fresh !== null && r.snapshot.entries.length > 0) this.log.notice(`State file ${path} ${fresh}: counters start at 0`);
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
        resumed: fresh === null,
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
    // ended on purpose, or another boot: counters start fresh (src/core/resume-policy.ts)
    for (const v of out.values()) v.entry = resumedEntry(v.entry, ended);
    return out;
  }

  // ---- padmin -------------------------------------------------------------------------

  private onRequest(req: ControlRequest): ControlResponse {
    // padmin names the pfile it means: a pcheck that runs another one does nothing
    const meant = req.args?.pfile;
    if (typeof meant === 'string' && !sameFile(meant, this.pfile.path)) {
      return { ok: false, code: ErrorCode.WRONG_PFILE, error: `this pcheck (pid ${process.pid}) runs pfile ${this.pfile.path}, not ${meant}` };
    }
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
      // another state file: claimed like at start (refused if another pcheck holds it)
      if (next.param.shmDumpFile !== this.pfile.param.shmDumpFile) {
        const claim = this.claimState(next);
        this.claim?.release();
        this.claim = claim;
      }
    } catch (e) {
      const m = (e as Error).message;
      this.log.err(`Reload refused (${by}): ${m}; the running configuration stays`);
      return { ok: false, code: ErrorCode.REFUSED, error: m };
    }
    this.executeCommand('reload');
    const old = new Map(this.entries.map((rt) => [rt.signature, rt]));
    const now = this.clock();
    const same = next.pents.map((pent) => old.get(pentSignature(pent)) ?? null);
    for (const prev of same) if (prev) old.delete(prev.signature);
    const kept = next.pents.map((pent, i): EntryRuntime => {
      // the same entry: it keeps its state, its death watch and its running script
      const prev = same[i] ?? takeRestarting(old, pent);
      if (prev) {
        retarget(prev, pent, next.param);
        return prev;
      }
      const rt = newRuntime(pent, next.param, initialState());
      rt.state = startEntry(rt.cfg, now).state;
      return rt;
    });
    for (const gone of old.values()) {
      this.restartLock.release(gone);
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
    const metricsNote = metricsChangeOnReload(this.metricsParam, next.param);
    if (metricsNote !== null) this.log.warning(`Reload: ${metricsNote}`);
    this.scan();
    this.persist();
    this.armDeadline();
    this.seekSoon();
    return { ok: true, text: `reloaded ${next.path}: ${kept.length} entries${metricsNote === null ? '' : `\n${metricsNote}`}` };
  }

  // ---- stop ---------------------------------------------------------------------------

  private async stop(code: number, lastLine: string | null, ended: PcheckEnd): Promise<void> {
    if (this.stopping) return;
    const killed = this.stopScripts(); // sets stopping: no script starts from here on
    this.ended = ended; // in the last write below: the next pcheck starts fresh
    this.sd.stopping(code === 0 ? 'on signal' : 'retry-over exit');
    for (const t of [this.deadlineTimer, this.seekTimer]) if (t) clearTimeout(t);
    for (const t of [this.scanTimer, this.hangTimer]) if (t) clearInterval(t);
    this.opts.watcher.close();
    this.reapGate.close();
    this.restartLock.close();
    this.outputDir?.close();
    for (const rt of this.entries) rt.stopAwait?.();
    // the killed scripts' last output before the last line (they die at once: SIGKILL)
    if (killed.length > 0) await Promise.race([Promise.all(killed), new Promise((r) => setTimeout(r, STOP_SCRIPTS_WAIT_MS).unref())]);
    this.persist(true);
    this.claim?.release();
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

/** An entry that a reload edits (its options) while its restart is under way (the script runs,
 *  or waits for the reap or the workers): the same program and restart script, so the edited
 *  entry carries that restart on (never a second script and copy; a SIGTERM still stops it). */
function takeRestarting(old: Map<string, EntryRuntime>, pent: Pent): EntryRuntime | null {
  for (const [sig, rt] of old) {
    const underWay = rt.state.procSts === 'RESTARTING' && (rt.state.scriptRunning || rt.clearing !== null);
    if (underWay && rt.pent.pname === pent.pname && rt.pent.restartScript === pent.restartScript) {
      old.delete(sig);
      return rt;
    }
  }
  return null;
}

/** What is known of a process as it is adopted, for the look at its death. */
function adopted(table: ProcessTable, id: ProcId): Adopted {
  const info = table.read(id);
  const st = readStat(id.pid);
  const sid = st !== null && st.startTime === id.startTime ? st.session : null;
  return { pid: id.pid, startTime: id.startTime, argv0: info?.argv[0] ?? null, sid, since: performance.now() };
}
