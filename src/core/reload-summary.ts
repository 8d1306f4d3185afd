// What a reload of a pfile changed, in one line for the log and padmin's answer: the entries
// added, removed and edited (matched as the reload matches them: by program, script and
// options — src/daemon/entries/entry-reload.ts), and the PARAM values that changed. An
// operator at 3 a.m. reads in the log what the edit did, not only "3 entries".
import { pentSignature, type Pent, type Pfile } from './model';

/** PARAM keys as written in the pfile, for the values a reload applies. */
type ParamKey = 'monitorInterval' | 'msgCheckInterval' | 'scriptTimeout' | 'restartWait' | 'initialWait' | 'shmDumpFile' | 'logFile' | 'syslog' | 'syslogFacility' | 'syslogSocket';
/** [field, key, a log sink (opened once at start: a reload does not move it)] */
const PARAM_KEYS: [ParamKey, string, boolean][] = [
  ['monitorInterval', 'MONITOR_INTERVAL', false],
  ['msgCheckInterval', 'MSG_CHECK_INTERVAL', false],
  ['scriptTimeout', 'SCRIPT_TIMEOUT', false],
  ['restartWait', 'RESTART_WAIT', false],
  ['initialWait', 'INITIAL_WAIT', false],
  ['shmDumpFile', 'SHM_DUMP_FILE', false],
  ['logFile', 'LOG_FILE', true],
  ['syslog', 'SYSLOG', true],
  ['syslogFacility', 'SYSLOG_FACILITY', true],
  ['syslogSocket', 'SYSLOG_SOCKET', true],
];

/** The fields an entry keeps its identity through (its signature is pname, script, options). */
const PENT_FIELDS: ['retryLimit' | 'grace' | 'retryOverAction', string][] = [
  ['retryLimit', 'retry'],
  ['grace', 'grace'],
  ['retryOverAction', 'action'],
];

/** Names listed per part; a reload of a pfile of 1,000 entries stays one readable line
 *  (syslog cuts long messages): the rest is counted, `padmin show pent` lists them all. */
export const MAX_NAMED = 10;

export interface SummaryOptions {
  /** entries the reload kept although their options changed: a restart under way carries on
   *  under the edited entry (entry-reload.ts takeRestarting), [before, after] */
  carried?: readonly (readonly [Pent, Pent])[];
  /** FailSafe mode: a group pfile's LOG_FILE and SYSLOG* are not used ([daemon] log_file is) */
  failsafe?: boolean;
}

const show = (v: string | number | boolean | null): string => (v === null ? '-' : v === true ? 'on' : v === false ? 'off' : String(v));
const name = (p: Pent) => `${p.id}:${p.pname}`;
const capped = (names: string[]): string => (names.length <= MAX_NAMED ? names.join(', ') : `${names.slice(0, MAX_NAMED).join(', ')} and ${names.length - MAX_NAMED} more`);

/** A removed entry by its pname; one of several with that pname also by its options (they
 *  tell them apart: the loader refuses two entries that can match the same process). */
function removedName(p: Pent, all: readonly Pent[]): string {
  return all.some((q) => q !== p && q.pname === p.pname) ? `${p.pname} [${p.optionsText || '-'}]` : p.pname;
}

/** `no change`, or e.g. `added 3:/usr/sbin/a; removed /usr/sbin/b; edited 2:/opt/c (retry 3 -> 5); MONITOR_INTERVAL 5 -> 2; 1 unchanged`. */
export function reloadSummary(before: Pfile, after: Pfile, o: SummaryOptions = {}): string {
  const old = new Map<string, Pent>();
  for (const p of before.pents) old.set(pentSignature(p), p);
  const carriedFrom = new Map<Pent, Pent>();
  for (const [from, to] of o.carried ?? []) {
    carriedFrom.set(to, from);
    old.delete(pentSignature(from));
  }
  const added: string[] = [];
  const edited: string[] = [];
  let unchanged = 0;
  for (const p of after.pents) {
    const carried = carriedFrom.get(p);
    const prev = carried ?? old.get(pentSignature(p));
    if (prev === undefined) {
      added.push(name(p));
      continue;
    }
    if (carried === undefined) old.delete(pentSignature(p));
    const diffs = PENT_FIELDS.filter(([k]) => prev[k] !== p[k]).map(([k, label]) => `${label} ${show(prev[k])} -> ${show(p[k])}`);
    if (carried !== undefined) diffs.push(`options ${show(prev.optionsText || null)} -> ${show(p.optionsText || null)}: its restart under way carries on`);
    if (diffs.length === 0) unchanged++;
    else edited.push(`${name(p)} (${diffs.join(', ')})`);
  }
  const removed = [...old.values()].map((p) => removedName(p, before.pents));
  const logNote = o.failsafe ? ' (not used in FailSafe mode: [daemon] log_file and syslog are)' : ' (read at start: applies when pcheck is restarted)';
  // INITIAL_WAIT not written follows MONITOR_INTERVAL: that change is listed, not twice
  const follows = (p: Pfile) => p.param.initialWait === p.param.monitorInterval;
  const changed = ([k]: [ParamKey, string, boolean]) => show(before.param[k]) !== show(after.param[k]) && (k !== 'initialWait' || !follows(before) || !follows(after));
  const params = PARAM_KEYS.filter(changed).map(
    ([k, key, logSink]) => `${key} ${show(before.param[k])} -> ${show(after.param[k])}${logSink ? logNote : ''}`,
  );
  const parts = [
    added.length > 0 ? `added ${capped(added)}` : '',
    removed.length > 0 ? `removed ${capped(removed)}` : '',
    edited.length > 0 ? `edited ${capped(edited)}` : '',
    ...params,
  ].filter((s) => s !== '');
  if (parts.length === 0) return 'no change';
  return [...parts, `${unchanged} unchanged`].join('; ');
}
