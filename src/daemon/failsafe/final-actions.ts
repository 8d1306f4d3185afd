// The final actions of FailSafe mode (SPEC §8): `none`, `stop_group`, `stop_daemon`, and the OS
// actions `shutdown`, `reboot`, `panic` — a monitor's chain used up, a group whose start keeps
// failing, or an entry's retry-over OS action. An OS action runs at most `max_final_actions`
// times per `final_action_window` (SPEC §10 "No reboot loops"), counted across restarts of
// pcheck in the state file; beyond it, it is logged (and, rehearsing, recorded) and not done.
import { appendFileSync } from 'node:fs';
import type { FinalAction } from '../../core/failsafe-model';
import { clampToNow, mayRunFinalAction, recentActions, type FinalActionLimit, type FinalActionRecord } from '../../core/final-action-limit';
import { isOsAction, type OsAction } from '../../core/states';
import type { Logger } from '../../log/logger';
import { doOsAction, rehearseLogOf } from '../shared/os-actions';

export interface FinalActionsDeps {
  log: Logger;
  rehearse: boolean;
  runDir: string;
  limit(): FinalActionLimit;
  /** the OS actions done so far (the state file's, kept up to date here) */
  history: FinalActionRecord[];
  /** written at once, before the machine goes down */
  persistNow(): void;
  stopGroup(group: string): void;
  stopDaemon(reason: string): void;
  /** before an OS action that is really done: the last alerts go out */
  beforeOsAction(): Promise<void>;
}

/** Told whether the action is done (null) or why not, once that is decided and before anything
 *  is done: the `final_action` alert says which, and leaves before the machine goes down. */
export type Announce = (refused: string | null) => void;
const quiet: Announce = () => undefined;

export class FinalActions {
  constructor(private readonly d: FinalActionsDeps) {}

  /** Carries out `action` asked by `source` (`monitor web-http`, `group web`, an entry's pname).
   *  Returns why it is not done (an OS action beyond max_final_actions), else null. */
  run(action: FinalAction, source: string, group: string | null, announce: Announce = quiet): string | null {
    if (isOsAction(action)) return this.os(action, source, true, announce).refused;
    announce(null);
    switch (action) {
      case 'none':
        this.d.log.notice(`Final action none (${source}): nothing more is done`);
        return null;
      case 'stop_group':
        if (group !== null) this.d.stopGroup(group);
        return null;
      case 'stop_daemon':
        this.d.stopDaemon(`Final action stop_daemon (${source}): stopping pcheck`);
        return null;
    }
    return null;
  }

  /** An OS action within the limit: FATAL, the state written, then done (or rehearsed), in the
   *  background (`done`). `refused`: why it is not done (beyond the limit), else null.
   *  `fatal`: log `(source) FATAL` first (an entry's retry-over has logged its own). */
  os(action: OsAction, source: string, fatal: boolean, announce: Announce = quiet): { refused: string | null; done: Promise<void> } {
    const now = Date.now();
    const limit = this.d.limit();
    // a record from the future counts for one window from now, not until the clock catches up
    this.d.history.splice(0, this.d.history.length, ...clampToNow(this.d.history, now));
    const verdict = mayRunFinalAction(this.d.history, now, limit);
    if (!verdict.allowed) {
      const line = `not done: ${verdict.reason}; nothing is done`;
      // recorded before it is logged: whoever reads the log line finds the record there
      if (this.d.rehearse) this.record(`REHEARSE ${action}: ${line}`);
      this.d.log.err(`Final action ${action} (${source}) ${line}`);
      announce(verdict.reason);
      return { refused: verdict.reason, done: Promise.resolve() };
    }
    // the window's records only: the history stays short
    const kept = recentActions(this.d.history, now, limit);
    this.d.history.splice(0, this.d.history.length, ...kept, { action, at: now, source });
    announce(null);
    if (fatal) this.d.log.crit(`(${source}) FATAL`);
    this.d.persistNow();
    return { refused: null, done: this.carryOut(action) };
  }

  private async carryOut(action: OsAction): Promise<void> {
    // the final_action alert must leave before the machine goes down
    if (!this.d.rehearse) await this.d.beforeOsAction();
    await doOsAction(action, { rehearse: this.d.rehearse, runDir: this.d.runDir, log: this.d.log });
  }

  private record(line: string): void {
    try {
      appendFileSync(rehearseLogOf(this.d.runDir), `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
    } catch (e) {
      this.d.log.err(`cannot record in ${rehearseLogOf(this.d.runDir)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}
