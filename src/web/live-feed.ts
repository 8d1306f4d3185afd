// GET /api/events: server-sent events to the open pages. Each page gets the current frames
// (`status`, and `fleet` when other servers are configured) at once, then again after each
// change, coalesced to one push per 100 ms and never the same frame twice in a row; alerts
// as they happen; a heartbeat comment so proxies keep the connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger';
import { HttpError, htmlSafeJson, SECURITY_HEADERS } from './http';

const MIN_INTERVAL_MS = 100;
/** a live page that reads slower than this much buffered output is dropped (it reconnects). */
const MAX_BUFFER_BYTES = 1024 * 1024;
export const MAX_LIVE_PAGES = 64;

export interface LiveFeedOptions {
  log: Logger;
  /** the current snapshot frames, as [event, value] (a frame that cannot be read is left out) */
  frames(): [string, unknown][];
  /** heartbeat comment period; default 15 000 ms */
  heartbeatMs?: number;
  /** the frames are pushed at least this often while pages listen; default 5 000 ms */
  refreshMs?: number;
}

export class LiveFeed {
  /** live pages → the last JSON sent per event (a snapshot is never sent twice in a row) */
  private readonly clients = new Map<ServerResponse, Map<string, string>>();
  private closed = false;
  private lastPushAt = -Infinity;
  private pushTimer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly refresher: NodeJS.Timeout;

  constructor(private readonly opts: LiveFeedOptions) {
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.refresher = setInterval(() => {
      if (this.clients.size > 0) this.changed();
    }, opts.refreshMs ?? 5_000);
    this.refresher.unref();
  }

  /** Asks for fresh frames to be pushed (coalesced: at most one push per 100 ms). */
  changed(): void {
    if (this.closed || this.pushTimer !== null) return;
    const wait = Math.max(0, this.lastPushAt + MIN_INTERVAL_MS - performance.now());
    this.pushTimer = setTimeout(() => this.push(), wait);
  }

  /** One event (`event: NAME`) to every live page. */
  publish(event: string, value: unknown): void {
    if (this.closed || this.clients.size === 0) return;
    let json: string;
    try {
      json = htmlSafeJson(value);
    } catch {
      return; // an event must never break the daemon
    }
    this.broadcast(`event: ${event}\ndata: ${json}\n\n`);
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= MAX_LIVE_PAGES) throw new HttpError(503, `too many live pages (${MAX_LIVE_PAGES}); close some`);
    const frames = this.snapshot();
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 30_000);
    this.clients.set(res, new Map());
    const bye = (): void => {
      this.clients.delete(res);
    };
    res.on('close', bye); // the page went away (or close() ended it)
    res.on('error', bye);
    this.write(res, `retry: 2000\n\n`);
    for (const [event, json] of frames) this.sendFrame(res, event, json);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.refresher);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
  }

  private snapshot(): [string, string][] {
    let frames: [string, unknown][];
    try {
      frames = this.opts.frames();
    } catch (e) {
      this.opts.log.err(`Web: reading the status failed: ${(e as Error).message}`);
      return [];
    }
    return frames.map(([event, value]) => [event, htmlSafeJson(value)]);
  }

  private push(): void {
    this.pushTimer = null;
    this.lastPushAt = performance.now();
    if (this.closed || this.clients.size === 0) return;
    const frames = this.snapshot();
    for (const c of [...this.clients.keys()]) for (const [event, json] of frames) this.sendFrame(c, event, json);
  }

  private sendFrame(res: ServerResponse, event: string, json: string): void {
    const last = this.clients.get(res);
    if (last === undefined || last.get(event) === json) return;
    last.set(event, json);
    this.write(res, `event: ${event}\ndata: ${json}\n\n`);
  }

  private write(res: ServerResponse, chunk: string): void {
    if (res.writableLength > MAX_BUFFER_BYTES) {
      this.clients.delete(res);
      res.destroy(); // a stuck reader: it reconnects and gets a fresh snapshot
      return;
    }
    res.write(chunk);
  }

  private broadcast(chunk: string): void {
    for (const c of [...this.clients.keys()]) this.write(c, chunk);
  }
}
