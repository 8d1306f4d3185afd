// What the FailSafe daemon's rooms see of each other: the wiring (failsafe-daemon.ts) builds
// them, and the rooms that act across them (start-up, padmin requests, reload, status) take
// this, not the daemon.
import type { FailsafeConfig } from '../../core/failsafe-model';
import type { Logger } from '../../log/logger';
import type { EventFields } from '../shared/events';
import type { EventKind } from '../../core/events';
import type { Alerter } from '../../alerts/alerter';
import type { FinalActions } from './final-actions';
import type { Groups } from './groups';
import type { Monitors } from './monitors';
import type { FailsafeState } from './persistence';
import type { Pfiles } from './pfiles';
import type { Schedules } from './schedules';

export interface Rooms {
  readonly log: Logger;
  /** the configuration running now (reload replaces it) */
  cfg: FailsafeConfig;
  readonly groups: Groups;
  readonly monitors: Monitors;
  readonly pfiles: Pfiles;
  readonly schedules: Schedules;
  readonly finals: FinalActions;
  readonly state: FailsafeState;
  readonly alerter: Alerter | null;
  readonly rehearse: boolean;
  readonly startedAt: number;
  /** pcheck stops: no operation starts anything */
  stopping(): boolean;
  /** one event to alerts, the web page and metrics */
  emit(kind: EventKind, subject: string, message: string, fields: EventFields): void;
}

/** Each pfile of the configuration and the group that holds it (null: a monitor's only). */
export function pfileGroups(cfg: FailsafeConfig): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const mon of cfg.monitors) if (mon.type === 'process') m.set(mon.pfile, mon.target);
  for (const g of cfg.groups) if (g.pfile !== null) m.set(g.pfile, g.name);
  return m;
}
