// The padmin side of the control channel: send one request line, read one answer line.
import { createConnection } from 'node:net';
import { ExitCode, NoDaemonError, ProcsafeError } from '../errors';
import { checkSocketPathLength, parseResponse, type ControlRequest, type ControlResponse } from './protocol';

/** An answer bigger than this is not from a pcheck (show pent of 10 000 entries is ~3 MiB). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

function connectError(path: string, err: NodeJS.ErrnoException): ProcsafeError {
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new NoDaemonError(`no pcheck answers on ${path} (the socket does not exist: is pcheck running, with this pfile or ini file and the same PROCSAFE_RUN_DIR?)`);
    case 'ECONNREFUSED':
      return new NoDaemonError(`no pcheck answers on ${path} (connection refused: a stale socket left by a pcheck that ended)`);
    case 'EACCES':
    case 'EPERM':
      return new ProcsafeError(
        `permission denied on ${path}: the control socket is owner-only (mode 0600); ` +
          'run padmin as the user that runs pcheck (usually root)',
        ExitCode.FAILURE,
      );
    default:
      return new ProcsafeError(`cannot talk to pcheck on ${path}: ${err.code ?? ''} ${err.message}`.trim(), ExitCode.FAILURE);
  }
}

/**
 * Sends `req` to the pcheck listening on `path` and returns its answer. Throws
 * NoDaemonError (exit 3) when nobody answers, ProcsafeError (exit 1) otherwise.
 */
export function request(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    // A throw here rejects: callers only ever see a rejection.
    checkSocketPathLength(path);
    const line = JSON.stringify(req) + '\n';
    const sock = createConnection(path);
    const chunks: Buffer[] = [];
    let size = 0;
    let connected = false;
    let settled = false;

    const finish = (err: Error | null, resp?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(resp as ControlResponse);
    };
    const timer = setTimeout(() => {
      const stage = connected ? 'no answer' : 'no connection';
      finish(new NoDaemonError(`no pcheck answers on ${path} (timed out after ${timeoutMs} ms: ${stage}; is pcheck hung?)`));
    }, timeoutMs);

    const parse = (line: string): void => {
      try {
        finish(null, parseResponse(line));
      } catch (e) {
        finish(new ProcsafeError(`bad answer from ${path}: ${(e as Error).message}`, ExitCode.FAILURE));
      }
    };

    sock.once('connect', () => {
      connected = true;
      sock.write(line);
    });
    sock.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      chunks.push(nl === -1 ? chunk : chunk.subarray(0, nl));
      size += chunk.length;
      if (nl !== -1) parse(Buffer.concat(chunks).toString('utf8'));
      else if (size > MAX_ANSWER_BYTES) {
        finish(new ProcsafeError(`answer from ${path} is over ${MAX_ANSWER_BYTES} bytes; giving up`, ExitCode.FAILURE));
      }
    });
    sock.once('end', () => {
      if (size > 0) parse(Buffer.concat(chunks).toString('utf8'));
      else finish(new ProcsafeError(`pcheck on ${path} closed the connection without answering; see its log`, ExitCode.FAILURE));
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) finish(connectError(path, err));
      // After connecting, a reset may follow an answer we already have; otherwise report it.
      else if (size > 0) parse(Buffer.concat(chunks).toString('utf8'));
      else finish(new ProcsafeError(`connection to pcheck on ${path} failed: ${err.code ?? err.message}`, ExitCode.FAILURE));
    });
  });
}
