// Reload of a FailSafe daemon (SIGHUP, padmin reload, an edit seen by the file watch): the ini
// file and every pfile it names are read and checked first, and the edit is applied whole or
// refused whole (SPEC §10 "Reload": padmin says `refused`, exit 1, with pcheck's reason; the
// running configuration stays). Unchanged groups and monitors keep running with their counters;
// a changed group keeps its state; a new one starts; a removed one is left as it is.
import type { FailsafeConfig, MonitorConfig } from '../../core/failsafe-model';
import { implicitProcessMonitors } from '../../core/failsafe-model';
import type { Pfile } from '../../core/model';
import type { ControlResponse } from '../../control/protocol';
import { reasonOf, refuseReload } from '../shared/requests';
import { pfileGroups, type Rooms } from './rooms';

export interface ReloadHooks {
  loadConfig(path: string): FailsafeConfig;
  /** the new pfiles, monitors and groups, once the running ones are changed (async: sockets) */
  addLater(pfiles: [string, string | null][], monitors: MonitorConfig[], groups: string[]): void;
  /** the configuration is replaced: alerts, schedules and the file watch follow it */
  replaced(next: FailsafeConfig): void;
}

export function reloadFailsafe(r: Rooms, h: ReloadHooks, by: string): ControlResponse {
  if (r.stopping()) return refuseReload(r.log, by, 'pcheck is stopping');
  let next: FailsafeConfig;
  let wanted: Map<string, string | null>;
  let loaded: Map<string, Pfile>;
  try {
    next = h.loadConfig(r.cfg.path);
    wanted = pfileGroups(next);
    loaded = r.pfiles.check(wanted);
  } catch (e) {
    return refuseReload(r.log, by, reasonOf(e));
  }
  r.log.notice(`Command execute. [reload] config='${r.cfg.path}' (${by})`);
  const newGroups = next.groups.filter((g) => r.groups.set(g)).map((g) => g.name);
  for (const name of r.groups.names()) if (!next.groups.some((g) => g.name === name)) r.groups.drop(name);
  for (const path of r.pfiles.paths()) {
    if (wanted.has(path)) continue;
    void r.pfiles.remove(path);
    r.state.forget(path);
  }
  const pfileChanges = r.pfiles.apply(loaded, wanted);
  const monitors = [...next.monitors, ...implicitProcessMonitors(next)];
  const addMonitors = r.monitors.reconcile(monitors);
  const held = new Set(r.pfiles.paths());
  h.addLater(
    [...wanted].filter(([path]) => !held.has(path)),
    addMonitors,
    newGroups,
  );
  r.cfg = next;
  h.replaced(next);
  r.state.persistSoon();
  return { ok: true, text: [`reloaded ${next.path}: ${next.groups.length} groups, ${monitors.length} monitors`, ...pfileChanges.map((c) => `pfile ${c}`)].join('\n') };
}
