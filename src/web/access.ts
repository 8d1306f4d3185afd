// Who may use the web page, the API and /metrics: first the client's address (`[web] allow`,
// METRICS_ALLOW: 403), then the bearer token (401). The address comes first so that a client
// outside the list learns nothing, not even whether its token would do.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { BlockList, isIPv4, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { LOOPBACK_CIDRS, listenHost, listenNeedsAllow, parseCidr } from '../config/net-access';
import type { Logger } from '../log/logger';
import { MAX_CONNECTIONS, printable, sendJson } from './http';

/**
 * Connections from addresses outside the list that may be open at once, and how long each may
 * stay (its 403 needs only the request line and headers). More are closed at once: a scanner
 * or a flood from outside the list must never take the connections of the allowed clients
 * (Prometheus, the fleet's other servers, the operators).
 */
export const MAX_OUTSIDE_CONNECTIONS = 16;
const OUTSIDE_TIMEOUT_MS = 5000;

/** A token from a file: one line of at least 16 visible ASCII characters. */
const TOKEN_SHAPE = /^[\x21-\x7e]{16,1024}$/;

/**
 * Reads the token file, or creates it (32 random bytes, hex; mode 0600; its directory 0700
 * when created) if it does not exist. Throws on an unreadable or malformed file. `what`
 * names it in messages ("web token file").
 */
export function loadOrCreateToken(file: string, log: Logger, what = 'web token file'): { token: string; created: boolean } {
  const read = (): string | null => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the ${what} ${file}: ${(e as Error).message}`, { cause: e });
    }
    const token = text.trim();
    if (!TOKEN_SHAPE.test(token)) {
      throw new Error(
        `the ${what} ${file} must hold one token of 16 to 1024 visible ASCII characters (no spaces); ` +
          'delete it and a new one is generated at the next start',
      );
    }
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      log.warning(`The ${what} ${file} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
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
    throw new Error(`cannot create the ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
  return { token, created: true };
}

export interface GateOptions {
  listen: string;
  /** CIDR blocks; null: loopback only (then `listen` must be a loopback address). */
  allow: readonly string[] | null;
  /** the key that sets `allow`, for messages: `[web] allow`, `METRICS_ALLOW` */
  allowKey: string;
  token: string;
  log: Logger;
  /** the first word of the refusal log lines: `Web` (default), `Metrics` */
  logPrefix?: string;
}

export interface Gate {
  /** The client's address is in the list; otherwise the answer is 403 and false. */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * Call once the server listens: at most MAX_OUTSIDE_CONNECTIONS connections from outside the
   * list at once, each for at most a few seconds; the allowed clients keep MAX_CONNECTIONS.
   */
  guard(server: Server): void;
  /** constant-time comparison with the token */
  tokenOk(given: string | null | undefined): boolean;
  /** the token of `Authorization: Bearer …`; '' for another scheme, null without the header */
  bearer(req: IncomingMessage): string | null;
  /** answers 401 (and logs it, at most once a minute) */
  refuse(req: IncomingMessage, res: ServerResponse): void;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The allowed clients as a BlockList (an IPv4 block also matches its ::ffff: form). */
export function clientList(allow: readonly string[] | null): BlockList {
  const list = new BlockList();
  for (const text of allow ?? LOOPBACK_CIDRS) {
    const c = parseCidr(text);
    if (typeof c === 'string') throw new Error(`allow: ${c}`);
    list.addSubnet(c.address, c.prefix, c.family);
  }
  return list;
}

/** At most one log line a minute per kind of refusal: a scanner must not flood the log. */
function refusalLog(log: Logger, prefix: string, what: string): (addr: string | undefined, request: string) => void {
  let last = -Infinity;
  let since = 0;
  return (addr, request) => {
    since++;
    const now = performance.now();
    if (now - last <= 60_000) return;
    log.warning(`${prefix}: refused ${since} request(s) ${what}, the last from ${addr ?? '?'} (${request})`);
    last = now;
    since = 0;
  };
}

const requestText = (req: IncomingMessage): string => `${printable(req.method ?? '')} ${printable(req.url ?? '')}`;

export function createGate(o: GateOptions): Gate {
  const problem = listenNeedsAllow(o.listen, o.allow, `${o.allowKey} = …`);
  if (problem !== null) throw new Error(`${o.allowKey}: ${problem}`);
  const clients = clientList(o.allow);
  const digest = sha256(o.token);
  const prefix = o.logPrefix ?? 'Web';
  const forbidden = refusalLog(o.log, prefix, `from an address not in ${o.allowKey}`);
  const unauthorized = refusalLog(o.log, prefix, 'without a valid token');
  const admitted = (addr: string): boolean => addr !== '' && clients.check(addr, isIPv4(addr) ? 'ipv4' : 'ipv6');
  let outside = 0;
  const where = o.allow === null ? `loopback only: ${o.allowKey} is not set and ${listenHost(o.listen)} is a loopback address` : `${o.allowKey}`;
  return {
    admit(req, res) {
      const addr = req.socket.remoteAddress ?? '';
      if (admitted(addr)) return true;
      forbidden(addr, requestText(req));
      sendJson(res, 403, { error: `forbidden: the address ${addr || '?'} is not allowed (${where}; see docs/web.md)` }, { Connection: 'close' });
      return false;
    },
    // both sides are hashed to 32 bytes first, so lengths leak nothing either
    tokenOk: (given) => typeof given === 'string' && given.length > 0 && timingSafeEqual(sha256(given), digest),
    bearer(req) {
      const h = req.headers.authorization;
      if (h === undefined) return null;
      const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(h);
      return m ? m[1] : '';
    },
    guard(server) {
      server.maxConnections = MAX_CONNECTIONS + MAX_OUTSIDE_CONNECTIONS;
      server.on('connection', (socket: Socket) => {
        const addr = socket.remoteAddress ?? '';
        if (admitted(addr)) return;
        if (outside >= MAX_OUTSIDE_CONNECTIONS) {
          forbidden(addr, `a connection closed at once: ${MAX_OUTSIDE_CONNECTIONS} from outside the list already open`);
          socket.destroy();
          return;
        }
        outside++;
        socket.once('close', () => outside--);
        socket.setTimeout(OUTSIDE_TIMEOUT_MS, () => socket.destroy());
      });
    },
    refuse(req, res) {
      unauthorized(req.socket.remoteAddress, requestText(req));
      sendJson(res, 401, { error: 'unauthorized: send Authorization: Bearer TOKEN (see docs/api.md)' }, { 'WWW-Authenticate': 'Bearer realm="procsafe"' });
    },
  };
}
