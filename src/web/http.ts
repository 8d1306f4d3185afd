// Small HTTP helpers shared by the web server and the metrics server: errors as status codes,
// answers with the security headers, JSON that holds no markup, bounded request bodies.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 16 * 1024;
/** Connections of the allowed clients open at once (the Gate adds a few for refused ones). */
export const MAX_CONNECTIONS = 256;
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

/** Thrown by a route: the answer is `{"error": message}` with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
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

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', htmlSafeJson(value), headers);
}

/** Answers a route's failure: an HttpError as itself, anything else as a 500 whose reason goes to `logErr`. */
export function sendFailure(req: IncomingMessage, res: ServerResponse, e: unknown, logErr: (m: string) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof HttpError) {
    sendJson(res, e.status, { error: e.message }, e.headers);
    if (e.status === 413) req.resume();
    return;
  }
  logErr(`Web: ${printable(req.method ?? '')} ${printable(req.url ?? '')} failed: ${(e as Error).message}`);
  sendJson(res, 500, { error: "internal error (see the daemon's log)" });
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
export async function jsonBody(req: IncomingMessage, emptyOk: boolean): Promise<Record<string, unknown>> {
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

export function checkName(raw: string, what: string): string {
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

/** Control characters out of what we log about a request (paths are attacker-chosen). */
// eslint-disable-next-line no-control-regex
export const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);

/** `host:port` / `[v6]:port` → its parts. Throws with the value (and `what`, e.g. `[web] listen`) in the message. */
export function parseListen(listen: string, what = '[web] listen'): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(listen) ?? /^([^\s:[\]]+):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new Error(`${what} = ${listen}: expected HOST:PORT, e.g. 127.0.0.1:29003 or [::1]:29003`);
  }
  return { host: m[1], port };
}

/** An address that cannot be listened on; `problem` says why and what to do (the [web] page's exit 2 line). */
export class ListenError extends Error {
  constructor(
    readonly problem: string,
    message: string,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

/** Why an address cannot be listened on, and what to do (`key` names the setting to change). */
function listenProblem(e: NodeJS.ErrnoException, host: string, port: number, key: string): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `the address is already in use (another pcheck, or another program: ss -ltnp 'sport = :${port}'); stop it, or set ${key} to a free port`;
    case 'EADDRNOTAVAIL':
      return `this server has no address ${host} (ip -br addr); set ${key} to one of its addresses`;
    case 'EACCES':
      return `port ${port} is below 1024 and needs root; run pcheck as root or choose a port above 1023`;
    default:
      return `${e.code ?? ''} ${e.message}`.trim();
  }
}

/** Listens with the limits every procsafe HTTP server has; a busy address is a ListenError that says so. */
export async function listen(server: Server, host: string, port: number, listenText: string, what: string, key = '[web] listen'): Promise<void> {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000; // the whole request; an open live feed is a response, not affected
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const short = e.code === 'EADDRINUSE' ? 'the address is in use' : e.message;
      reject(new ListenError(listenProblem(e, host, port, key), `cannot listen on ${listenText} for ${what}: ${short}`));
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
