// The pfiles of a FailSafe daemon: one entry set each (src/daemon/entries/), all sharing the
// daemon's process table, death watcher, scanner and script queue; each keeps the control socket
// of its IPCKEY, so `padmin -f PFILE -c …` works as with pcheck -f. Their entries are watched only
// while the group holding the pfile is Online; an entry's retry-over `group` goes to the group's
// recovery chain as a typed event; reload applies every valid pfile edit or refuses it whole.
import type { EventSink } from '../../core/events';
import type { Pfile } from '../../core/model';
import type { RetryOverAction } from '../../core/states';
import { startControlServer } from '../../control/server';
import { withScriptLog } from '../../control/script-log';
import { socketPath, type ControlResponse } from '../../control/protocol';
import { formatShowPent } from '../../views/pent-view';
import type { StatusView } from '../../views/status-view';
import type { EntryRuntime } from '../entries/entry-runtime';
import { EntrySet, type PentOp } from '../entries/entry-set';
import { fileStore, type StateStore } from '../entries/entry-state-file';
import type { EntryServices } from '../entries/services';
import { answerPadmin, logCommand } from '../pfile/padmin-requests';
import { checkPfileReload } from '../pfile/pfile-reload';
import { reasonOf, refuseReload } from '../shared/requests';

export interface PfilesDeps {
  services: EntryServices;
  runDir: string;
  bootId: string;
  serverName: string;
  loadPfile(path: string): Pfile;
  /** where the entries of a pfile without SHM_DUMP_FILE live (the FailSafe state file) */
  sectionStore(path: string): StateStore;
  onEvent: EventSink;
  onStateChange(): void;
  /** an entry retried over (exit, OS action, group: the daemon's) */
  retryOver(pfile: string, action: RetryOverAction, rt: EntryRuntime): void;
  /** the group holding a pfile: Online now? (its entries are watched only then) */
  groupOnline(group: string): boolean;
}

interface Held {
  set: EntrySet;
  group: string | null;
  control: { close(): Promise<void> };
}

export class Pfiles {
  private readonly held = new Map<string, Held>();

  constructor(private readonly d: PfilesDeps) {}

  paths(): string[] {
    return [...this.held.keys()];
  }

  sets(): EntrySet[] {
    return [...this.held.values()].map((h) => h.set);
  }

  private storeOf(p: Pfile): StateStore {
    return p.param.shmDumpFile === null ? this.d.sectionStore(p.path) : fileStore(p.param.shmDumpFile, (m) => this.held.get(p.path)?.set.state.failed(m));
  }

  /** Starts watching the entries of `path` (held off until `group` is Online). Throws when the
   *  pfile cannot be loaded, or its IPCKEY or SHM_DUMP_FILE is held by another pcheck. */
  async add(path: string, group: string | null): Promise<void> {
    const pfile = this.d.loadPfile(path);
    const socket = socketPath(this.d.runDir, pfile.param.ipckey);
    const set = new EntrySet({
      pfile,
      services: this.d.services,
      socket,
      runDir: this.d.runDir,
      store: this.storeOf(pfile),
      bootId: this.d.bootId,
      serverName: this.d.serverName,
      onEvent: this.d.onEvent,
      onStateChange: () => this.d.onStateChange(),
      onRetryOver: (action, rt) => this.d.retryOver(set.path, action, rt),
    });
    const target = { set, watcher: this.d.services.watcher, log: this.d.services.log, reload: (by: 'padmin') => this.reloadOne(path, by) };
    const control = await startControlServer(socket, withScriptLog(this.d.services.log, (req) => answerPadmin(target, req)));
    try {
      set.claim();
    } catch (e) {
      await control.close();
      throw e;
    }
    this.held.set(path, { set, group, control });
    const held = group !== null && !this.d.groupOnline(group);
    set.start(held);
    this.d.services.log.info(`Watching pfile='${path}': ${set.size} entries${group === null ? '' : ` (group ${group})`}`);
  }

  /** A pfile no longer in the configuration: its restart scripts are stopped, its socket closed. */
  async remove(path: string): Promise<void> {
    const h = this.held.get(path);
    if (!h) return;
    this.held.delete(path);
    await this.finish(h, 'stopped');
  }

  private async finish(h: Held, ended: 'stopped'): Promise<unknown[]> {
    const killed = h.set.close();
    h.set.state.ended = ended;
    h.set.state.persistNow(true);
    h.set.state.release();
    await h.control.close().catch(() => undefined);
    return killed;
  }

  /** pcheck stops: every set stops (their restart scripts are stopped); returns the killed scripts' exits. */
  async closeAll(): Promise<Promise<unknown>[]> {
    const killed: Promise<unknown>[] = [];
    for (const h of this.held.values()) for (const k of await this.finish(h, 'stopped')) killed.push(k as Promise<unknown>);
    return killed;
  }

  /** Loads every pfile of `wanted` that runs now, checked for reload (IPCKEY unchanged, its state
   *  file claimed if it moved); throws with the reason of the first that cannot be applied. */
  check(wanted: ReadonlyMap<string, string | null>): Map<string, Pfile> {
    const out = new Map<string, Pfile>();
    for (const [path, h] of this.held) {
      if (!wanted.has(path)) continue;
      const next = this.d.loadPfile(path);
      checkPfileReload(h.set.current, next, { groupAllowed: wanted.get(path) !== null });
      out.set(path, next);
    }
    for (const [path, next] of out) this.held.get(path)!.set.claimFor(next, this.storeOf(next));
    return out;
  }

  /** Applies pfiles returned by check(), and the group that now holds each; returns what each
   *  reload changed (`PFILE: N entries (…)`), for padmin's answer. */
  apply(loaded: ReadonlyMap<string, Pfile>, wanted: ReadonlyMap<string, string | null>): string[] {
    const out: string[] = [];
    for (const [path, next] of loaded) {
      const h = this.held.get(path)!;
      h.group = wanted.get(path) ?? null;
      logCommand(this.d.services.log, 'reload', path);
      const summary = h.set.apply(next, { failsafe: true });
      const changes = `${h.set.size} entries (${summary})`;
      this.d.services.log.info(`Reloaded pfile='${path}': ${changes}`);
      out.push(`${path}: ${changes}`);
    }
    return out;
  }

  /** `padmin -f PFILE -c reload` of one pfile of this daemon. */
  private reloadOne(path: string, by: 'padmin'): ControlResponse {
    const h = this.held.get(path);
    if (!h) return refuseReload(this.d.services.log, by, `pfile='${path}' is no longer in the configuration`);
    let loaded: Map<string, Pfile>;
    const wanted = new Map([[path, h.group]]);
    try {
      loaded = this.check(wanted);
    } catch (e) {
      return refuseReload(this.d.services.log, by, reasonOf(e));
    }
    return { ok: true, text: `reloaded ${this.apply(loaded, wanted).join('\n')}` };
  }

  /** The group holding pfiles changed state: their entries are watched only while it is Online. */
  onGroupState(group: string, from: string, to: string, fresh: boolean): void {
    for (const h of this.held.values()) {
      if (h.group !== group) continue;
      if (to === 'Online') h.set.groupOnline(true, group, fresh);
      else if (from === 'Online' || to === 'Error') h.set.groupOnline(false, group);
    }
  }

  /** The entries of the pfiles of `group` whose program does not run now (null: all run). */
  notRunning(group: string): string | null {
    const missing = [...this.held.values()].filter((h) => h.group === group).flatMap((h) => h.set.notRunning());
    return missing.length === 0 ? null : `${missing.map((rt) => `(${rt.pent.pname})`).join(' ')} not running`;
  }

  views(): StatusView['pfiles'] {
    return [...this.held].map(([path, h]) => ({ path, group: h.group, entries: h.set.views() }));
  }

  /** The web page's operations on an entry, as `padmin -f PFILE -c 'OP pent ID'` does them. */
  entryOp(path: string, op: PentOp, id: number): { ok: boolean; message: string } {
    const set = this.held.get(path)?.set;
    if (!set) return { ok: false, message: `no pfile ${path}` };
    if (!set.views().some((v) => v.pent_id === id)) return { ok: false, message: `no entry with pent_id ${id} in ${path}` };
    logCommand(this.d.services.log, `${op} pent ${id}`, path);
    const v = set.pent(op, id)!;
    return { ok: true, message: formatShowPent([v]) };
  }
}
