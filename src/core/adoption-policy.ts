// Which process each looking entry adopts (SPEC §10 "every entry watches its own process").
// Pure: the daemon's scan passes, per looking entry, the processes it matches, and who watches
// what now.
//
// The load-time check (src/config/pent-overlap.ts) refuses entries whose include strings
// contain one another, but it cannot see command lines: the guide's `include_strings=apache&
// tomcat` and `include_strings=/opt/tomcat2` both match Tomcat 2 (`-Dcatalina.base=/opt/tomcat2
// … org.apache.catalina…`). So at run time:
// - a process another entry watches is never adopted (two entries never watch one process);
// - entries looking at once (start-up) do not take the same process, and each prefers a process
//   that no other looking entry matches, then the oldest; the entry with the fewest candidates
//   chooses first. So both Tomcats are watched, each by its own entry.
// An entry whose every match is watched by another is told to the operator (`blocked`).

export interface Proc {
  pid: number;
  startTime: number;
}

export interface Adoption<E, P extends Proc> {
  /** the process each entry adopts now */
  adopt: Map<E, P>;
  /** entries that adopt nothing though they match a process: the oldest such, and its watcher */
  blocked: Map<E, { proc: P; by: E }>;
}

function older(a: Proc, b: Proc): boolean {
  return a.startTime !== b.startTime ? a.startTime < b.startTime : a.pid < b.pid;
}

function oldest<P extends Proc>(procs: readonly P[]): P | null {
  let best: P | null = null;
  for (const p of procs) if (best === null || older(p, best)) best = p;
  return best;
}

/**
 * `looking`: each looking entry with the processes it matches (in any order). `watchedBy`: the
 * entry that watches a pid now, if any. Costs O(matches) plus a sort of the looking entries.
 */
export function assignProcesses<E, P extends Proc>(looking: ReadonlyMap<E, readonly P[]>, watchedBy: (pid: number) => E | undefined): Adoption<E, P> {
  const free = new Map<E, P[]>();
  /** how many looking entries match each free process */
  const owners = new Map<number, number>();
  for (const [e, procs] of looking) {
    const mine = procs.filter((p) => watchedBy(p.pid) === undefined);
    free.set(e, mine);
    for (const p of mine) owners.set(p.pid, (owners.get(p.pid) ?? 0) + 1);
  }
  const adopt = new Map<E, P>();
  const taken = new Map<number, E>();
  // the most constrained first: an entry with one candidate gets it before one with a choice
  const order = [...free.keys()].sort((a, b) => free.get(a)!.length - free.get(b)!.length);
  for (const e of order) {
    const avail = free.get(e)!.filter((p) => !taken.has(p.pid));
    const pick = oldest(avail.filter((p) => owners.get(p.pid) === 1)) ?? oldest(avail);
    if (pick === null) continue;
    adopt.set(e, pick);
    taken.set(pick.pid, e);
  }
  const blocked = new Map<E, { proc: P; by: E }>();
  for (const [e, procs] of looking) {
    if (adopt.has(e)) continue;
    const proc = oldest(procs);
    const by = proc === null ? undefined : (watchedBy(proc.pid) ?? taken.get(proc.pid));
    if (proc !== null && by !== undefined && by !== e) blocked.set(e, { proc, by });
  }
  return { adopt, blocked };
}
