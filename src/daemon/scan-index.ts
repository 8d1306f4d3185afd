// Finds, in one pass over the process table, the oldest matching process of every entry
// that is looking for one. Entries are indexed by pname (compared with argv[0]) and by the
// realpath of pname (compared with /proc/PID/exe), so a scan costs O(processes), not
// O(entries × processes): with 1,000 entries and 3,000 processes that is 3,000 lookups
// instead of 3 million matcher calls.
import { isOlder } from '../proc/match';
import type { ProcInfo } from '../proc/types';
import type { EntryRuntime } from './entry-runtime';

export function findForEntries(seeking: readonly EntryRuntime[], procs: readonly ProcInfo[]): Map<EntryRuntime, ProcInfo> {
  const byName = new Map<string, EntryRuntime[]>();
  for (const rt of seeking) {
    for (const key of namesOf(rt)) {
      const list = byName.get(key);
      if (list) list.push(rt);
      else byName.set(key, [rt]);
    }
  }
  const best = new Map<EntryRuntime, ProcInfo>();
  const consider = (list: EntryRuntime[] | undefined, p: ProcInfo) => {
    if (!list) return;
    for (const rt of list) {
      const cur = best.get(rt);
      if ((cur === undefined || isOlder(p, cur)) && rt.matches(p)) best.set(rt, p);
    }
  };
  for (const p of procs) {
    consider(byName.get(p.argv[0]), p);
    if (p.exe !== null && p.exe !== p.argv[0]) consider(byName.get(p.exe), p);
  }
  return best;
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
