// The Servers view's data: every `fleet_interval` the daemon reads the /api/status of each
// [fleet:NAME] server, with that server's token (read from its token_file at each round, so
// a new token needs no restart; it never leaves this daemon: the page gets the summary only).
// All servers are read at once; a round ends when the last answers or times out.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FleetServerConfig } from '../core/failsafe-model';
import type { StatusView } from '../views/status-view';
import type { Logger } from '../log/logger';
import { statusShapeProblem, summarize, type FleetServerView } from './fleet-state';

/** A status bigger than this is not read (1,000 entries are about 400 KB). */
const MAX_STATUS_BYTES = 8 * 1024 * 1024;

export interface FleetPollerOptions {
  servers: readonly FleetServerConfig[];
  intervalMs: number;
  /** per request; default the interval, at most 5 s */
  timeoutMs?: number;
  log: Logger;
  /** after each round */
  onRound(): void;
}

/** Why a server could not be read, in words for the page and the log. */
class Unreachable extends Error {}

function describe(e: unknown, timeoutMs: number): string {
  if (e instanceof Unreachable) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  if ((e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  if (code === 'ECONNREFUSED') return 'connection refused (procsafe not running, or another port)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'no route to the host';
  return (e as Error).message;
}

function statusError(status: number): string {
  if (status === 401) return 'HTTP 401: the token was refused; copy that server\'s [web] token_file into this [fleet] token_file';
  if (status === 403) return "HTTP 403: this server's address is not in that server's [web] allow";
  return `HTTP ${status} from its /api/status`;
}

/** GET URL with the bearer token; the parsed JSON of a 200. */
export function fetchStatus(url: URL, token: string, timeoutMs: number): Promise<unknown> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Unreachable(statusError(res.statusCode ?? 0)));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_STATUS_BYTES) req.destroy(new Unreachable(`its status is over ${MAX_STATUS_BYTES / 1024 / 1024} MiB`));
          else chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new Unreachable('its /api/status is not JSON: not a procsafe web server?'));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export class FleetPoller {
  private readonly views = new Map<string, FleetServerView>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly timeoutMs: number;

  constructor(private readonly opts: FleetPollerOptions) {
    this.timeoutMs = opts.timeoutMs ?? Math.min(opts.intervalMs, 5000);
    for (const s of opts.servers) {
      this.views.set(s.name, { name: s.name, self: false, url: s.url, state: 'Unreachable', reasons: ['not read yet'], version: null, groups: null, monitors: null, entries: null, checkedAt: null });
    }
  }

  start(): void {
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The other servers, in file order. */
  list(): FleetServerView[] {
    return [...this.views.values()];
  }

  private async round(): Promise<void> {
    await Promise.all(this.opts.servers.map((s) => this.read(s)));
    if (this.stopped) return;
    this.opts.onRound();
    this.timer = setTimeout(() => void this.round(), this.opts.intervalMs);
    this.timer.unref();
  }

  private async read(s: FleetServerConfig): Promise<void> {
    const before = this.views.get(s.name);
    let next: FleetServerView;
    try {
      let token: string;
      try {
        token = readFileSync(s.tokenFile, 'utf8').trim();
      } catch (e) {
        throw new Unreachable(`cannot read its token_file ${s.tokenFile} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      const body = await fetchStatus(new URL('api/status', s.url.endsWith('/') ? s.url : `${s.url}/`), token, this.timeoutMs);
      const problem = statusShapeProblem(body);
      if (problem !== null) throw new Unreachable(`its /api/status is not a procsafe status (${problem})`);
      next = { name: s.name, self: false, url: s.url, ...summarize(body as StatusView), checkedAt: Date.now() };
    } catch (e) {
      next = { name: s.name, self: false, url: s.url, state: 'Unreachable', reasons: [describe(e, this.timeoutMs)], version: null, groups: null, monitors: null, entries: null, checkedAt: Date.now() };
    }
    if (this.stopped) return;
    this.views.set(s.name, next);
    const was = before?.checkedAt === null ? null : before?.state;
    if (was !== next.state && !(was === null && next.state === 'Normal')) {
      const why = next.reasons.length > 0 ? ` (${next.reasons.join('; ')})` : '';
      this.opts.log.info(`Fleet: server ${s.name} ${was === null || was === undefined ? 'is' : `${was} ->`} ${next.state}${why}`);
    }
  }
}
