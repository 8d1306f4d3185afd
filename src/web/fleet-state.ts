// The state of one server on the Servers view, from its /api/status (pure; docs/fleet.md):
//   Error       a group Error, a monitor Error, or an entry RETRY_OVER: procsafe gave up, a
//               person must act;
//   Warning     something is not running or not watched, or is on its way: a group
//               Offline/Starting/Stopping, a monitor Warning/Suspended/Offline, an entry
//               WAIT/DOWN/RESTARTING or with monitoring off, or a state word this version
//               does not know;
//   Normal      everything else: groups Online, monitors Normal, entries AVAIL;
//   Unreachable its status could not be read (no answer, refused, not procsafe): decided
//               by the poller, not here.
import type { StatusView } from '../views/status-view';

export type FleetState = 'Normal' | 'Warning' | 'Error' | 'Unreachable';

export interface FleetServerView {
  /** [fleet:NAME], or this server's [daemon] name */
  name: string;
  /** this server (the first row) */
  self: boolean;
  /** its page (configured), null for this server */
  url: string | null;
  state: FleetState;
  /** why it is not Normal, worst first (at most MAX_REASONS, then "… and N more") */
  reasons: string[];
  /** as the server reports them; null when it could not be read */
  version: string | null;
  groups: Record<string, number> | null;
  monitors: Record<string, number> | null;
  entries: Record<string, number> | null;
  /** when its status was last read (epoch ms); null for this server (live) and before the first answer */
  checkedAt: number | null;
}

export type Summary = Pick<FleetServerView, 'state' | 'reasons' | 'version' | 'groups' | 'monitors' | 'entries'>;

const MAX_REASONS = 5;

const ERROR_WORDS = new Set(['Error', 'RETRY_OVER']);
const FINE_WORDS = new Set(['Online', 'Normal', 'AVAIL']);

function count(words: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of words) out[w] = (out[w] ?? 0) + 1;
  return out;
}

/** The state of a server from its status: the worst of its groups, monitors and entries. */
export function summarize(v: StatusView): Summary {
  const errors: string[] = [];
  const warnings: string[] = [];
  const judge = (what: string, word: string): void => {
    if (ERROR_WORDS.has(word)) errors.push(`${what} ${word}`);
    else if (!FINE_WORDS.has(word)) warnings.push(`${what} ${word}`);
  };
  for (const g of v.groups) judge(`group ${g.name}`, g.state);
  for (const m of v.monitors) judge(`monitor ${m.name}`, m.status);
  const entries = v.pfiles.flatMap((p) => p.entries);
  for (const e of entries) {
    const what = `entry ${e.pent_id} (${e.pname})`;
    if (e.monitor_sts === 'off' && e.proc_sts !== 'RETRY_OVER') warnings.push(`${what} monitoring off`);
    else judge(what, e.proc_sts);
  }
  const all = [...errors, ...warnings];
  const reasons = all.length > MAX_REASONS ? [...all.slice(0, MAX_REASONS), `… and ${all.length - MAX_REASONS} more`] : all;
  return {
    state: errors.length > 0 ? 'Error' : warnings.length > 0 ? 'Warning' : 'Normal',
    reasons,
    version: v.server.version,
    groups: count(v.groups.map((g) => g.state)),
    monitors: count(v.monitors.map((m) => m.status)),
    entries: count(entries.map((e) => e.proc_sts)),
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const arrayOf = (x: unknown, keys: Record<string, 'string' | 'number'>): boolean =>
  Array.isArray(x) && x.every((i) => isObj(i) && Object.entries(keys).every(([k, t]) => typeof i[k] === t));

/** What is wrong with a fetched body as a StatusView (null: it is one, as far as summarize() reads it). */
export function statusShapeProblem(x: unknown): string | null {
  if (!isObj(x) || !isObj(x.server) || typeof x.server.name !== 'string' || typeof x.server.version !== 'string') return 'no server name and version';
  if (!arrayOf(x.groups, { name: 'string', state: 'string' })) return 'no list of groups';
  if (!arrayOf(x.monitors, { name: 'string', status: 'string' })) return 'no list of monitors';
  if (!arrayOf(x.pfiles, { path: 'string' })) return 'no list of pfiles';
  for (const p of x.pfiles as Record<string, unknown>[]) {
    if (!arrayOf(p.entries, { pent_id: 'number', pname: 'string', proc_sts: 'string', monitor_sts: 'string' })) return 'no list of entries';
  }
  return null;
}
