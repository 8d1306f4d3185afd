// The control socket server of a pcheck: one request per connection, answered at once.
import { chmodSync, existsSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { ExitCode, ProcsafeError } from '../errors';
import {
  checkSocketPathLength,
  ControlErrorCode,
  ControlRequestError,
  errorResponse,
  ipckeyOfSocketName,
  MAX_REQUEST_BYTES,
  parseRequest,
  type ControlRequest,
  type ControlResponse,
} from './protocol';

export type ControlHandler = (req: ControlRequest) => ControlResponse | Promise<ControlResponse>;

export interface ControlServerOptions {
  /** a connection that has not sent a whole request after this long is closed (default 5 s). */
  idleTimeoutMs?: number;
  /** longest request line (default 64 KiB). */
  maxRequestBytes?: number;
  /** errors of the listening socket after start-up (e.g. EMFILE on accept); the server
   *  keeps running. Without it they are dropped rather than crash the daemon. */
  onError?: (err: Error) => void;
}

export interface ControlServer {
  /** Stops listening, drops open connections and removes the socket file. */
  close(): Promise<void>;
}

/** How long a live owner of the socket has to accept our probe connection. */
const PROBE_TIMEOUT_MS = 1000;

type Probe = 'alive' | 'stale';

/** Connects to an existing socket file to tell a running pcheck from a leftover of a dead one. */
function probe(path: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const timer = setTimeout(() => {
      // Accepting is done by the kernel; a timeout means a full backlog, i.e. someone is there.
      s.destroy();
      resolve('alive');
    }, PROBE_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('alive');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else reject(new ProcsafeError(`cannot check the existing control socket ${path}: ${err.code ?? err.message}`, ExitCode.USAGE));
    });
  });
}

function alreadyServed(path: string): ProcsafeError {
  const key = ipckeyOfSocketName(basename(path));
  const what = key === null ? 'this socket' : `IPCKEY 0x${key.toString(16).padStart(8, '0')}`;
  return new ProcsafeError(
    `another pcheck already serves ${what} (socket ${path}); give each pfile its own IPCKEY`,
    ExitCode.USAGE,
  );
}

async function clearOldSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  // Never unlink something that is not a socket: the path may be a misconfiguration.
  if (!st.isSocket()) {
    throw new ProcsafeError(`${path} exists and is not a socket; remove it or choose another run directory`, ExitCode.USAGE);
  }
  if ((await probe(path)) === 'alive') throw alreadyServed(path);
  unlinkSync(path);
}

function ensureRunDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  // 0755 whatever the umask: `padmin list` run by anyone may list the sockets; each socket
  // is still owner-only.
  chmodSync(dir, 0o755);
}

/** Binds with a umask that makes the socket owner-only from its first instant: a chmod
 *  after bind would leave a window where anyone could connect. */
function listenOwnerOnly(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(alreadyServed(path));
      else reject(new ProcsafeError(`cannot listen on control socket ${path}: ${err.code ?? err.message}`, ExitCode.USAGE));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // bind(2) happens synchronously inside listen() for a unix socket in the main process.
    const old = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(old);
    }
  });
}

function serveConnection(sock: Socket, handle: ControlHandler, idleTimeoutMs: number, maxBytes: number): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let answered = false;

  // EPIPE/ECONNRESET from a client that went away must not reach the process.
  sock.on('error', () => sock.destroy());
  sock.setTimeout(idleTimeoutMs, () => sock.destroy());

  const answer = (resp: ControlResponse): void => {
    let line: string;
    try {
      line = JSON.stringify(resp) + '\n';
    } catch (e) {
      line = JSON.stringify(errorResponse(ControlErrorCode.INTERNAL, `answer cannot be encoded: ${(e as Error).message}`)) + '\n';
    }
    if (sock.destroyed) return;
    // Close fully once the answer is out: a client that never closes its side must not
    // hold a paused connection open for ever (the peer still reads what was sent).
    sock.once('finish', () => sock.destroy());
    sock.end(line);
  };

  const serve = (line: string): void => {
    answered = true;
    sock.setTimeout(0); // the handler may take a while (reload); the client has its own timeout
    sock.pause();
    let req: ControlRequest;
    try {
      req = parseRequest(line);
    } catch (e) {
      const code = e instanceof ControlRequestError ? e.code : ControlErrorCode.BAD_REQUEST;
      answer(errorResponse(code, (e as Error).message));
      return;
    }
    Promise.resolve()
      .then(() => handle(req))
      .then(answer, (e: unknown) => {
        answer(errorResponse(ControlErrorCode.INTERNAL, `internal error: ${e instanceof Error ? e.message : String(e)}`));
      });
  };

  sock.on('data', (chunk: Buffer) => {
    if (answered) return;
    const nl = chunk.indexOf(0x0a);
    const upto = nl === -1 ? chunk.length : nl;
    if (size + upto > maxBytes) {
      answered = true;
      sock.setTimeout(0);
      answer(errorResponse(ControlErrorCode.BAD_REQUEST, `request is longer than ${maxBytes} bytes`));
      // Whatever else the client sends is discarded; end() closes once the answer is out.
      chunks.length = 0;
      return;
    }
    chunks.push(nl === -1 ? chunk : chunk.subarray(0, nl));
    size += upto;
    if (nl !== -1) serve(Buffer.concat(chunks).toString('utf8').replace(/\r$/, ''));
  });
  // A client that half-closes without a newline (e.g. `printf … | socat`) still gets its answer.
  sock.on('end', () => {
    if (!answered && size > 0) serve(Buffer.concat(chunks).toString('utf8'));
    else if (!answered) sock.end();
  });
}

/**
 * Listens on `path` (a unix socket, mode 0600) and answers each connection's single
 * request line with `handle`'s answer. Refuses to start if another live process serves
 * the same path; replaces a stale socket left by a dead one.
 */
export async function startControlServer(
  path: string,
  handle: ControlHandler,
  opts: ControlServerOptions = {},
): Promise<ControlServer> {
  const idleTimeoutMs = opts.idleTimeoutMs ?? 5000;
  const maxBytes = opts.maxRequestBytes ?? MAX_REQUEST_BYTES;
  checkSocketPathLength(path);
  ensureRunDir(dirname(path));
  await clearOldSocket(path);

  const open = new Set<Socket>();
  // allowHalfOpen: a client's end-of-input must not close our side before we answer.
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    serveConnection(sock, handle, idleTimeoutMs, maxBytes);
  });
  await listenOwnerOnly(server, path);
  server.on('error', (err) => opts.onError?.(err));
  chmodSync(path, 0o600); // belt and braces: the umask already gave 0600
  // Remember which file is ours, so close() never removes a successor's socket.
  const ino = statSync(path).ino;

  let closing: Promise<void> | null = null;
  return {
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
        try {
          if (statSync(path).ino === ino) unlinkSync(path);
        } catch {
          // already gone: nothing to clean
        }
      });
      return closing;
    },
  };
}
