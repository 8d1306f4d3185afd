// Each entry of an entry set as the state file records it, and its JSON kept while the
// entry is unchanged (writeStateEntries): a restart changes one entry of perhaps 1,000, and
// the file is written at each change.
import type { EntrySnapshot } from '../../state/state-file';
import type { EntryRuntime } from './entry-runtime';

export function entrySnapshot(rt: EntryRuntime): EntrySnapshot {
  const s = rt.state;
  return {
    pentId: rt.pent.id,
    signature: rt.signature,
    pname: rt.pent.pname,
    procSts: s.procSts,
    monitorSts: s.monitorSts,
    pid: s.pid,
    startTime: s.startTime,
    retryCount: s.retryCount,
    restartCount: s.restartCount,
    rerunTime: s.rerunTime,
    upSinceMono: s.upSinceMono,
    restart: s.procSts === 'RESTARTING' ? { scriptRunning: s.scriptRunning, script: rt.script, deadlineMono: s.deadlineMono } : null,
  };
}

interface Made {
  state: EntryRuntime['state'];
  script: EntryRuntime['script'];
  pent: EntryRuntime['pent'];
  json: string;
}

/** JSON.stringify(entrySnapshot(rt)), made again only when the entry's state, script or pent
 *  has changed: the daemon replaces these objects, never changes them in place. */
export class EntryJson {
  private readonly made = new WeakMap<EntryRuntime, Made>();

  of(rt: EntryRuntime): string {
    const m = this.made.get(rt);
    if (m !== undefined && m.state === rt.state && m.script === rt.script && m.pent === rt.pent) return m.json;
    const json = JSON.stringify(entrySnapshot(rt));
    this.made.set(rt, { state: rt.state, script: rt.script, pent: rt.pent, json });
    return json;
  }
}
