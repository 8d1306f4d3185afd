// Which processes belong to a PENT entry (SPEC §2, pname), and which one is watched.
// Pure: no I/O. The realpath of pname is resolved by the caller (resolvePname in
// proc-table.ts) once per configuration load and again at each full scan (an upgrade may
// re-point a symlink), not once per process per scan.
import type { Pent } from '../core/model';
import { programPath } from './program-path';
import type { ProcInfo } from './types';

// resolvePname does I/O, so it lives in proc-table.ts; it is re-exported here because
// whoever compiles a matcher needs it right before (matching itself still does no I/O).
export { resolvePname } from './proc-table';

export type MatchCriteria = Pick<Pent, 'pname' | 'includeStrings' | 'excludeStrings' | 'uid'>;
export type Matcher = (p: ProcInfo) => boolean;
export { programPath } from './program-path';

/** The command line that include/exclude strings are searched in: argv joined by single spaces. */
export function commandLine(argv: readonly string[]): string {
  return argv.join(' ');
}

/**
 * Compiles a pent's criteria into a predicate. A process matches when
 * - its argv[0] is pname, or its exe is pname's realpath (a program started through a
 *   symlink or a relative name, or one that rewrote its argv[0]); an exe ending in
 *   " (deleted)" is the program file replaced since (an upgrade): compared without the suffix;
 * - every include string, and no exclude string, is a substring of its command line;
 * - its uid is the pent's, when the pent has `user=`.
 * Zombies are left out by the table, not here: state Z alone does not mean dead (a
 * process whose main thread has exited shows Z and lives on; see isDead in proc-table.ts).
 */
export function compileMatcher(pent: MatchCriteria, pnameRealpath: string | null): Matcher {
  const { pname, includeStrings, excludeStrings, uid } = pent;
  const exeMatches = (exe: string | null): boolean => pnameRealpath !== null && exe !== null && programPath(exe) === pnameRealpath;
  const needsCommandLine = includeStrings.length > 0 || excludeStrings.length > 0;

  return (p) => {
    if (uid !== null && p.uid !== uid) return false;
    if (p.argv[0] !== pname && !exeMatches(p.exe)) return false;
    if (!needsCommandLine) return true;
    const line = commandLine(p.argv);
    return includeStrings.every((s) => line.includes(s)) && !excludeStrings.some((s) => line.includes(s));
  };
}

/** True when `a` started before `b`; same tick → the smaller pid (pids grow between wraps). */
export function isOlder(a: ProcInfo, b: ProcInfo): boolean {
  return a.startTime !== b.startTime ? a.startTime < b.startTime : a.pid < b.pid;
}

/** The oldest process that `matches`, or null; one pass, no sorting. The daemon compiles
 *  a matcher once per configuration and calls this on every scan. */
export function selectOldest(procs: readonly ProcInfo[], matches: Matcher): ProcInfo | null {
  let best: ProcInfo | null = null;
  for (const p of procs) {
    if ((best === null || isOlder(p, best)) && matches(p)) best = p;
  }
  return best;
}

/** The process a pent watches: the oldest match (one-off form of compile + selectOldest). */
export function findOldest(
  pent: MatchCriteria,
  pnameRealpath: string | null,
  procs: readonly ProcInfo[],
): ProcInfo | null {
  return selectOldest(procs, compileMatcher(pent, pnameRealpath));
}
