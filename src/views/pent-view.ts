// What padmin, the web page and /metrics show of a pfile's entries (PentView), and padmin's
// text formats of it (SPEC §6): blocks of `key = value` whose `=` signs line up. Below daemon/,
// web/ and cli/, which all import it.
import type { PfileParam } from '../core/model';
import type { MonitorSts, ProcSts, RetryOverAction } from '../core/states';

/** What `show pent` reports of one entry; also the JSON of `padmin --json`. */
export interface PentView {
  pent_id: number;
  pname: string;
  pid: number | null;
  retry_count: number;
  restart_count: number;
  proc_sts: ProcSts;
  retry_over_act: RetryOverAction;
  /** epoch ms, null before the first restart */
  rerun_time: number | null;
  include_strings: string[];
  exclude_strings: string[];
  user: string | null;
  monitor_sts: MonitorSts;
  restart_script: string;
  retry_limit: number;
  grace: number;
}

const NONE = '-----';
const KEY_WIDTH = 'include_strings'.length;

export function block(rows: [string, string | number][]): string {
  const w = Math.max(KEY_WIDTH, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)} = ${v}`).join('\n');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** ctime(3) format in local time: `Wed Oct 12 10:40:48 2011` (day of month space-padded). */
export function ctime(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`
  );
}

export function formatPent(v: PentView): string {
  const rows: [string, string | number][] = [
    ['pname', v.pname],
    ['pid', v.pid ?? NONE],
    ['retry_count', v.retry_count],
    ['restart_count', v.restart_count],
    ['proc_sts', v.proc_sts],
    ['retry_over_act', v.retry_over_act],
    ['rerun_time', v.rerun_time === null ? NONE : ctime(v.rerun_time)],
  ];
  if (v.include_strings.length > 0) rows.push(['include_strings', v.include_strings.join('&')]);
  if (v.exclude_strings.length > 0) rows.push(['exclude_strings', v.exclude_strings.join('&')]);
  if (v.user !== null) rows.push(['user', v.user]);
  rows.push(['pent_id', v.pent_id], ['monitor_sts', v.monitor_sts]);
  return block(rows);
}

/** `show pent`: one block per entry, blocks separated by a blank line. */
export function formatShowPent(views: PentView[]): string {
  return views.map(formatPent).join('\n\n');
}

/** `show param`: the PARAM keys in force, then `extra` rows (how deaths are watched). */
export function formatShowParam(p: PfileParam, extra: [string, string][] = []): string {
  return block([
    ['IPCKEY', p.ipckeyText],
    ['MONITOR_INTERVAL', p.monitorInterval],
    ['MSG_CHECK_INTERVAL', p.msgCheckInterval],
    ['SHM_DUMP_FILE', p.shmDumpFile ?? NONE],
    ['LOG_FILE', p.logFile ?? NONE],
    ['SYSLOG', p.syslog ? 'on' : 'off'],
    ['SYSLOG_FACILITY', p.syslogFacility],
    ['SYSLOG_SOCKET', p.syslogSocket],
    ['SCRIPT_TIMEOUT', p.scriptTimeout],
    ['RESTART_WAIT', p.restartWait],
    ['INITIAL_WAIT', p.initialWait],
    ...extra,
  ]);
}
