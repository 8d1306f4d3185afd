// What a reload of a pfile changed, in one line for the log and padmin's answer: the entries
// added, removed and edited (matched as the reload matches them: by program, script and
// options — src/daemon/entries/entry-reload.ts), and the PARAM values that changed. An
// operator at 3 a.m. reads in the log what the edit did, not only "3 entries".
import { pentSignature, type Pent, type Pfile } from './model';

/** PARAM keys as written in the pfile, for the values a reload applies. */
type ParamKey = 'monitorInterval' | 'msgCheckInterval' | 'scriptTimeout' | 'restartWait' | 'shmDumpFile' | 'logFile' | 'syslog' | 'syslogFacility' | 'syslogSocket';
/** [field, key, read only at start (the log sinks are opened once: a reload does not move them)] */
const PARAM_KEYS: [ParamKey, string, boolean][] = [
  ['monitorInterval', 'MONITOR_INTERVAL', false],
  ['msgCheckInterval', 'MSG_CHECK_INTERVAL', false],
  ['scriptTimeout', 'SCRIPT_TIMEOUT', false],
  ['restartWait', 'RESTART_WAIT', false],
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

const show = (v: string | number | boolean | null): string => (v === null ? '-' : v === true ? 'on' : v === false ? 'off' : String(v));
const name = (p: Pent) => `${p.id}:${p.pname}`;

/** `no change`, or e.g. `added 3:/usr/sbin/a; removed /usr/sbin/b; edited 2:/opt/c (retry 3 -> 5); 1 unchanged; MONITOR_INTERVAL 5 -> 2`. */
export function reloadSummary(before: Pfile, after: Pfile): string {
  const old = new Map<string, Pent>();
  for (const p of before.pents) old.set(pentSignature(p), p);
  const added: string[] = [];
  const edited: string[] = [];
  let unchanged = 0;
  for (const p of after.pents) {
    const prev = old.get(pentSignature(p));
    if (prev === undefined) {
      added.push(name(p));
      continue;
    }
    old.delete(pentSignature(p));
    const diffs = PENT_FIELDS.filter(([k]) => prev[k] !== p[k]).map(([k, label]) => `${label} ${show(prev[k])} -> ${show(p[k])}`);
    if (diffs.length === 0) unchanged++;
    else edited.push(`${name(p)} (${diffs.join(', ')})`);
  }
  const removed = [...old.values()].map((p) => p.pname);
  const params = PARAM_KEYS.filter(([k]) => show(before.param[k]) !== show(after.param[k])).map(
    ([k, key, atStart]) => `${key} ${show(before.param[k])} -> ${show(after.param[k])}${atStart ? ' (read at start: applies when pcheck is restarted)' : ''}`,
  );
  const parts = [
    added.length > 0 ? `added ${added.join(', ')}` : '',
    removed.length > 0 ? `removed ${removed.join(', ')}` : '',
    edited.length > 0 ? `edited ${edited.join(', ')}` : '',
    ...params,
  ].filter((s) => s !== '');
  if (parts.length === 0) return 'no change';
  return [...parts, `${unchanged} unchanged`].join('; ');
}
