// What the rest of procsafe knows about processes. A process is its pid AND its start
// time (ProcId, src/core/proc-id.ts), so a reused pid is never taken for the old process.
import type { ProcId } from '../core/proc-id';

export type { ProcId };

export interface ProcInfo extends ProcId {
  /** argv from /proc/PID/cmdline (NUL-separated); empty for kernel threads. */
  argv: string[];
  /** target of /proc/PID/exe, or null when unreadable; may end in " (deleted)". */
  exe: string | null;
  /** owner uid of /proc/PID. */
  uid: number;
  /** state letter, field 3 of /proc/PID/stat (R, S, D, Z, X, ...). */
  state: string;
}

/**
 * A quick scan reads only processes the last scan did not see, known ones first seen at or
 * after `recheckSince` (performance.now() of this process: a restart script's fork is seen
 * first as a shell and execs into the program later), and known ones whose argv[0] or exe is
 * in `recheck` (a candidate is always read afresh, never adopted from memory). Every other
 * known pid is taken as the process seen last time, without a syscall. What it can miss until
 * the next full scan: a process older than `recheckSince` that execs into a looked-for name,
 * or a reused pid. It cannot report a wrong process as a candidate. A candidate's argv is read
 * afresh (a retitled process). With recheckSince -Infinity every pid is read: a full scan that
 * also refreshes the candidates' argv.
 */
export interface ScanOptions {
  recheck: ReadonlySet<string>;
  recheckSince: number;
}

/** Reads the process table. */
export interface ProcessTable {
  /** every live (non-zombie) process readable now; with `recheck`, a quick scan (below). */
  scan(opts?: ScanOptions): ProcInfo[];
  /** one process, or null if it is gone, a zombie, or has another start time than `id`. */
  read(id: ProcId): ProcInfo | null;
  /** the live processes that may carry one of `names` (argv[0] or program file), read without
   *  a readdir of /proc: those the last scan saw with such a name and the pids allocated since;
   *  null when a scan is needed instead (no scan yet, or too many new pids). */
  candidates?(names: ReadonlySet<string>): ProcInfo[] | null;
  /** how many pids were allocated since the last scan began (null: unknown, e.g. no scan yet) */
  newPids?(): number | null;
}

/** What a death watch knows of how late it noticed. */
export interface DeathInfo {
  /** an upper bound (ms) on death → noticed: the time since the process was last seen alive
   *  (the poll); null for a kernel event (pidfd), late by at most the event loop's lag. */
  detectedWithinMs: number | null;
}

/** Tells, as an event, when a watched process has died (exited, or become a zombie). */
export interface DeathWatcher {
  readonly mode: 'pidfd' | 'poll';
  /** Calls onDeath once, soon after the process dies (at once if it is already gone).
   *  Returns a function that stops watching. */
  watch(id: ProcId, onDeath: (info: DeathInfo) => void): () => void;
  /** stops every watch and releases descriptors and timers. */
  close(): void;
}
