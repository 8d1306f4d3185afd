// The web page, its JSON API, a live feed (server-sent events) and /metrics, on one small
// HTTP server bound to `[web] listen` (loopback by default) and protected by a bearer token.
//
// Self-contained: the daemon passes in how to read its status and how to act; nothing here
// knows about pcheck's internals. Every route that returns data or changes something needs
// the token; only the static page shell (HTML, JS, CSS, icon: the same bytes for every
// installation, no data) is served without it, so that a reload works once the page has
// taken the token out of the address bar. See docs/api.md and docs/web.md.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { ProcsafeEvent } from '../core/events';
import { ExitCode, ProcsafeError } from '../errors';
import type { StatusView } from '../daemon/failsafe/status';
import type { Logger } from '../log/logger';
import { APP_JS } from './app-js';
import { FAVICON_SVG, PAGE_CSS, PAGE_HTML } from './page';

export type WebAction =
  | { target: 'group'; op: 'start' | 'stop' | 'restart'; name: string }
  | { target: 'monitor'; op: 'suspend' | 'resume' | 'clear'; name: string }
  | { target: 'entry'; op: 'start' | 'stop' | 'reset'; pfile: string; pentId: number };

export interface WebServerOptions {
  /** `host:port` or `[v6addr]:port`; bound exactly (port 0: any free port, for tests). */
  listen: string;
  /** the token file; null: `${stateDir}/web.token`. Created (0600, directory 0700) if missing. */
  tokenFile: string | null;
  stateDir: string;
  log: Logger;
  status(): StatusView;
  /** the recent alert log, oldest first */
  recentEvents(): ProcsafeEvent[];
  /** the Prometheus text of GET /metrics (see renderMetrics in ./metrics) */
  metrics(): string;
  act(a: WebAction): Promise<{ ok: boolean; message: string }>;
  /** SSE heartbeat comment period; default 15 000 ms. */
  heartbeatMs?: number;
  /** a status snapshot is pushed at least this often while clients listen; default 5 000 ms. */
  refreshMs?: number;
}

export interface WebServer {
  /** the page's URL, with `?token=`: print it at start-up, it opens the page. */
  url: string;
  /** the URL without the token (for logs) */
  baseUrl: string;
  /** pushes one event to every live page (SSE `event: alert`) */
  publish(e: ProcsafeEvent): void;
  /** asks for a fresh status snapshot to be pushed (coalesced: at most one per 100 ms) */
  statusChanged(): void;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 16 * 1024;
const STATUS_MIN_INTERVAL_MS = 100;
/** a live page that reads slower than this much buffered output is dropped (it reconnects). */
const MAX_SSE_BUFFER_BYTES = 1024 * 1024;
const MAX_SSE_CLIENTS = 64;
const MAX_NAME_LENGTH = 200;

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

// ---- listen address and token ------------------------------------------------------------

/** Parses `host:port` / `[v6]:port`. Throws with the value in the message. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(listen) ?? /^([^\s:[\]]+):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new Error(`[web] listen = ${listen}: expected HOST:PORT, e.g. 127.0.0.1:29003 or [::1]:29003`);
  }
  return { host: m[1], port };
}

/** Why the web page cannot listen, and what to do. */
function listenProblem(e: NodeJS.ErrnoException, host: string, port: number): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `the address is already in use (another pcheck --config, or another program: ss -ltnp 'sport = :${port}'); stop it, or set [web] listen to a free port`;
    case 'EADDRNOTAVAIL':
      return `this server has no address ${host} (ip -br addr); set [web] listen to one of its addresses`;
    case 'EACCES':
      return `port ${port} is below 1024 and needs root; run pcheck as root or choose a port above 1023`;
    default:
      return `${e.code ?? ''} ${e.message}`.trim();
  }
}

/** A token from a file: one line of at least 16 visible ASCII characters. */
const TOKEN_SHAPE = /^[\x21-\x7e]{16,1024}$/;

/**
 * Reads the token file, or creates it (32 random bytes, hex; mode 0600; its directory 0700
 * when created) if it does not exist. Throws on an unreadable or malformed file.
 */
export function loadOrCreateToken(file: string, log: Logger): { token: string; created: boolean } {
  const read = (): string | null => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the web token file ${file}: ${(e as Error).message}`, { cause: e });
    }
    const token = text.trim();
    if (!TOKEN_SHAPE.test(token)) {
      throw new Error(
        `the web token file ${file} must hold one token of 16 to 1024 visible ASCII characters (no spaces); ` +
          'delete it and a new one is generated at the next start',
      );
    }
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      log.warning(`The web token file ${file} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
    }
    return token;
  };
  const existing = read();
  if (existing !== null) return { token: existing, created: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  try {
    // wx: never follow or overwrite a file that appeared meanwhile
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600); // the umask may have taken bits away; never added any
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const again = read();
      if (again !== null) return { token: again, created: false };
    }
    throw new Error(`cannot create the web token file ${file}: ${(e as Error).message}`, { cause: e });
  }
  return { token, created: true };
}

// ---- HTTP helpers ------------------------------------------------------------------------

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(buf.length), ...headers });
  res.end(buf);
}

/**
 * JSON with `<`, `>`, `&` and U+2028/9 as \u escapes: the same value for any JSON parser, but
 * no markup in the bytes, so a process name or check output like `<script>` cannot be
 * rendered by a browser that sniffs, a proxy error page or a careless log viewer.
 */
export function htmlSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', htmlSafeJson(value), headers);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
      reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (done) return;
      done = true;
      reject(e);
    });
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON object of a POST body; an empty body is `{}` when `emptyOk`. */
async function jsonBody(req: IncomingMessage, emptyOk: boolean): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  if (body.length === 0 && emptyOk) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'the request body must be JSON (Content-Type: application/json)');
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (!isPlainObject(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value;
}

function checkName(raw: string, what: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `bad ${what} name in the path`);
  }
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f/]/.test(name)) {
    throw new HttpError(400, `bad ${what} name`);
  }
  return name;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Control characters out of what we log about a request (paths are attacker-chosen). */
// eslint-disable-next-line no-control-regex
const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);

// ---- the server --------------------------------------------------------------------------

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const { host, port } = parseListen(opts.listen);
  const tokenFile = opts.tokenFile ?? join(opts.stateDir, 'web.token');
  const { token, created } = loadOrCreateToken(tokenFile, opts.log);
  if (created) opts.log.notice(`Web token generated in ${tokenFile} (mode 0600)`);
  const tokenDigest = sha256(token);
  const log = opts.log;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const refreshMs = opts.refreshMs ?? 5_000;

  /** constant-time: both sides are hashed to 32 bytes first, so lengths leak nothing either. */
  const tokenOk = (given: string | null | undefined): boolean =>
    typeof given === 'string' && given.length > 0 && timingSafeEqual(sha256(given), tokenDigest);

  const bearer = (req: IncomingMessage): string | null => {
    const h = req.headers.authorization;
    if (h === undefined) return null;
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(h);
    return m ? m[1] : '';
  };

  // One log line per minute at most about refused requests (a scanner must not flood the log).
  let lastRefusalLog = -Infinity;
  let refusedSince = 0;
  const refuse = (req: IncomingMessage, res: ServerResponse): void => {
    refusedSince++;
    const now = performance.now();
    if (now - lastRefusalLog > 60_000) {
      log.warning(
        `Web: refused ${refusedSince} request(s) without a valid token, the last from ${req.socket.remoteAddress ?? '?'} (${printable(req.method ?? '')} ${printable(req.url ?? '')})`,
      );
      lastRefusalLog = now;
      refusedSince = 0;
    }
    sendJson(res, 401, { error: 'unauthorized: send Authorization: Bearer TOKEN (see docs/api.md)' }, { 'WWW-Authenticate': 'Bearer realm="procsafe"' });
  };

  // ---- live feed ----
  /** live pages → the last status JSON each was sent (a snapshot is never sent twice in a row) */
  const clients = new Map<ServerResponse, string | null>();
  const write = (res: ServerResponse, chunk: string): void => {
    if (res.writableLength > MAX_SSE_BUFFER_BYTES) {
      clients.delete(res);
      res.destroy(); // a stuck reader: it reconnects and gets a fresh snapshot
      return;
    }
    res.write(chunk);
  };
  const broadcast = (chunk: string): void => {
    for (const c of [...clients.keys()]) write(c, chunk);
  };
  const sendStatus = (res: ServerResponse, json: string): void => {
    if (clients.get(res) === json) return;
    clients.set(res, json);
    write(res, `event: status\ndata: ${json}\n\n`);
  };
  const statusFrame = (): string | null => {
    try {
      return htmlSafeJson(opts.status());
    } catch (e) {
      log.err(`Web: reading the status failed: ${(e as Error).message}`);
      return null;
    }
  };

  let closed = false;
  let lastPushAt = -Infinity;
  let pushTimer: NodeJS.Timeout | null = null;
  const pushStatus = (): void => {
    pushTimer = null;
    lastPushAt = performance.now();
    if (closed || clients.size === 0) return;
    const json = statusFrame();
    if (json === null) return;
    for (const c of [...clients.keys()]) sendStatus(c, json);
  };
  const statusChanged = (): void => {
    if (closed || pushTimer !== null) return;
    const wait = Math.max(0, lastPushAt + STATUS_MIN_INTERVAL_MS - performance.now());
    pushTimer = setTimeout(pushStatus, wait);
  };
  const heartbeat = setInterval(() => broadcast(': heartbeat\n\n'), heartbeatMs);
  heartbeat.unref();
  const refresher = setInterval(() => {
    if (clients.size > 0) statusChanged();
  }, refreshMs);
  refresher.unref();

  const openEvents = (req: IncomingMessage, res: ServerResponse): void => {
    if (clients.size >= MAX_SSE_CLIENTS) throw new HttpError(503, `too many live pages (${MAX_SSE_CLIENTS}); close some`);
    const json = statusFrame();
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 30_000);
    clients.set(res, null);
    const bye = (): void => {
      clients.delete(res);
    };
    res.on('close', bye); // the page went away (or close() ended it)
    res.on('error', bye);
    write(res, `retry: 2000\n\n`);
    if (json !== null) sendStatus(res, json);
  };

  // ---- routes ----
  const act = async (res: ServerResponse, a: WebAction, from: string): Promise<void> => {
    const what = a.target === 'entry' ? `entry ${a.op} ${a.pfile} pent ${a.pentId}` : `${a.target} ${a.op} ${a.name}`;
    log.info(`Web: ${what} requested from ${from}`);
    let r: { ok: boolean; message: string };
    try {
      r = await opts.act(a);
    } catch (e) {
      log.err(`Web: ${what} failed: ${(e as Error).message}`);
      throw new HttpError(500, `${what} failed: internal error (see the daemon's log)`);
    }
    statusChanged();
    sendJson(res, r.ok ? 200 : 409, { ok: r.ok, message: r.message });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'bad request URL');
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const isGet = method === 'GET' || method === 'HEAD';

    // The page shell: static, the same for every installation, no data.
    const shell: Record<string, [string, string]> = {
      '/': ['text/html; charset=utf-8', PAGE_HTML],
      '/app.js': ['text/javascript; charset=utf-8', APP_JS],
      '/app.css': ['text/css; charset=utf-8', PAGE_CSS],
      '/favicon.svg': ['image/svg+xml', FAVICON_SVG],
    };
    if (Object.hasOwn(shell, path)) {
      if (!isGet) throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      const [type, body] = shell[path];
      send(res, 200, type, body);
      return;
    }

    // Everything else: no token, no data (and no hint of which routes exist).
    const header = bearer(req);
    const viaQuery = path === '/api/events' && header === null ? url.searchParams.get('token') : null;
    if (!tokenOk(header ?? viaQuery)) {
      refuse(req, res);
      return;
    }

    const from = req.socket.remoteAddress ?? '?';
    const seg = path.split('/').slice(1); // '/api/groups/web/restart' → ['api','groups','web','restart']
    if (path === '/api/status' || path === '/api/alerts' || path === '/metrics' || path === '/api/events') {
      if (!isGet) throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      if (path === '/api/status') sendJson(res, 200, opts.status());
      else if (path === '/api/alerts') sendJson(res, 200, opts.recentEvents());
      else if (path === '/metrics') send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', opts.metrics());
      else if (method === 'HEAD') send(res, 200, 'text/event-stream; charset=utf-8', '');
      else openEvents(req, res);
      return;
    }
    if (seg.length === 4 && seg[0] === 'api' && (seg[1] === 'groups' || seg[1] === 'monitors')) {
      const ops = seg[1] === 'groups' ? ['start', 'stop', 'restart'] : ['suspend', 'resume', 'clear'];
      if (!ops.includes(seg[3])) throw new HttpError(404, `no such operation; use one of ${ops.join(', ')}`);
      if (method !== 'POST') throw new HttpError(405, 'method not allowed', { Allow: 'POST' });
      const name = checkName(seg[2], seg[1] === 'groups' ? 'group' : 'monitor');
      await jsonBody(req, true);
      const a: WebAction =
        seg[1] === 'groups'
          ? { target: 'group', op: seg[3] as 'start' | 'stop' | 'restart', name }
          : { target: 'monitor', op: seg[3] as 'suspend' | 'resume' | 'clear', name };
      await act(res, a, from);
      return;
    }
    if (seg.length === 3 && seg[0] === 'api' && seg[1] === 'entries') {
      if (!['start', 'stop', 'reset'].includes(seg[2])) throw new HttpError(404, 'no such operation; use one of start, stop, reset');
      if (method !== 'POST') throw new HttpError(405, 'method not allowed', { Allow: 'POST' });
      const b = await jsonBody(req, false);
      const extra = Object.keys(b).filter((k) => k !== 'pfile' && k !== 'pentId');
      if (extra.length > 0) throw new HttpError(400, `unexpected field ${JSON.stringify(extra[0].slice(0, 40))}; the body is {"pfile": PATH, "pentId": N}`);
      const { pfile, pentId } = b;
      // eslint-disable-next-line no-control-regex
      if (typeof pfile !== 'string' || pfile === '' || pfile.length > 4096 || /[\u0000-\u001f]/.test(pfile)) {
        throw new HttpError(400, '"pfile" must be the path of a pfile, as in /api/status');
      }
      if (typeof pentId !== 'number' || !Number.isInteger(pentId) || pentId < 1 || pentId > 1e9) {
        throw new HttpError(400, '"pentId" must be a positive integer (pent_id)');
      }
      await act(res, { target: 'entry', op: seg[2] as 'start' | 'stop' | 'reset', pfile, pentId }, from);
      return;
    }
    throw new HttpError(404, 'not found (see docs/api.md)');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) {
        sendJson(res, e.status, { error: e.message }, e.headers);
        if (e.status === 413) req.resume();
      } else {
        log.err(`Web: ${printable(req.method ?? '')} ${printable(req.url ?? '')} failed: ${(e as Error).message}`);
        sendJson(res, 500, { error: "internal error (see the daemon's log)" });
      }
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000; // the whole request; an open live feed is a response, not affected
  server.maxConnections = 256;

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      // a configuration this server cannot serve: exit 2, before any group is started
      reject(new ProcsafeError(`[web] listen = ${opts.listen}: cannot listen for the web page: ${listenProblem(e, host, port)}`, ExitCode.USAGE));
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => log.err(`Web server error: ${e.message}`));

  const bound = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${hostPart}:${bound}/`;
  log.notice(`Web page on ${baseUrl} (token in ${tokenFile})`);

  return {
    url: `${baseUrl}?token=${token}`,
    baseUrl,
    publish(e: ProcsafeEvent): void {
      if (closed || clients.size === 0) return;
      let json: string;
      try {
        json = htmlSafeJson(e);
      } catch {
        return; // an event must never break the daemon
      }
      broadcast(`event: alert\ndata: ${json}\n\n`);
    },
    statusChanged,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearInterval(refresher);
      if (pushTimer) clearTimeout(pushTimer);
      for (const c of clients.keys()) c.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
