// Finds, in one pass over the process table, the matching processes of every entry that is
// looking for one, and the one each adopts. Entries are indexed by pname (compared with argv[0]) and by the
// realpath of pname (compared with /proc/PID/exe, less a ` (deleted)` suffix), so a scan costs O(processes), not
// O(entries × processes): with 1,000 entries and 3,000 processes that is 3,000 lookups
// instead of 3 million matcher calls.
import { assignProcesses, type Adoption } from '../../core/adoption-policy';
import { programPath } from '../../proc/match';
import type { ProcInfo } from '../../proc/types';
import type { Logger } from '../../log/logger';
import type { EntryRuntime } from './entry-runtime';

/** The process each seeking entry adopts: never one that another entry watches (`watchedBy`),
 *  and among entries seeking together each prefers one no other matches (assignProcesses). */
export function findForEntries(
  seeking: readonly EntryRuntime[],
  procs: readonly ProcInfo[],
  watchedBy: (pid: number) => EntryRuntime | undefined = () => undefined,
): Adoption<EntryRuntime, ProcInfo> {
  return assignProcesses(allMatches(seeking, procs), watchedBy);
}

/** Every matching process of each entry (at a death: what else of the program runs). */
export function allMatches(entries: readonly EntryRuntime[], procs: readonly ProcInfo[]): Map<EntryRuntime, ProcInfo[]> {
  // a set: an entry whose pname and program file are both names of one process sees it twice
  const all = new Map<EntryRuntime, Set<ProcInfo>>(entries.map((rt) => [rt, new Set()]));
  forEachMatch(entries, procs, (rt, p) => all.get(rt)!.add(p));
  return new Map([...all].map(([rt, set]) => [rt, [...set]]));
}

/** Calls `take` for each (entry, process) that the entry matches, looking each process up by
 *  its argv[0] and its program file (so possibly twice). */
function forEachMatch(entries: readonly EntryRuntime[], procs: readonly ProcInfo[], take: (rt: EntryRuntime, p: ProcInfo) => void): void {
  const byName = new Map<string, EntryRuntime[]>();
  for (const rt of entries) {
    for (const key of namesOf(rt)) {
      const list = byName.get(key);
      if (list) list.push(rt);
      else byName.set(key, [rt]);
    }
  }
  const consider = (list: EntryRuntime[] | undefined, p: ProcInfo) => {
    if (!list) return;
    for (const rt of list) if (rt.matches(p)) take(rt, p);
  };
  for (const p of procs) {
    consider(byName.get(p.argv[0]), p);
    if (p.exe !== null && programPath(p.exe) !== p.argv[0]) consider(byName.get(programPath(p.exe)), p);
  }
}

/** The names a quick scan must read afresh: those findForEntries looks processes up by. */
export function lookedFor(seeking: readonly EntryRuntime[]): Set<string> {
  return new Set(seeking.flatMap(namesOf));
}

/** An entry's process is looked up by its pname (compared with argv[0]) and by the realpath
 *  of pname (compared with /proc/PID/exe). */
function namesOf(rt: EntryRuntime): string[] {
  return rt.pnameReal === null || rt.pnameReal === rt.pent.pname ? [rt.pent.pname] : [rt.pent.pname, rt.pnameReal];
}

/** Tells the operator, once per process, that an entry matches a process another entry watches
 *  and so adopts nothing: two entries' strings both fit one command line (SPEC §10). `byPfile`:
 *  the watcher's pfile when it is another one (FailSafe mode). */
export function tellWatchedElsewhere(rt: EntryRuntime, proc: ProcInfo, by: EntryRuntime, log: Logger, byPfile: string | null = null): void {
  const key = `${proc.pid}:${proc.startTime}`;
  if (rt.toldWatched === key) return;
  rt.toldWatched = key;
  log.warning(`(${rt.pent.pname}) pid=${proc.pid} matches but is watched by pent_id ${by.pent.id}${byPfile === null ? '' : ` of pfile '${byPfile}'`}: not adopted; make the entries' include/exclude strings distinct`);
}
