// Real HTTP requests and a real server-sent-events reader for the web tests.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function http(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; host?: string; /** the client's source address */ from?: string } = {},
): Promise<Answer> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: opts.host ?? u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port, method, path: u.pathname + u.search, headers: opts.headers ?? {}, localAddress: opts.from, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export interface SseFrame {
  event: string;
  data: string;
  at: number;
}

/** An open `GET /api/events`: frames as they come, comments (heartbeats) counted. */
export class SseReader {
  readonly frames: SseFrame[] = [];
  comments = 0;
  status = 0;
  private buf = '';
  private res: IncomingMessage | null = null;
  private readonly req;
  readonly opened: Promise<number>;

  constructor(base: string, path: string, headers: Record<string, string> = {}) {
    const u = new URL(path, base);
    let ok: (s: number) => void = () => undefined;
    let fail: (e: Error) => void = () => undefined;
    this.opened = new Promise((resolve, reject) => {
      ok = resolve;
      fail = reject;
    });
    this.req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers, agent: false }, (res) => {
      this.res = res;
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => this.feed(d));
      res.on('error', () => undefined);
      ok(this.status);
    });
    this.req.on('error', (e) => fail(e));
    this.req.end();
  }

  private feed(d: string): void {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event = 'message';
      const data: string[] = [];
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) {
          data.push(line.slice(6));
          any = true;
        }
      }
      if (any) this.frames.push({ event, data: data.join('\n'), at: performance.now() });
    }
  }

  of(event: string): SseFrame[] {
    return this.frames.filter((f) => f.event === event);
  }

  async waitFor(pred: (r: SseReader) => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`SSE: condition not met in ${timeoutMs} ms; frames: ${this.frames.map((f) => f.event).join(',')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.res?.destroy();
    this.req.destroy();
  }
}
