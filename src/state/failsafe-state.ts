// The FailSafe state file (`[daemon] state_file`; default /var/lib/procsafe/failsafe.state): what
// must survive a restart of pcheck so that a persistent fault does not reboot the server on every
// start (SPEC §10 "No reboot loops", "No double start"): each group's state and who stopped it,
// each monitor's recovery chain, the OS final actions done (their limit), and the entries of the
// pfiles that have no SHM_DUMP_FILE of their own. Written atomically like the pfile state file
// (temporary file, fsync, rename); a corrupt file is set aside and pcheck starts afresh.
import { join } from 'node:path';
import { GROUP_STATES } from '../core/failsafe-model';
import type { FinalActionRecord } from '../core/final-action-limit';
import type { StoppedBy } from '../core/group-resume';
import { readJsonFile, snapshotProblem, writeJsonFile, type StateSnapshot } from './state-file';

export const FAILSAFE_STATE_VERSION = 1;

/** Where the state lives without `[daemon] state_file`: $PROCSAFE_STATE_DIR (tests, a second
 *  daemon beside the first), else /var/lib/procsafe, as systemd's StateDirectory=procsafe. */
export const DEFAULT_STATE_DIR = '/var/lib/procsafe';

export function failsafeStatePath(stateFile: string | null, env: NodeJS.ProcessEnv = process.env): string {
  return stateFile ?? join(env.PROCSAFE_STATE_DIR || DEFAULT_STATE_DIR, 'failsafe.state');
}

export interface GroupRecord {
  state: (typeof GROUP_STATES)[number];
  /** stopped on purpose: the next pcheck leaves it stopped until the operator starts it */
  stoppedBy: StoppedBy | null;
  restarts: number;
  /** its start or stop script running when this was written: a pcheck killed meanwhile leaves
   *  it running, and the next one stops it before it runs the group's scripts again */
  script?: ScriptRecord | null;
}

/** A group script that runs: its pid and start time (clock ticks since boot, against pid reuse). */
export interface ScriptRecord {
  phase: 'start' | 'stop';
  pid: number;
  startTime: number;
}

/** A monitor's recovery chain (src/core/recovery.ts) as persisted. */
export interface ChainRecord {
  /** the monitor's configuration when it was written: a changed monitor starts afresh */
  config: string;
  failures: number;
  groupRestarts: number;
  finalActionDone: boolean;
  /** why max_final_actions refused the final action (absent in older state files, or not a string: done) */
  finalActionRefused?: string | null;
  /** epoch ms of the last step of the chain (a failure counted, a restart, the final action) */
  changedAt: number | null;
  /** suspended by the operator (padmin monitor suspend): kept; a schedule's suspension is not */
  suspended: boolean;
}

export interface FailsafeSnapshot {
  version: 1;
  config: string;
  pcheckPid: number;
  /** epoch ms */
  writtenAt: number;
  bootId: string;
  /** how that pcheck ended; null while it runs (so a kill leaves null) */
  ended: string | null;
  groups: Record<string, GroupRecord>;
  monitors: Record<string, ChainRecord>;
  finalActions: FinalActionRecord[];
  /** the entries of each pfile without SHM_DUMP_FILE, by pfile path */
  pfiles: Record<string, StateSnapshot>;
}

/** `finalActions` of a corrupt file: the records it still holds (salvageFinalActions). */
export type ReadFailsafeResult = { snapshot: FailsafeSnapshot } | { missing: true } | { corrupt: string; movedTo: string | null; finalActions: FinalActionRecord[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

function groupProblem(name: string, g: unknown): string | null {
  if (!isObject(g)) return `groups.${name} is not an object`;
  if (!(GROUP_STATES as readonly unknown[]).includes(g.state)) return `groups.${name}.state is not a group state`;
  if (g.stoppedBy !== null && g.stoppedBy !== 'operator' && g.stoppedBy !== 'final_action') return `groups.${name}.stoppedBy has a bad value`;
  if (!isCount(g.restarts)) return `groups.${name}.restarts is not a count`;
  const s = g.script;
  if (s === undefined || s === null) return null;
  return isObject(s) && (s.phase === 'start' || s.phase === 'stop') && isCount(s.pid) && isCount(s.startTime) ? null : `groups.${name}.script is bad`;
}

function chainProblem(name: string, m: unknown): string | null {
  if (!isObject(m)) return `monitors.${name} is not an object`;
  if (typeof m.config !== 'string') return `monitors.${name}.config is not a string`;
  if (!isCount(m.failures) || !isCount(m.groupRestarts)) return `monitors.${name} has a bad count`;
  if (typeof m.finalActionDone !== 'boolean' || typeof m.suspended !== 'boolean') return `monitors.${name} has a bad flag`;
  return m.changedAt === null || isTime(m.changedAt) ? null : `monitors.${name}.changedAt is not a time`;
}

/** null if `v` is a FailSafe snapshot, else what is wrong with it (unknown extra fields are fine). */
export function failsafeProblem(v: unknown): string | null {
  if (!isObject(v)) return 'not a JSON object';
  if (v.version !== FAILSAFE_STATE_VERSION) return `unsupported version (expected ${FAILSAFE_STATE_VERSION})`;
  if (typeof v.config !== 'string' || typeof v.bootId !== 'string' || !isTime(v.writtenAt) || !isCount(v.pcheckPid)) return 'config, bootId, writtenAt or pcheckPid is missing or bad';
  if (v.ended !== null && typeof v.ended !== 'string') return '"ended" must be a string or null';
  if (!isObject(v.groups) || !isObject(v.monitors) || !isObject(v.pfiles) || !Array.isArray(v.finalActions)) return 'groups, monitors, pfiles or finalActions is missing';
  for (const [k, g] of Object.entries(v.groups)) {
    const p = groupProblem(k, g);
    if (p !== null) return p;
  }
  for (const [k, m] of Object.entries(v.monitors)) {
    const p = chainProblem(k, m);
    if (p !== null) return p;
  }
  for (const [i, a] of v.finalActions.entries()) {
    if (!isFinalAction(a)) return `finalActions[${i}] is bad`;
  }
  for (const [k, s] of Object.entries(v.pfiles)) {
    const p = snapshotProblem(s);
    if (p !== null) return `pfiles[${JSON.stringify(k)}]: ${p}`;
  }
  return null;
}

const isFinalAction = (a: unknown): a is FinalActionRecord => isObject(a) && typeof a.action === 'string' && typeof a.source === 'string' && isTime(a.at);

/** The OS final actions recorded in a state file of the wrong shape (its parsed JSON): a bad
 *  record elsewhere (a hand edit) must not lift max_final_actions and allow a second reboot. */
export function salvageFinalActions(v: unknown): FinalActionRecord[] {
  return isObject(v) && Array.isArray(v.finalActions) ? v.finalActions.filter(isFinalAction) : [];
}

export function readFailsafeState(path: string): ReadFailsafeResult {
  const r = readJsonFile(path, failsafeProblem);
  if ('value' in r) return { snapshot: r.value as FailsafeSnapshot };
  return 'corrupt' in r ? { corrupt: r.corrupt, movedTo: r.movedTo, finalActions: salvageFinalActions(r.parsed) } : r;
}

export function writeFailsafeState(path: string, s: FailsafeSnapshot, opts: { sync?: boolean } = {}): void {
  writeJsonFile(path, s, opts);
}
