// A FailSafe group's shell: runs its start/stop commands for the pure group machine.
// The environment carries procsafe's variables and CLUSTERPRO's, so that the start.sh /
// stop.sh operators wrote for CLUSTERPRO / FailSafe (which branch on $CLP_EVENT and exit 1
// with NO_CLP otherwise) run unchanged.
import { groupStep, initialGroupState, type GroupAction, type GroupEvent, type GroupRunState, type ScriptEvent } from '../../core/group-machine';
import type { FinalAction, GroupConfig, GroupState } from '../../core/failsafe-model';
import type { StoppedBy } from '../../core/group-resume';
import { runScript, type ScriptResult } from '../../exec/run-script';
import { ScriptOutputDir } from '../../exec/script-output-dir';
import type { Logger } from '../../log/logger';
import { readStat } from '../../proc/proc-stat';
import { killScriptTree } from '../../proc/script-tree';
import type { ScriptRecord } from '../../state/failsafe-state';
import { systemClock } from '../shared/clock';
import { scriptLogEnv } from '../../control/script-log';

export interface GroupRunnerDeps {
  log: Logger;
  /** where start/stop scripts write: files a program they start can outlive pcheck with (null: pipes) */
  outputDir?: ScriptOutputDir | null;
  onStateChanged(group: string, from: GroupState, to: GroupState): void;
  onFinalAction(group: string, action: FinalAction): void;
  /** the control socket that takes `clplogcmd`'s lines (PS_SOCKET), or null */
  socket?: string | null;
  /** a script started or ended (the state file records the one that runs) */
  onScript?(): void;
}

/**
 * CLUSTERPRO runs an exec resource's start.sh and stop.sh with CLP_EVENT=START on the server
 * the group starts (or stops) normally, FAILOVER on another one; the generated scripts exit 1
 * (NO_CLP) on anything else. procsafe has no other server: START for start, stop and restart
 * scripts alike (SPEC §10), and PS_EVENT says which it is.
 */
export function groupScriptEnv(group: string, event: ScriptEvent, socket: string | null = null): Record<string, string> {
  return {
    PS_EVENT: event,
    PS_GROUP: group,
    // CLUSTERPRO's exec resource variables: this server is the group's home, the disk is fine
    CLP_EVENT: 'START',
    CLP_DISK: 'SUCCESS',
    CLP_SERVER: 'HOME',
    CLP_GROUPNAME: group,
    CLP_RESOURCENAME: `exec-${group}`,
    ...scriptLogEnv(socket),
  };
}

export class GroupRunner {
  run: GroupRunState = initialGroupState();
  /** the last start/stop outcome, for padmin status */
  lastScript = '';
  /** monotonic ms of the last change of state: a check that began before the group came
   *  Online saw the group before its (re)start */
  stateSinceMono = systemClock().mono;
  /** stopped on purpose (the operator, its stop_group final action): nothing but the operator
   *  starts it again, also after a restart of pcheck */
  stoppedBy: StoppedBy | null = null;
  /** the script running now */
  private running: { phase: 'start' | 'stop'; pid: number; startTime: number; done: Promise<ScriptResult> } | null = null;
  /** pcheck stops: no start script runs any more, and a halted start's exit is not fed */
  private halted = false;

  constructor(
    public cfg: GroupConfig,
    private readonly deps: GroupRunnerDeps,
  ) {}

  get state(): GroupState {
    return this.run.state;
  }

  /** The script running now, for the state file. */
  script(): ScriptRecord | null {
    const r = this.running;
    return r === null ? null : { phase: r.phase, pid: r.pid, startTime: r.startTime };
  }

  send(e: GroupEvent): void {
    const r = groupStep(this.run, e, { name: this.cfg.name, activationRetries: this.cfg.activationRetries, finalAction: this.cfg.finalAction, hasStop: this.cfg.stop !== null });
    this.run = r.run;
    for (const a of r.actions) this.execute(a);
  }

  private execute(a: GroupAction): void {
    switch (a.type) {
      case 'log':
        this.deps.log.log(a.severity, a.message);
        return;
      case 'stateChanged':
        this.stateSinceMono = systemClock().mono;
        this.deps.onStateChanged(this.cfg.name, a.from, a.to);
        return;
      case 'finalAction':
        this.deps.onFinalAction(this.cfg.name, a.action);
        return;
      case 'runScript':
        this.runCommand(a.phase, a.event);
        return;
    }
  }

  /**
   * pcheck stops (SPEC §10 "Nothing starts after pcheck has stopped"): no start script runs from
   * now on; one that runs is killed with what it started (its process group and session), except
   * the processes in `spare` (what entries watch) and their children. Its exit is not fed to the
   * machine: the caller decides (send 'stop', then `startEnded`). Returns whether one was killed.
   */
  halt(spare: ReadonlySet<number>): Promise<boolean> {
    this.halted = true;
    const r = this.running;
    if (r === null || r.phase !== 'start') return Promise.resolve(false);
    const k = killScriptTree(r.pid, spare);
    const kept = k.spared.length > 0 ? `; kept pid=${k.spared.join(',')}: a program an entry watches, and its children` : '';
    this.deps.log.notice(`Group ${this.cfg.name} start script (pid=${r.pid}) stopped, pcheck stops: killed pid=${k.killed.join(',') || '-'}${kept}`);
    return r.done.then(() => true);
  }

  /** After halt(): the killed start script's end, for the machine (a stop asked for runs now). */
  startEnded(): void {
    this.send({ type: 'scriptExited', phase: 'start', ok: false, detail: 'stopped: pcheck stops' });
  }

  private runCommand(phase: 'start' | 'stop', event: ScriptEvent): void {
    if (this.halted && phase === 'start') {
      this.deps.log.notice(`Group ${this.cfg.name}: start script not run, pcheck stops`);
      return;
    }
    const cmd = phase === 'start' ? this.cfg.start : this.cfg.stop;
    if (cmd === null) {
      // no script: the phase is done at once (after the current event has been handled)
      setImmediate(() => this.send({ type: 'scriptExited', phase, ok: true, detail: 'no script' }));
      return;
    }
    const timeout = (phase === 'start' ? this.cfg.startTimeout : this.cfg.stopTimeout) * 1000;
    const name = this.cfg.name;
    const run = runScript({
      path: cmd[0],
      args: cmd.slice(1),
      env: groupScriptEnv(name, event, this.deps.socket ?? null),
      timeoutMs: timeout,
      onLine: (stream, line) => this.deps.log.log(stream === 'stderr' ? 'warning' : 'info', `Group ${name} ${phase}: ${line}`),
      output: this.deps.outputDir
        ? {
            dir: this.deps.outputDir,
            name: ScriptOutputDir.pairName(`group\u0000${name}`, name),
            onFallback: (why) => this.deps.log.warning(`Group ${name} ${phase}: ${why}: this run writes to pipes`),
          }
        : undefined,
    });
    // its start time tells it from a later process with its pid (the state file)
    const running = run.pid === null ? null : { phase, pid: run.pid, startTime: readStat(run.pid)?.startTime ?? 0, done: run.done };
    this.running = running;
    this.deps.onScript?.();
    void run.done.then((r) => {
      if (this.running === running) this.running = null;
      this.deps.onScript?.();
      if (this.halted && phase === 'start') return; // halt() killed it: the caller goes on
      const detail = r.spawnError
        ? `could not run ${cmd[0]}: ${r.spawnError}`
        : r.timedOut
          ? `timed out after ${timeout / 1000}s`
          : r.code !== null
            ? `exit ${r.code}`
            : `killed by ${r.signal ?? 'a signal'}`;
      this.lastScript = `${phase} ${event}: ${detail}`;
      this.send({ type: 'scriptExited', phase, ok: r.code === 0, detail });
    });
  }
}
