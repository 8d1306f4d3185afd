// The restart scripts of one entry set: started through the shared queue (after the workers of
// the dead program are gone), their output logged head and tail, killed at their timeout without
// the program they started (SPEC §10 "Never kill what is Up"); a script the previous pcheck
// started is awaited by pid and start time; and when pcheck stops, nothing starts afterwards:
// queued scripts are dropped and running ones stopped (SPEC §10 "Nothing starts after pcheck
// has stopped").
import { scriptWanted } from '../../core/entry-machine';
import { type EntryEvent } from '../../core/entry-model';
import type { PfileParam } from '../../core/model';
import { ScriptOutput, type OutputLine } from '../../core/script-output';
import { scriptLogEnv } from '../../control/script-log';
import { runScript } from '../../exec/run-script';
import { ScriptOutputDir } from '../../exec/script-output-dir';
import { readStat } from '../../proc/proc-stat';
import { killScriptTree, type TreeKill } from '../../proc/script-tree';
import type { ProcId } from '../../proc/types';
import type { RunningScriptId } from '../../state/state-file';
import { programIdentity, type EntryRuntime } from './entry-runtime';
import type { ScriptOwner } from './script-queue';
import type { EntryServices } from './services';

/** The entry set the scripts belong to. */
export interface ScriptHost extends ScriptOwner {
  readonly services: EntryServices;
  /** the control socket clplogcmd writes to (PS_SOCKET) */
  readonly socket: string;
  param(): PfileParam;
  has(rt: EntryRuntime): boolean;
  readonly stopped: boolean;
  dispatch(rt: EntryRuntime, e: EntryEvent): void;
  /** pids no script kill may touch: every entry's program, in every set */
  taken(): Set<number>;
  /** where the scripts write (null: pipes) */
  outputDir(): ScriptOutputDir | null;
}

export class RestartScripts {
  constructor(private readonly host: ScriptHost) {}

  private get s(): EntryServices {
    return this.host.services;
  }

  /** Queues the entry's restart script. The workers of the dead program hold its ports, a
   *  pidfile check takes its unreaped zombie for a running copy, and another pcheck may be
   *  restarting the same program: the new one starts once they are gone (and that one decided). */
  start(rt: EntryRuntime, env: Record<string, string>): void {
    const queue = (): void => this.s.scripts.push(this.host, rt, () => this.spawn(rt, env));
    const waits = [rt.clearing, this.s.reaps.before(rt, rt.pent.pname), this.lockBefore(rt)].filter((p) => p !== null);
    if (waits.length === 0) return queue();
    const gate: Promise<void> = Promise.all(waits).then(() => {
      if (rt.clearing === gate) rt.clearing = null;
    });
    rt.clearing = gate;
    void gate.then(queue);
  }

  /** The host-wide restart lock of rt's program (restart-lock.ts): null when taken at once; else
   *  the wait for it, after which the program is looked for (the other pcheck's copy). */
  private lockBefore(rt: EntryRuntime): Promise<void> | null {
    const wanted = () => !this.host.stopped && this.host.has(rt) && scriptWanted(rt.state);
    const told = (holder: string) => this.s.log.notice(`(${rt.pent.pname}) ${holder} restarts the same program: this restart script waits for its outcome`);
    return this.s.locks.before(rt, programIdentity(rt), wanted, told)?.then((waited) => void (waited && wanted() && this.s.scanner.scan())) ?? null;
  }

  private timeoutSec(rt: EntryRuntime): number {
    return rt.pent.scriptTimeout ?? this.host.param().scriptTimeout;
  }

  private spawn(rt: EntryRuntime, env: Record<string, string>): void {
    if (!this.host.has(rt)) return; // removed by a reload while queued
    // held back (reap, workers, lock, queue): found meanwhile, or monitoring turned off → not run
    if (!scriptWanted(rt.state)) return this.host.dispatch(rt, { type: 'scriptSkipped' });
    this.s.scripts.started();
    const pname = rt.pent.pname;
    const output = new ScriptOutput();
    const dir = this.host.outputDir();
    const logLine = (l: OutputLine) => this.s.log.log(l.stream === 'stderr' ? 'warning' : 'info', `(${pname}) script: ${l.text}`);
    /** at a timeout: what was spared (the program the script started) */
    let kept: number[] = [];
    const run = runScript({
      path: rt.pent.restartScript,
      env: { ...env, ...scriptLogEnv(this.host.socket) }, // clplogcmd writes to this pcheck's log
      timeoutMs: this.timeoutSec(rt) * 1000,
      // every line is read, but only the head and the tail are logged (ScriptOutput): megabytes
      // of output must not bury pcheck's own lines
      maxOutputBytes: Infinity,
      // files, not pipes: the program the script starts may write to them after pcheck is gone
      output: dir
        ? { dir, name: ScriptOutputDir.pairName(rt.signature, pname), onFallback: (why) => this.s.log.warning(`(${pname}) ${why}: this run of the script writes to pipes`) }
        : undefined,
      onLine: (stream, text) => {
        const line = output.add({ stream, text });
        if (line) logLine(line);
      },
      // at the timeout: the script and what it started, never the program it started (Up)
      kill: (pid) => {
        kept = this.end(pid).spared;
      },
    });
    // its identity for the state file (written by the queue right after this)
    const stat = run.pid === null ? null : readStat(run.pid);
    const mine: RunningScriptId | null = run.pid !== null && stat !== null ? { pid: run.pid, startTime: stat.startTime, startedMono: this.s.clock().mono } : null;
    if (mine) rt.script = mine;
    const running = run.pid === null ? null : { pid: run.pid, done: run.done };
    rt.running = running;
    void run.done.then((r) => {
      for (const l of output.end()) logLine(l);
      this.s.scripts.exited();
      if (rt.script === mine) rt.script = null;
      if (rt.running === running) rt.running = null;
      this.host.dispatch(rt, { type: 'scriptExited', code: r.code, signal: r.signal, timedOut: r.timedOut, spawnError: r.spawnError, kept });
    });
  }

  /**
   * Waits for a restart script that the previous pcheck started and that outlived it: its death
   * (pid and start time, so never another process on a reused pid) ends the wait; at the script
   * timeout, counted from its start, it is ended as ours would be.
   */
  await(rt: EntryRuntime, id: ProcId): void {
    rt.stopAwait?.();
    const startedMono = rt.script?.pid === id.pid ? rt.script.startedMono : this.s.clock().mono;
    rt.script = { ...id, startedMono };
    let timedOut = false;
    let kept: number[] = [];
    const left = Math.max(0, startedMono + this.timeoutSec(rt) * 1000 - this.s.clock().mono);
    const timer = setTimeout(
      () => {
        // still that script (not a process that took its pid): end it as runScript would ours
        if (this.s.table.read(id) === null) return;
        timedOut = true;
        kept = this.end(id.pid).spared;
      },
      Math.min(left, 2 ** 31 - 1),
    );
    // stops waiting (pcheck stops, a reload drops the entry); the script stays in the state file
    const stop = (): void => {
      clearTimeout(timer);
      unwatch();
      if (rt.stopAwait === stop) rt.stopAwait = null;
    };
    const unwatch = this.s.watcher.watch(id, () => {
      if (rt.stopAwait !== stop) return;
      stop();
      if (rt.script?.pid === id.pid) rt.script = null;
      this.host.dispatch(rt, { type: 'scriptGone', pid: id.pid, timedOut, kept });
    });
    rt.stopAwait = stop;
  }

  /** A script that outlived its timeout: first adopt what runs (a program the script started
   *  that no scan has seen yet), then kill the script and what it started, never a program
   *  that an entry watches, nor that program's descendants. */
  private end(pid: number): TreeKill {
    if (!this.host.stopped) this.s.scanner.scan();
    return killScriptTree(pid, this.host.taken());
  }

  /**
   * The set stops (pcheck stops; its pfile is removed): nothing may start afterwards. Its queued
   * restarts are dropped; running restart scripts (ours, and the previous pcheck's we await) are
   * killed with what they started, sparing every program that runs (adopted, or found now).
   * Returns the exits of our killed scripts (their last output is logged).
   */
  stopAll(entries: readonly EntryRuntime[], seeking: () => Set<number>): Promise<unknown>[] {
    const queued = this.s.scripts.drop(this.host);
    const dropped = [...new Set([...queued, ...entries.filter((rt) => rt.state.pendingEnv !== null || rt.clearing !== null)])];
    const log = this.s.log;
    if (dropped.length > 0) {
      const names = dropped.slice(0, 5).map((rt) => `(${rt.pent.pname})`).join(' ');
      log.notice(`Restart scripts not started, pcheck stops: ${names}${dropped.length > 5 ? ` and ${dropped.length - 5} more` : ''}`);
    }
    const live = entries.filter((rt) => rt.script !== null && this.s.table.read(rt.script) !== null);
    if (live.length === 0) return [];
    const spare = this.host.taken();
    for (const pid of seeking()) spare.add(pid);
    const waits: Promise<unknown>[] = [];
    for (const rt of live) {
      const id = rt.script!;
      const r = killScriptTree(id.pid, spare);
      const kept = r.spared.length > 0 ? `; kept pid=${r.spared.join(',')}: a program that runs, and its children` : '';
      log.notice(`(${rt.pent.pname}) restart script (pid=${id.pid}) stopped, pcheck stops: killed pid=${r.killed.join(',') || '-'}${kept}`);
      if (rt.running !== null) waits.push(rt.running.done);
      rt.stopAwait?.();
    }
    return waits;
  }
}
