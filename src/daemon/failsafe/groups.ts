// The groups of a FailSafe daemon (SPEC §8): their runners, who may start and stop them, the
// order they start in (file order, each once the previous has left Starting) and stop in
// (reverse order), and how they end when pcheck stops: running start scripts first, then the
// stop scripts (SPEC §10 "Nothing starts after pcheck has stopped"). A group stopped on purpose
// — by the operator or by its stop_group final action — is started again only by the operator
// (SPEC §10 "No double start"), also after a restart of pcheck.
import type { FinalAction, GroupConfig, GroupState } from '../../core/failsafe-model';
import type { ScriptOutputDir } from '../../exec/script-output-dir';
import type { Logger } from '../../log/logger';
import type { GroupRecord } from '../../state/failsafe-state';
import { GroupRunner } from './group-runner';

export interface GroupsDeps {
  log: Logger;
  /** the control socket clplogcmd writes to (PS_SOCKET) */
  socket: string;
  /** where start/stop scripts write (null: pipes; opened once pcheck runs) */
  outputDir(): ScriptOutputDir | null;
  onStateChanged(group: string, from: GroupState, to: GroupState): void;
  onFinalAction(group: string, action: FinalAction): void;
  /** a group's record changed (the state file) */
  changed(): void;
}

export type GroupOp = 'start' | 'stop' | 'restart';

/** The longest a group can stay Starting: each try's start script, and before each activation
 *  retry its stop script (5 s of slack each), so the next group does not start beside it. */
export function activationMaxMs(cfg: Pick<GroupConfig, 'startTimeout' | 'stopTimeout' | 'activationRetries'>): number {
  return ((cfg.startTimeout + 5) * (cfg.activationRetries + 1) + (cfg.stopTimeout + 5) * cfg.activationRetries) * 1000;
}

export class Groups {
  private readonly runners = new Map<string, GroupRunner>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly d: GroupsDeps) {}

  get(name: string): GroupRunner | undefined {
    return this.runners.get(name);
  }

  all(): GroupRunner[] {
    return [...this.runners.values()];
  }

  names(): string[] {
    return [...this.runners.keys()];
  }

  state(name: string): GroupState | null {
    return this.runners.get(name)?.state ?? null;
  }

  /** A new group, or new keys for one that runs (it keeps its state: no restart of the application for a new timeout). */
  set(cfg: GroupConfig): boolean {
    const cur = this.runners.get(cfg.name);
    if (cur) {
      cur.cfg = cfg;
      return false;
    }
    this.runners.set(
      cfg.name,
      new GroupRunner(cfg, {
        log: this.d.log,
        socket: this.d.socket,
        outputDir: this.d.outputDir(),
        onStateChanged: (name, from, to) => {
          this.d.onStateChanged(name, from, to);
          this.d.changed();
          for (const w of [...this.waiters]) w();
        },
        onFinalAction: (name, action) => this.d.onFinalAction(name, action),
        onScript: () => this.d.changed(),
      }),
    );
    return true;
  }

  /** A group no longer in the configuration: left as it is, no longer managed. */
  drop(name: string): void {
    const g = this.runners.get(name);
    if (!g) return;
    this.d.log.warning(`Group ${name} is no longer in the configuration: left as it is (${g.state}), no longer managed`);
    this.runners.delete(name);
    this.d.changed();
  }

  /** The operator (padmin, the web page): a stop is remembered until the operator starts it. */
  operator(op: GroupOp, name: string): GroupRunner | null {
    const g = this.runners.get(name);
    if (!g) return null;
    g.stoppedBy = op === 'stop' ? 'operator' : null;
    this.d.changed();
    g.send({ type: op });
    return g;
  }

  /** A monitor's chain or a schedule restarts a group, unless it was stopped on purpose. */
  restart(name: string, by: string): void {
    const g = this.runners.get(name);
    if (!g) return;
    if (g.stoppedBy !== null) {
      this.d.log.notice(`Group ${name} not restarted for ${by}: stopped by ${g.stoppedBy === 'operator' ? 'the operator' : 'its final action'} (padmin group start ${name} starts it)`);
      return;
    }
    g.send({ type: 'restart' });
  }

  /** Its final action stop_group: stopped on purpose, as by the operator. */
  stopByFinalAction(name: string): void {
    const g = this.runners.get(name);
    if (!g) return;
    g.stoppedBy = 'final_action';
    this.d.changed();
    g.send({ type: 'stop' });
  }

  /** Starts groups one after the other: each once the previous has left Starting. `begin` does
   *  what starting means for each (start, adopt, restart, leave stopped). */
  async inOrder(names: string[], begin: (g: GroupRunner) => Promise<void>, stopping: () => boolean): Promise<void> {
    for (const name of names) {
      const g = this.runners.get(name);
      if (!g || stopping()) continue;
      await begin(g);
      await this.until(name, (s) => s !== 'Starting', activationMaxMs(g.cfg));
    }
  }

  /** Resolves when `done` holds for the group's state (or it is gone), or after timeoutMs. */
  until(name: string, done: (s: GroupState) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        const g = this.runners.get(name);
        if (g && !done(g.state)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve();
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /**
   * pcheck stops: first every running start script is stopped with what it started (sparing
   * `spare`: what entries watch), so nothing starts afterwards; then, unless `keepRunning`, the
   * groups stop in reverse order of the file, each once the previous has stopped (a start that
   * was cut short runs its stop script too).
   */
  async stopAll(keepRunning: boolean, spare: ReadonlySet<number>): Promise<void> {
    const all = this.all();
    const halted = await Promise.all(all.map((g) => g.halt(spare)));
    if (keepRunning) return;
    for (const [i, g] of [...all.entries()].reverse()) {
      g.send({ type: 'stop' });
      if (halted[i]) g.startEnded();
      await this.until(g.cfg.name, (s) => s === 'Offline' || s === 'Error', (g.cfg.stopTimeout + 5) * 1000);
    }
  }

  records(): Record<string, GroupRecord> {
    return Object.fromEntries(this.all().map((g) => [g.cfg.name, { state: g.state, stoppedBy: g.stoppedBy, restarts: g.run.restarts, script: g.script() }]));
  }
}
