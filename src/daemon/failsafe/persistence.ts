// The FailSafe state file as the daemon keeps it (src/state/failsafe-state.ts): read once at
// start (what the previous pcheck left: groups, chains, final actions, the entries of pfiles
// without SHM_DUMP_FILE), written atomically in the loop turn after a change (fsynced off the
// loop, state-sync.ts), and durably at once before an OS action and at the end. A write that
// fails is logged once per distinct error and tried again.
import { clampToNow, type FinalActionRecord } from '../../core/final-action-limit';
import type { Logger } from '../../log/logger';
import type { ReadStateResult, StateSnapshot } from '../../state/state-file';
import { readFailsafeState, writeFailsafeState, type ChainRecord, type FailsafeSnapshot, type GroupRecord } from '../../state/failsafe-state';
import { syncStateFileLater, type StateSync } from '../../state/state-sync';
import type { StateStore } from '../entries/entry-state-file';

/** How FailSafe pcheck ended, in the last write: the next one leaves groups as they are after
 *  `keep-running`, and finds them Offline (stopped) after the others. Null while it runs. */
export type FailsafeEnd = 'SIGTERM' | 'SIGINT' | 'keep-running' | 'stop_daemon' | 'retry-over exit';

export interface PersistenceDeps {
  path: string;
  log: Logger;
  bootId: string;
  config: () => string;
  groups: () => Record<string, GroupRecord>;
  monitors: () => Record<string, ChainRecord>;
}

export class FailsafeState {
  /** what the previous pcheck left (null: nothing, or a corrupt file set aside) */
  readonly previous: FailsafeSnapshot | null;
  /** the previous pcheck ran in this boot (its pids and group states still mean something) */
  readonly sameBoot: boolean;
  /** OS final actions done, for their limit (max_final_actions per final_action_window) */
  readonly finalActions: FinalActionRecord[];
  ended: FailsafeEnd | null = null;
  private readonly pfiles = new Map<string, StateSnapshot>();
  /** the OS final actions of a previous file set aside as corrupt */
  private salvaged: FinalActionRecord[] = [];
  private pending: NodeJS.Immediate | null = null;
  private lastError: string | null = null;
  private readonly sync: StateSync;

  constructor(private readonly d: PersistenceDeps) {
    this.previous = this.read();
    this.sameBoot = this.previous !== null && d.bootId !== '' && this.previous.bootId === d.bootId;
    // one from the future (the clock was stepped back) counts for one window from this start
    this.finalActions = clampToNow(this.previous?.finalActions ?? this.salvaged, Date.now());
    for (const [path, s] of Object.entries(this.previous?.pfiles ?? {})) this.pfiles.set(path, s);
    this.sync = syncStateFileLater(d.path, (e) => this.failed(`fsync of ${d.path} failed: ${e.message}`));
  }

  get path(): string {
    return this.d.path;
  }

  private read(): FailsafeSnapshot | null {
    let r: ReturnType<typeof readFailsafeState>;
    try {
      r = readFailsafeState(this.d.path);
    } catch (e) {
      this.d.log.err(`${(e as Error).message}; starting without the counters of the previous pcheck`);
      return null;
    }
    if ('corrupt' in r) {
      this.salvaged = r.finalActions;
      const kept = this.salvaged.length === 0 ? '' : ` (its ${this.salvaged.length} OS final action record(s) kept: max_final_actions still counts them)`;
      this.d.log.err(`State file ${this.d.path} is corrupt (${r.corrupt}); set aside as ${r.movedTo ?? '(could not move)'}; starting afresh${kept}`);
      return null;
    }
    return 'missing' in r ? null : r.snapshot;
  }

  group(name: string): GroupRecord | undefined {
    return this.previous?.groups[name];
  }

  /** The previous chain of a monitor, if its configuration is the same. */
  chain(name: string, config: string): ChainRecord | undefined {
    const c = this.previous?.monitors[name];
    return c !== undefined && c.config === config ? c : undefined;
  }

  /** Where the entries of a pfile without SHM_DUMP_FILE live: a part of this file. */
  storeFor(pfile: string): StateStore {
    return {
      path: this.d.path,
      ownFile: false,
      read: (): ReadStateResult => {
        const s = this.pfiles.get(pfile);
        return s === undefined ? { missing: true } : { snapshot: s };
      },
      write: (head, entries, durable) => {
        this.pfiles.set(pfile, { ...head, entries: entries.objects() });
        if (durable) this.persistNow(true);
        else this.persistSoon();
      },
    };
  }

  /** A pfile no longer in the configuration: its entries are no longer kept. */
  forget(pfile: string): void {
    if (this.pfiles.delete(pfile)) this.persistSoon();
  }

  snapshot(): FailsafeSnapshot {
    return {
      version: 1,
      config: this.d.config(),
      pcheckPid: process.pid,
      writtenAt: Date.now(),
      bootId: this.d.bootId,
      ended: this.ended,
      groups: this.d.groups(),
      monitors: this.d.monitors(),
      finalActions: this.finalActions,
      pfiles: Object.fromEntries(this.pfiles),
    };
  }

  persistSoon(): void {
    this.pending ??= setImmediate(() => this.persistNow());
  }

  /** `durable`: fsynced before it returns (before an OS action, at the end); else soon, off the loop. */
  persistNow(durable = false): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
    try {
      writeFailsafeState(this.d.path, this.snapshot(), { sync: durable });
      if (!durable) this.sync.changed();
      if (this.lastError !== null) this.d.log.notice(`State file ${this.d.path} written again`);
      this.lastError = null;
    } catch (e) {
      this.failed((e as Error).message);
    }
  }

  private failed(m: string): void {
    if (m !== this.lastError) this.d.log.err(`Cannot write state file: ${m}`);
    this.lastError = m;
  }

  /** Called every second: a failed write is tried again once the disk is back. */
  retryIfFailed(): void {
    if (this.lastError !== null) this.persistSoon();
  }
}
