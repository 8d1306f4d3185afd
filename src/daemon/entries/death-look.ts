// At a death, what else of the program runs (SPEC §10 "never two copies"): one quick scan for
// every entry whose process died in the same loop turn, then, per entry, its successor (the
// process that carries the program on) or the workers the dead process left in its session.
// The choice is the pure afterDeath(); this module reads the facts it needs from /proc.
import { readFileSync } from 'node:fs';
import { afterDeath, type AfterDeath, type Candidate } from '../../core/successor-policy';
import { resolvePname } from '../../proc/proc-table';
import { CLK_TCK, readStat } from '../../proc/proc-stat';
import { compileMatcher } from '../../proc/match';
import type { ProcessTable } from '../../proc/types';
import type { EntryRuntime } from './entry-runtime';
import { allMatches, lookedFor } from './scan-index';

/** Clock ticks since boot now, on the clock of /proc start times (boot time, suspend included). */
function ticksNow(): number {
  return Math.round(Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * CLK_TCK);
}

/** Re-resolves pname (an upgrade may have re-pointed a symlink) and recompiles the matcher if it moved. */
export function refreshProgram(rt: EntryRuntime): void {
  const real = resolvePname(rt.pent.pname);
  if (real === rt.pnameReal) return;
  rt.pnameReal = real;
  rt.matches = compileMatcher(rt.pent, real);
}

/**
 * `dead`: entries whose watched process (rt.watched) just died. `taken`: pids other entries
 * watch (never anyone's successor or worker). Costs one quick scan, plus one stat read per
 * process that matches a dead entry.
 */
export function lookAfterDeaths(dead: readonly EntryRuntime[], table: ProcessTable, taken: ReadonlySet<number>): Map<EntryRuntime, AfterDeath> {
  const out = new Map<EntryRuntime, AfterDeath>();
  if (dead.length === 0) return out;
  dead.forEach(refreshProgram);
  // only the processes with a dead entry's names (a fork keeps its parent's argv and program
  // file) and those started since the last scan are read: without a readdir of /proc when the
  // table can (ns_last_pid), else one quick scan
  const recheck = lookedFor(dead);
  for (const rt of dead) if (rt.watched?.argv0) recheck.add(rt.watched.argv0);
  const procs = table.candidates?.(recheck) ?? table.scan({ recheck, recheckSince: performance.now() });
  const matches = allMatches(dead, procs);
  let now: number | null = null; // read only when a process of a dead entry runs
  for (const rt of dead) {
    const w = rt.watched;
    const candidates: Candidate[] = [];
    for (const p of matches.get(rt) ?? []) {
      if (taken.has(p.pid) || p.pid === w?.pid) continue;
      const st = readStat(p.pid); // afresh: a daemonizing child calls setsid() after the fork
      if (st === null || st.startTime !== p.startTime || st.state === 'Z' || st.state === 'X') continue;
      now ??= ticksNow();
      candidates.push({ pid: p.pid, startTime: p.startTime, argv0: p.argv[0], sid: st.session, ageMs: ((now - p.startTime) * 1000) / CLK_TCK });
    }
    // a process pcheck killed as hung did not exit to leave a fork in its place
    const forks = rt.state.hangKilledMono === null;
    out.set(rt, afterDeath({ pid: w?.pid ?? -1, argv0: w?.argv0 ?? null, sid: w?.sid ?? null }, rt.pent.pname, candidates, forks));
  }
  return out;
}
