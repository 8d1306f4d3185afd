// How an alert reads: the one-line form of `padmin alerts` and the syslog line, and the
// subject and plain-text body of the alert mail. Pure functions.
import type { ProcsafeEvent } from '../core/events';

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-11-23 18:00:01`, local time (as the log lines, without milliseconds). */
export function localTime(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Mail headers and one-line views must not carry a line break from a message or a name. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim();
}

/** `padmin alerts`: one line per event, oldest first, e.g.
 *  `2026-11-23 18:00:01 retry_over /usr/bin/java: (/usr/bin/java) RETRY_OVER:EXIT`. */
export function formatAlerts(events: ProcsafeEvent[]): string {
  if (events.length === 0) return '(no alerts recorded)';
  return events.map((e) => `${localTime(e.at)} ${e.kind} ${oneLine(e.subject)}: ${oneLine(e.message)}`).join('\n');
}

/** The line that goes to the log (and so to syslog) for an alerted event. */
export function syslogLine(e: ProcsafeEvent): string {
  return `ALERT ${e.kind} ${oneLine(e.subject)}: ${oneLine(e.message)}`;
}

/** `[procsafe] web01: retry_over /usr/bin/java` */
export function mailSubject(e: ProcsafeEvent): string {
  return oneLine(`[procsafe] ${e.server}: ${e.kind} ${e.subject}`);
}

/** Plain text: server, time, kind, subject, message, then every field. */
export function mailBody(e: ProcsafeEvent): string {
  const lines = [
    `procsafe on ${e.server} reports: ${e.kind} ${e.subject}`,
    '',
    `Server:  ${e.server}`,
    `Time:    ${new Date(e.at).toISOString()} (${localTime(e.at)} local)`,
    `Kind:    ${e.kind}`,
    `Subject: ${e.subject}`,
    `Message: ${e.message}`,
  ];
  const keys = Object.keys(e.fields);
  if (keys.length > 0) {
    lines.push('', 'Fields:');
    const w = Math.max(...keys.map((k) => k.length));
    for (const k of keys) lines.push(`  ${`${k}:`.padEnd(w + 1)} ${e.fields[k] === null ? '-' : String(e.fields[k])}`);
  }
  lines.push('', '-- ', `Sent by procsafe. Recent alerts: padmin alerts (on ${e.server}).`);
  return lines.join('\n') + '\n';
}

/** `1s`, `30s`, `2m`, `250ms`: for "next try in …". */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60000 === 0) return `${ms / 60000}m`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

const WRAPPER_CODES = new Set(['ESOCKET', 'ECONNECTION', 'EDNS', 'EENVELOPE', 'EMESSAGE', 'EPROTOCOL', 'ETIMEDOUT', 'EAUTH', 'ETLS']);

/** A short reason for a failed delivery: the errno when there is one (`ECONNREFUSED`, `ENOTFOUND`),
 *  else the code and first line of the message (`ETIMEDOUT: Greeting never received`). */
export function describeError(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const o = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  if (o.name === 'TimeoutError' || o.name === 'AbortError') return 'timed out';
  const msg = typeof o.message === 'string' ? oneLine(o.message.split('\n')[0]) : '';
  const code = typeof o.code === 'string' ? o.code : '';
  if (/^E[A-Z]+$/.test(code) && !WRAPPER_CODES.has(code)) return code;
  // nodemailer: code ESOCKET, message `connect ECONNREFUSED 127.0.0.1:25`
  const errno = /\b(E[A-Z]{3,})\b/.exec(msg)?.[1];
  if (errno !== undefined && !WRAPPER_CODES.has(errno)) return errno;
  // fetch: TypeError `fetch failed` with the socket error as its cause
  if (o.cause !== undefined && o.cause !== err) return describeError(o.cause);
  if (code && msg) return `${code}: ${msg}`;
  return msg || code || Object.prototype.toString.call(err);
}
