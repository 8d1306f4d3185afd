// The web page, its JSON API, a live feed (server-sent events) and /metrics, on one small
// HTTP server bound to `[web] listen` (loopback by default), open to the client addresses of
// `[web] allow` (403 otherwise) and protected by a bearer token (401 otherwise).
//
// Self-contained: the daemon passes in how to read its status and how to act; nothing here
// knows about pcheck's internals. Every route that returns data or changes something needs
// the token; only the static page shell (HTML, JS, CSS, icon: the same bytes for every
// installation, no data) is served without it, so that a reload works once the page has
// taken the token out of the address bar. See docs/api.md, docs/web.md and docs/fleet.md.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FleetServerConfig } from '../core/failsafe-model';
import type { ProcsafeEvent } from '../core/events';
import { ExitCode, ProcsafeError } from '../errors';
import type { StatusView } from '../views/status-view';
import type { Logger } from '../log/logger';
import { createGate, loadOrCreateToken } from './access';
import { pageAssets } from './assets';
import { FleetPoller } from './fleet';
import { summarize, type FleetServerView } from './fleet-state';
import { checkName, HttpError, jsonBody, listen, ListenError, parseListen, send, sendFailure, sendJson } from './http';
import { LiveFeed } from './live-feed';

export { MAX_BODY_BYTES, parseListen } from './http';

export type WebAction =
  | { target: 'group'; op: 'start' | 'stop' | 'restart'; name: string }
  | { target: 'monitor'; op: 'suspend' | 'resume' | 'clear'; name: string }
  | { target: 'entry'; op: 'start' | 'stop' | 'reset'; pfile: string; pentId: number };

export interface WebServerOptions {
  /** `host:port` or `[v6addr]:port`; bound exactly (port 0: any free port, for tests). */
  listen: string;
  /** the token file; null: `${stateDir}/web.token`. Created (0600, directory 0700) if missing. */
  tokenFile: string | null;
  /** CIDR blocks of the clients (`[web] allow`); null or absent: loopback only. */
  allow?: readonly string[] | null;
  /** the other servers of the Servers view (`[fleet:NAME]`) */
  fleet?: readonly FleetServerConfig[];
  /** how often the other servers are read; default 5 000 ms */
  fleetIntervalMs?: number;
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

/** GET routes that return data (all need the token). */
const DATA_ROUTES = new Set(['/api/status', '/api/alerts', '/api/fleet', '/metrics', '/api/events']);

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const { host, port } = parseListen(opts.listen);
  const assets = pageAssets();
  const tokenFile = opts.tokenFile ?? join(opts.stateDir, 'web.token');
  const { token, created } = loadOrCreateToken(tokenFile, opts.log);
  if (created) opts.log.notice(`Web token generated in ${tokenFile} (mode 0600)`);
  const gate = createGate({ listen: opts.listen, allow: opts.allow ?? null, allowKey: '[web] allow', token, log: opts.log });
  const log = opts.log;

  // ---- the Servers view: this server first, then [fleet:NAME] in file order ----
  const others = opts.fleet ?? [];
  const poller =
    others.length === 0 ? null : new FleetPoller({ servers: others, intervalMs: opts.fleetIntervalMs ?? 5000, log, onRound: () => feed.changed() });
  const fleetView = (v: StatusView): { servers: FleetServerView[] } => {
    const self: FleetServerView = { name: v.server.name, self: true, url: null, ...summarize(v), checkedAt: null };
    return { servers: [self, ...(poller?.list() ?? [])] };
  };

  const feed = new LiveFeed({
    log,
    frames: () => {
      const v = opts.status();
      return poller === null ? [['status', v]] : [['status', v], ['fleet', fleetView(v)]];
    },
    heartbeatMs: opts.heartbeatMs,
    refreshMs: opts.refreshMs,
  });

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
    feed.changed();
    sendJson(res, r.ok ? 200 : 409, { ok: r.ok, message: r.message });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The client's address first: outside [web] allow, nothing at all (not even the page).
    if (!gate.admit(req, res)) return;
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
    const asset = assets.get(path);
    if (asset !== undefined) {
      if (!isGet) throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      send(res, 200, asset.type, asset.body);
      return;
    }

    // Everything else: no token, no data (and no hint of which routes exist).
    const header = gate.bearer(req);
    const viaQuery = path === '/api/events' && header === null ? url.searchParams.get('token') : null;
    if (!gate.tokenOk(header ?? viaQuery)) {
      gate.refuse(req, res);
      return;
    }

    const from = req.socket.remoteAddress ?? '?';
    const seg = path.split('/').slice(1); // '/api/groups/web/restart' → ['api','groups','web','restart']
    if (DATA_ROUTES.has(path)) {
      if (!isGet) throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      if (path === '/api/status') sendJson(res, 200, opts.status());
      else if (path === '/api/alerts') sendJson(res, 200, opts.recentEvents());
      else if (path === '/api/fleet') sendJson(res, 200, fleetView(opts.status()));
      else if (path === '/metrics') send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', opts.metrics());
      else if (method === 'HEAD') send(res, 200, 'text/event-stream; charset=utf-8', '');
      else feed.open(req, res);
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
    handle(req, res).catch((e: unknown) => sendFailure(req, res, e, (m) => log.err(m)));
  });
  await listen(server, host, port, opts.listen, 'the web page').catch((e: unknown) => {
    // a configuration this server cannot serve: exit 2, before any group is started
    throw e instanceof ListenError ? new ProcsafeError(`[web] listen = ${opts.listen}: cannot listen for the web page: ${e.problem}`, ExitCode.USAGE) : e;
  });
  gate.guard(server);
  server.on('error', (e) => log.err(`Web server error: ${e.message}`));
  poller?.start();

  const bound = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${hostPart}:${bound}/`;
  log.notice(`Web page on ${baseUrl} (token in ${tokenFile})`);

  let closed = false;
  return {
    url: `${baseUrl}?token=${token}`,
    baseUrl,
    publish: (e) => feed.publish('alert', e),
    statusChanged: () => feed.changed(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      poller?.stop();
      feed.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
