// The control protocol between padmin and pcheck: one JSON line in, one JSON line out,
// over a unix stream socket named after the pfile's IPCKEY.
import { join } from 'node:path';
import { UsageError } from '../errors';

/**
 * Numbered error codes of a control answer. They are part of the interface: scripts that
 * drive padmin with `--json` see them, so a number is never reused for another meaning.
 */
export const ControlErrorCode = {
  /** the request line is not valid JSON, not a request object, or too long. */
  BAD_REQUEST: 10,
  /** `command` names nothing this daemon knows. */
  UNKNOWN_COMMAND: 11,
  /** the command is known but an argument is missing, of the wrong type or out of range. */
  BAD_ARGUMENT: 12,
  /** the command is valid but the daemon will not do it now (e.g. reload of a bad pfile:
   *  the old configuration keeps running). */
  REFUSED: 13,
  /** the request names a pfile (`args.pfile`) that this pcheck does not run: nothing was done
   *  (the IPCKEY of that pfile was edited, or two pfiles share an IPCKEY). */
  WRONG_PFILE: 14,
  /** the daemon failed while handling the request (a bug): see its log. */
  INTERNAL: 50,
} as const;
export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

export interface ControlRequest {
  command: string;
  args?: Record<string, unknown>;
}

export type ControlResponse =
  | { ok: true; text?: string; data?: unknown }
  | { ok: false; code: number; error: string };

/** Longest request line accepted, newline excluded. Real requests are a few hundred bytes. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Longest command name: commands are short words (`show pent`, `reload`). */
const MAX_COMMAND_LENGTH = 256;

/** A request that cannot be served, with the code to answer it with. */
export class ControlRequestError extends Error {
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControlRequestError';
  }
}

export function errorResponse(code: ControlErrorCode, error: string): ControlResponse {
  return { ok: false, code, error };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function quote(s: string, max = 60): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** Parses one request line (without its newline). Strict, because padmin and pcheck ship
 *  together: anything unexpected is a bug or a stranger, and is answered BAD_REQUEST. */
export function parseRequest(line: string): ControlRequest {
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > MAX_REQUEST_BYTES) {
    throw new ControlRequestError(
      ControlErrorCode.BAD_REQUEST,
      `request is ${bytes} bytes; the limit is ${MAX_REQUEST_BYTES}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new ControlRequestError(
      ControlErrorCode.BAD_REQUEST,
      `request is not JSON (${(e as Error).message}): ${quote(line)}`,
    );
  }
  if (!isPlainObject(value)) {
    throw new ControlRequestError(ControlErrorCode.BAD_REQUEST, 'request must be a JSON object {"command": …}');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'command' && key !== 'args') {
      throw new ControlRequestError(
        ControlErrorCode.BAD_REQUEST,
        `unexpected field ${quote(key)} in request; allowed: command, args`,
      );
    }
  }
  const { command, args } = value;
  if (typeof command !== 'string' || command.trim() === '') {
    throw new ControlRequestError(ControlErrorCode.BAD_REQUEST, 'request field "command" must be a non-empty string');
  }
  if (command.length > MAX_COMMAND_LENGTH) {
    throw new ControlRequestError(
      ControlErrorCode.BAD_REQUEST,
      `request field "command" is ${command.length} characters; the limit is ${MAX_COMMAND_LENGTH}`,
    );
  }
  // Control characters in a command would end up in log lines; no real command has them.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(command)) {
    throw new ControlRequestError(ControlErrorCode.BAD_REQUEST, `request field "command" contains control characters: ${quote(command)}`);
  }
  if (args === undefined) return { command };
  if (!isPlainObject(args)) {
    throw new ControlRequestError(ControlErrorCode.BAD_REQUEST, 'request field "args" must be a JSON object when present');
  }
  return { command, args };
}

/** Checks the shape of an answer read by the client (a stranger may sit on the socket). */
export function parseResponse(line: string): ControlResponse {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`answer is not JSON: ${quote(line)}`);
  }
  if (!isPlainObject(value) || typeof value.ok !== 'boolean') {
    throw new Error(`answer is not a control response: ${quote(line)}`);
  }
  if (value.ok) {
    if (value.text !== undefined && typeof value.text !== 'string') {
      throw new Error('answer field "text" must be a string');
    }
    const r: ControlResponse = { ok: true };
    if (value.text !== undefined) r.text = value.text;
    if ('data' in value) r.data = value.data;
    return r;
  }
  if (typeof value.code !== 'number' || !Number.isInteger(value.code) || typeof value.error !== 'string') {
    throw new Error(`error answer needs an integer "code" and a string "error": ${quote(line)}`);
  }
  return { ok: false, code: value.code, error: value.error };
}

/** The run directory holding the control sockets. */
export function defaultRunDir(): string {
  const d = process.env.PROCSAFE_RUN_DIR;
  return d !== undefined && d !== '' ? d : '/run/procsafe';
}

const SOCKET_NAME = /^pcheck-0x([0-9a-f]{8})\.sock$/;

/** `${runDir}/pcheck-0x1a2b3c4d.sock`: the IPCKEY in the name lets `padmin list` find every
 *  pcheck of the server by listing the run directory. */
export function socketPath(runDir: string, ipckey: number): string {
  if (!Number.isInteger(ipckey) || ipckey < 0 || ipckey > 0xffffffff) {
    throw new UsageError(`IPCKEY ${String(ipckey)} is out of range: it must be an integer from 0 to 0xffffffff`);
  }
  return join(runDir, `pcheck-0x${ipckey.toString(16).padStart(8, '0')}.sock`);
}

/** The IPCKEY named by a socket file name, or null if the name is not a control socket's. */
export function ipckeyOfSocketName(name: string): number | null {
  const m = SOCKET_NAME.exec(name);
  return m ? parseInt(m[1], 16) : null;
}

/** A unix socket path is limited by `sun_path` (108 bytes with its NUL on Linux). */
export const MAX_SOCKET_PATH_BYTES = 107;

export function checkSocketPathLength(path: string): void {
  const n = Buffer.byteLength(path);
  if (n > MAX_SOCKET_PATH_BYTES) {
    throw new UsageError(
      `control socket path is ${n} bytes, over the unix-socket limit of ${MAX_SOCKET_PATH_BYTES}: ${path}; ` +
        'set PROCSAFE_RUN_DIR to a shorter directory',
    );
  }
}

/** The control socket of a FailSafe-mode daemon (`pcheck --config`) in its run directory. */
export function failsafeSocketPath(runDir: string): string {
  return join(runDir, 'procsafe.sock');
}
