// Which entries a reload keeps (SPEC §6 reload, docs/decisions.md "Reload"): an entry whose
// signature (pname, strings, script) is unchanged is the same entry — it keeps its state, its
// death watch and its running script, with the new options; an entry whose options are edited
// while its restart is under way carries that restart on (never a second script and copy); a new
// one starts as at start-up; a removed one is let go (no watch, no wait for its script).
import { initialState, type Clock } from '../../core/entry-model';
import { startEntry } from '../../core/entry-start';
import { pentSignature, type Pent, type Pfile } from '../../core/model';
import { newRuntime, retarget, type EntryRuntime } from './entry-runtime';

/** The entries of `next`, matched against the running ones; `letGo` gets the removed ones,
 *  `carried` the edited ones kept for their restart under way ([before, after]). */
export function reloadEntries(running: readonly EntryRuntime[], next: Pfile, now: Clock, letGo: (rt: EntryRuntime) => void, carried?: (from: Pent, to: Pent) => void): EntryRuntime[] {
  const old = new Map(running.map((rt) => [rt.signature, rt]));
  const same = next.pents.map((pent) => old.get(pentSignature(pent)) ?? null);
  for (const prev of same) if (prev) old.delete(prev.signature);
  const kept = next.pents.map((pent, i): EntryRuntime => {
    const prev = same[i] ?? takeRestarting(old, pent);
    if (prev && !same[i]) carried?.(prev.pent, pent);
    if (prev) {
      retarget(prev, pent, next.param);
      return prev;
    }
    const rt = newRuntime(pent, next.param, initialState());
    rt.state = startEntry(rt.cfg, now).state;
    return rt;
  });
  for (const gone of old.values()) {
    letGo(gone);
    gone.unwatch?.();
    gone.stopAwait?.();
  }
  return kept;
}

/** An entry that a reload edits (its options) while its restart is under way (the script runs,
 *  or waits for the reap or the workers): the same program and restart script, so the edited
 *  entry carries that restart on (never a second script and copy; a SIGTERM still stops it). */
function takeRestarting(old: Map<string, EntryRuntime>, pent: Pent): EntryRuntime | null {
  for (const [sig, rt] of old) {
    const underWay = rt.state.procSts === 'RESTARTING' && (rt.state.scriptRunning || rt.clearing !== null);
    if (underWay && rt.pent.pname === pent.pname && rt.pent.restartScript === pent.restartScript) {
      old.delete(sig);
      return rt;
    }
  }
  return null;
}
