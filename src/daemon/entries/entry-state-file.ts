// The state file of one entry set (SHM_DUMP_FILE, SPEC §5): claimed at start (one pcheck per
// state file), read once to resume what the previous pcheck left (counters, a restart under way
// with its script), written atomically whenever an entry changes — once per loop turn, each
// entry's JSON kept while it is unchanged, fsynced off the loop (state-sync.ts) but at once at
// stop and before an OS action. A FailSafe pfile without SHM_DUMP_FILE keeps its entries in the
// FailSafe state file instead (a `StateStore` of it).
import { pentSignature, type Pfile } from '../../core/model';
import type { RestoredEntry } from '../../core/entry-model';
import { freshReason, resumedEntry, type PcheckEnd } from '../../core/resume-policy';
import type { Logger } from '../../log/logger';
import { loadNative } from '../../native/index';
import { selectOldest } from '../../proc/match';
import { readEnviron } from '../../proc/proc-table';
import { CLK_TCK, readStat } from '../../proc/proc-stat';
import type { ProcInfo, ProcessTable } from '../../proc/types';
import { claimStateFile, type StateClaim } from '../../state/state-claim';
import { readStateFile, writeStateEntries, type EntrySnapshot, type ReadStateResult, type RunningScriptId, type StateSnapshot } from '../../state/state-file';
import { syncStateFileLater } from '../../state/state-sync';
import type { EntryRuntime } from './entry-runtime';
import { entrySnapshot, EntryJson } from './state-entries';

/** The state file's head: everything but the entries. */
export type StateHead = Omit<StateSnapshot, 'entries'>;

/** The entries to write, as each store takes them: their JSON (kept while an entry is unchanged)
 *  or the objects. */
export interface EntriesOut {
  json(): readonly string[];
  objects(): EntrySnapshot[];
}

/** Where a snapshot lives: a file of its own, or a part of another file. */
export interface StateStore {
  /** for messages: the file */
  readonly path: string;
  /** the file claims (flock) only when it is the pfile's own */
  readonly ownFile: boolean;
  read(): ReadStateResult;
  /** `durable`: on disk before this returns (at stop, before an OS action); else fsynced soon,
   *  off the loop (a killed pcheck's write is in the page cache: only a power loss loses it). */
  write(head: StateHead, entries: EntriesOut, durable: boolean): void;
}

/** SHM_DUMP_FILE: a file of the pfile's own. A failed fsync off the loop is told through `onSyncError`. */
export function fileStore(path: string, onSyncError: (m: string) => void = () => undefined): StateStore {
  const sync = syncStateFileLater(path, (e) => onSyncError(`Cannot write state file: fsync of ${path} failed: ${e.message}`));
  return {
    path,
    ownFile: true,
    read: () => readStateFile(path),
    write: (head, entries, durable) => {
      writeStateEntries(path, head, entries.json(), { sync: durable });
      if (!durable) sync.changed();
    },
  };
}

/** An entry as the previous pcheck left it; `resumed`: its counters are taken over. */
export interface Restored {
  entry: RestoredEntry;
  script: RunningScriptId | null;
  resumed: boolean;
}

export interface EntryStateFileDeps {
  table: ProcessTable;
  log: Logger;
  bootId: string;
  monoNow: () => number;
  /** the entries now */
  entries: () => readonly EntryRuntime[];
}

export class EntryStateFile {
  /** how this pcheck ends, for the last write (null while it runs) */
  ended: PcheckEnd | null = null;
  private claimed: StateClaim | null = null;
  private pending: NodeJS.Immediate | null = null;
  private lastError: string | null = null;
  private readonly json = new EntryJson();

  constructor(
    private store: StateStore | null,
    private pfilePath: string,
    private readonly d: EntryStateFileDeps,
  ) {}

  /** Claims the pfile's own state file (before it is read); throws a ConfigError when another
   *  pcheck holds it. A changed SHM_DUMP_FILE (reload) is claimed like at start, the old claim
   *  dropped only once the new one holds. */
  claim(pfile: Pfile, store: StateStore | null): void {
    let next: StateClaim | null = null;
    if (store?.ownFile) {
      const native = loadNative();
      const me = { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? 0, bootId: this.d.bootId, pfile: pfile.path, ipckey: pfile.param.ipckeyText };
      next = claimStateFile(store.path, me, {
        lock: native?.flockExclusive ? (fd) => native.flockExclusive!(fd) : null,
        isAlive: (h) => h.bootId !== '' && h.bootId === this.d.bootId && this.d.table.read(h) !== null,
      });
      if (next.warning !== null) this.d.log.warning(next.warning);
    }
    this.claimed?.release();
    this.claimed = next;
    this.store = store;
    this.pfilePath = pfile.path;
  }

  get path(): string | null {
    return this.store?.path ?? null;
  }

  private head(): StateHead {
    return { version: 1, pfile: this.pfilePath, pcheckPid: process.pid, writtenAt: Date.now(), bootId: this.d.bootId, ended: this.ended };
  }

  /** One write in the next loop turn, for every change of this one. */
  persistSoon(): void {
    this.pending ??= setImmediate(() => this.persistNow());
  }

  /** A write is due (persistSoon): it is done now (before restart scripts start). */
  flush(): void {
    if (this.pending) this.persistNow();
  }

  /** Writes the state (`durable`: fsynced before it returns); a failure is logged once per
   *  distinct error (a full disk must not flood the log), and monitoring goes on. */
  persistNow(durable = false): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
    if (this.store === null) return;
    const entries = this.d.entries();
    try {
      this.store.write(this.head(), { json: () => entries.map((rt) => this.json.of(rt)), objects: () => entries.map(entrySnapshot) }, durable);
      if (this.lastError !== null) this.d.log.notice(`State file ${this.store.path} written again`);
      this.lastError = null;
    } catch (e) {
      this.failed((e as Error).message);
    }
  }

  /** A write (or its fsync off the loop) failed: said once per distinct error. */
  failed(m: string): void {
    if (m !== this.lastError) this.d.log.err(m.startsWith('Cannot write state file') ? m : `Cannot write state file: ${m}`);
    this.lastError = m;
  }

  /** A failed write is tried again at each periodic tick, so the file is right again soon after the disk is. */
  retryIfFailed(): void {
    if (this.lastError !== null) this.persistSoon();
  }

  release(): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
    this.claimed?.release();
    this.claimed = null;
  }

  /** What the state of an earlier pcheck says of the entries of `pfile` that still exist: their
   *  counters, and where a restart under way was (with its script, if that still runs). */
  restore(pfile: Pfile): Map<string, Restored> {
    const out = new Map<string, Restored>();
    if (this.store === null) return out;
    const path = this.store.path;
    let r: ReadStateResult;
    try {
      r = this.store.read();
    } catch (e) {
      // unreadable (EACCES, EIO): monitoring matters more than the counters
      this.d.log.err(`${(e as Error).message}; starting with zero counters`);
      return out;
    }
    if ('corrupt' in r) {
      this.d.log.err(`State file ${path} is corrupt (${r.corrupt}); set aside as ${r.movedTo ?? '(could not move)'}; starting with zero counters`);
      return out;
    }
    if ('missing' in r) return out;
    if (r.snapshot.pfile !== pfile.path) {
      // no live pcheck of that pfile holds it (claim): this pfile renamed, or one that ran before
      this.d.log.notice(`State file ${path} was written by the pcheck of pfile ${r.snapshot.pfile}, which no longer runs: this pfile takes it over`);
    }
    // pids and monotonic times mean nothing after a reboot ('' is an unknown boot: never the same)
    const sameBoot = this.d.bootId !== '' && r.snapshot.bootId === this.d.bootId;
    const ended = r.snapshot.ended ?? null;
    const fresh = freshReason(ended, sameBoot);
    if (fresh !== null && r.snapshot.entries.length > 0) this.d.log.notice(`State file ${path} ${fresh}: counters start at 0`);
    const scripts = new Map(pfile.pents.map((p) => [pentSignature(p), p.restartScript]));
    let procs: ProcInfo[] | null = null;
    for (const e of r.snapshot.entries) {
      const rec = sameBoot && e.procSts === 'RESTARTING' ? (e.restart ?? null) : null;
      // the script still runs when a process with its pid AND start time is alive (not a zombie)
      let script = rec?.script && this.d.table.read(rec.script) !== null ? rec.script : null;
      const scriptPath = scripts.get(e.signature);
      if (rec !== null && rec.scriptRunning && rec.script === null && scriptPath !== undefined) {
        // killed between starting the script and naming it (a few ms): look for it by its path
        procs ??= this.d.table.scan();
        script = findScript(procs, scriptPath, e.pname, this.d.monoNow());
      }
      out.set(e.signature, { script, resumed: fresh === null, entry: restoredEntry(e, rec, script, sameBoot) });
    }
    // ended on purpose, or another boot: counters start fresh (src/core/resume-policy.ts)
    for (const v of out.values()) v.entry = resumedEntry(v.entry, ended);
    return out;
  }
}

function restoredEntry(e: EntrySnapshot, rec: EntrySnapshot['restart'] | null, script: RunningScriptId | null, sameBoot: boolean): RestoredEntry {
  return {
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
  };
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
