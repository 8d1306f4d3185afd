// One watched entry as the daemon holds it: its configuration, its pure state, and the
// handles of the edges working for it (death watch, running script).
import type { RunningScriptId } from '../../state/state-file';
import type { EntryConfig, EntryState } from '../../core/entry-model';
import { pentSignature, type Pent, type PfileParam } from '../../core/model';
import { compileMatcher, resolvePname } from '../../proc/match';
import type { ProcId, ProcInfo, ProcessTable } from '../../proc/types';
import { readStat } from '../../proc/proc-stat';
import type { PentView } from '../../views/pent-view';
import type { ProgramIdentity } from './restart-lock';

export interface EntryRuntime {
  pent: Pent;
  cfg: EntryConfig;
  signature: string;
  state: EntryState;
  /** realpath of pname (null when the program is not installed), for the scan index. */
  pnameReal: string | null;
  matches: (p: ProcInfo) => boolean;
  /** stops the death watch of the current pid; null when nothing is watched. */
  unwatch: (() => void) | null;
  /** monotonic ms when the process was lost, until it is up again (heal time) */
  downAtMono: number | null;
  /** the restart script running for this entry (ours, or the previous pcheck's that we await):
   *  recorded in the state file, so that a pcheck started after us never runs a second one. */
  script: RunningScriptId | null;
  /** stops awaiting the previous pcheck's script (its death watch and timeout); null when none. */
  stopAwait: (() => void) | null;
  /** the process watched now, as it was when adopted: what its death is compared with. */
  watched: Adopted | null;
  /** what the next script waits for: the workers the dead program left being ended (endWorkers),
   *  the dead process's reap (ReapGate), the host-wide restart lock; null when nothing holds it back. */
  clearing: Promise<void> | null;
  /** our own restart script's run (its exit and last output); null when none runs. */
  running: { pid: number; done: Promise<unknown> } | null;
  /** the process (pid:startTime) last told as matching but watched by another entry: told once */
  toldWatched: string | null;
}

/** A watched process as adopted: its identity, argv[0], program file and session. */
export interface Adopted {
  pid: number;
  startTime: number;
  argv0: string | null;
  /** session id (stat field 6), or null when it could not be read */
  sid: number | null;
  /** performance.now() at adoption: processes first seen since are read afresh at its death */
  since: number;
}


export function entryConfig(pent: Pent, param: PfileParam): EntryConfig {
  return {
    pentId: pent.id,
    pname: pent.pname,
    retryLimit: pent.retryLimit,
    grace: pent.grace,
    retryOverAction: pent.retryOverAction,
    restartWait: param.restartWait,
    initialWait: param.initialWait,
    hangTimeout: pent.hangTimeout,
  };
}

export function newRuntime(pent: Pent, param: PfileParam, state: EntryState): EntryRuntime {
  const pnameReal = resolvePname(pent.pname);
  return {
    pent,
    cfg: entryConfig(pent, param),
    signature: pentSignature(pent),
    state,
    pnameReal,
    matches: compileMatcher(pent, pnameReal),
    unwatch: null,
    downAtMono: null,
    script: null,
    stopAwait: null,
    watched: null,
    clearing: null,
    running: null,
    toldWatched: null,
  };
}

/** A reload kept this entry with `pent` (the same one, or its options edited while it restarts):
 *  its configuration, signature and matcher follow the pfile; its state and handles stay. */
export function retarget(rt: EntryRuntime, pent: Pent, param: PfileParam): void {
  const signature = pentSignature(pent);
  rt.cfg = entryConfig(pent, param);
  if (signature !== rt.signature) {
    rt.pnameReal = resolvePname(pent.pname);
    rt.matches = compileMatcher(pent, rt.pnameReal);
  }
  rt.pent = pent;
  rt.signature = signature;
}

/** What the host-wide restart lock is named by (restart-lock.ts): what the entry matches. */
export function programIdentity(rt: EntryRuntime): ProgramIdentity {
  const { pent } = rt;
  return { program: rt.pnameReal ?? pent.pname, includeStrings: pent.includeStrings, excludeStrings: pent.excludeStrings, uid: pent.uid };
}

/** What is known of a process as it is adopted, for the look at its death. */
export function adopted(table: ProcessTable, id: ProcId): Adopted {
  const info = table.read(id);
  const st = readStat(id.pid);
  const sid = st !== null && st.startTime === id.startTime ? st.session : null;
  return { pid: id.pid, startTime: id.startTime, argv0: info?.argv[0] ?? null, sid, since: performance.now() };
}

export function pentView(rt: EntryRuntime): PentView {
  const { pent, state } = rt;
  return {
    pent_id: pent.id,
    pname: pent.pname,
    pid: state.pid,
    retry_count: state.retryCount,
    restart_count: state.restartCount,
    proc_sts: state.procSts,
    retry_over_act: pent.retryOverAction,
    rerun_time: state.rerunTime,
    include_strings: pent.includeStrings,
    exclude_strings: pent.excludeStrings,
    user: pent.user,
    monitor_sts: state.monitorSts,
    restart_script: pent.restartScript,
    retry_limit: pent.retryLimit,
    grace: pent.grace,
  };
}
