// `clplogcmd -m MSG [-l LEVEL]` from a start, stop or restart script (CLUSTERPRO's command,
// so that its scripts run unchanged): the script's environment names the control socket of
// the pcheck that runs it (PS_SOCKET), and that pcheck writes MSG into its own log. Both
// modes answer the same `log` request: the wrapper below sits in front of their handlers.
import { join } from 'node:path';
import { SCRIPT_PATH } from '../exec/run-script';
import type { Logger, SeverityName } from '../log/logger';
import { ControlErrorCode, type ControlRequest, type ControlResponse } from './protocol';
import type { ControlHandler } from './server';

/** CLUSTERPRO's levels (clplogcmd -l), and the severity each has in procsafe's log. */
export const CLP_LEVELS: Readonly<Record<string, SeverityName>> = { ERR: 'err', WARN: 'warning', INFO: 'info' };

/** CLUSTERPRO cuts a message at 511 bytes; so do we (a script cannot flood the log with one line). */
export const MAX_MESSAGE_BYTES = 511;

/** procsafe's bin directory (pcheck, padmin, clplogcmd), from dist/src/control/. */
export const BIN_DIR = join(__dirname, '..', '..', '..', 'bin');

/**
 * What a script needs for clplogcmd: PS_SOCKET (where this pcheck listens), and a PATH that
 * ends with procsafe's bin directory, so `clplogcmd` is found wherever procsafe is installed
 * (after the system directories: it shadows nothing).
 */
export function scriptLogEnv(socket: string | null): Record<string, string> {
  return { PATH: `${SCRIPT_PATH}:${BIN_DIR}`, ...(socket === null ? {} : { PS_SOCKET: socket }) };
}

/** The arguments of a `log` request, as clplogcmd sends them. */
export interface ScriptLogArgs {
  message: string;
  level: string;
  /** the script's PS_GROUP / PS_PNAME, to say whose line it is */
  group?: string;
  pname?: string;
}

/** One line of the log: control characters become blanks, and the text is cut at MAX_MESSAGE_BYTES. */
export function cleanMessage(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const buf = Buffer.from(flat, 'utf8');
  if (buf.length <= MAX_MESSAGE_BYTES) return flat;
  // cut on a character boundary: drop a partial UTF-8 sequence at the end
  return buf.subarray(0, MAX_MESSAGE_BYTES).toString('utf8').replace(/\uFFFD$/, '') + ' ...';
}

/** The log line of a script's message: `Group web clplogcmd: MSG`, `(pname) clplogcmd: MSG`. */
export function scriptLogLine(a: ScriptLogArgs): string {
  const who = a.group !== undefined ? `Group ${cleanMessage(a.group)} ` : a.pname !== undefined ? `(${cleanMessage(a.pname)}) ` : '';
  return `${who}clplogcmd: ${cleanMessage(a.message)}`;
}

function bad(error: string): ControlResponse {
  return { ok: false, code: ControlErrorCode.BAD_ARGUMENT, error };
}

const optionalString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';

/** Answers `log` requests itself and passes every other request to `next`. */
export function withScriptLog(log: Logger, next: ControlHandler): ControlHandler {
  return (req: ControlRequest) => {
    if (req.command !== 'log') return next(req);
    const a = req.args ?? {};
    if (typeof a.message !== 'string') return bad('log: args.message must be a string');
    const level = typeof a.level === 'string' ? a.level.toUpperCase() : 'INFO';
    const severity = CLP_LEVELS[level];
    if (severity === undefined) return bad(`log: level ${JSON.stringify(a.level)} is not one of ${Object.keys(CLP_LEVELS).join(', ')}`);
    if (!optionalString(a.group) || !optionalString(a.pname)) return bad('log: args.group and args.pname must be strings');
    log.log(severity, scriptLogLine({ message: a.message, level, group: a.group, pname: a.pname }));
    return { ok: true };
  };
}
