// What a starting pcheck does with each group, from what the previous pcheck left in the state
// file (SPEC §10 "No double start"; docs/failsafe.md "Restarts of pcheck"). Pure.
//
// - A group stopped on purpose — by the operator (`padmin group stop`) or by its `stop_group`
//   final action — stays Offline, in any boot, until the operator starts it. Caught Starting or
//   Stopping in the same boot (pcheck was SIGKILLed before the stop ended), its stop script runs
//   once more: the stop asked for was never finished, and part of the application may run.
// - In the same boot, a group that was Online (pcheck was killed, or stopped with
//   --keep-running) is checked: when its pfile's entries find their processes and its monitors
//   pass one check, it is adopted Online without its start script; otherwise restarted (stop
//   script first, then start script). One caught Starting, Stopping or in Error is restarted
//   that way too: part of it may run.
// - Otherwise (no record, another boot, Offline after the previous pcheck stopped it): started.
import type { GroupState } from './failsafe-model';

export type StoppedBy = 'operator' | 'final_action';

/** A group as the previous pcheck left it. */
export interface PersistedGroup {
  state: GroupState;
  stoppedBy: StoppedBy | null;
  restarts: number;
}

export type GroupResume =
  | { kind: 'start' }
  | { kind: 'leaveStopped'; by: StoppedBy; finishStop: boolean }
  | { kind: 'adoptIfRunning' }
  | { kind: 'restart'; was: GroupState };

export function groupResume(p: PersistedGroup | undefined, sameBoot: boolean): GroupResume {
  if (p === undefined) return { kind: 'start' };
  if (p.stoppedBy !== null) return { kind: 'leaveStopped', by: p.stoppedBy, finishStop: sameBoot && (p.state === 'Starting' || p.state === 'Stopping') };
  if (!sameBoot) return { kind: 'start' };
  if (p.state === 'Online') return { kind: 'adoptIfRunning' };
  if (p.state === 'Offline') return { kind: 'start' };
  return { kind: 'restart', was: p.state };
}
