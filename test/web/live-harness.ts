// A web server in the test process in front of a REAL pcheck (a child process), as the
// daemon will hold it once wired: status() and act() go through pcheck's control sockets
// (what padmin does), a 100 ms poll calls statusChanged() when the status changed, and
// pcheck's log lines become the alert feed. Nothing here is a stand-in for pcheck.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EventKind, ProcsafeEvent } from '../../src/core/events';
import type { PentView } from '../../src/views/pent-view';
import { request } from '../../src/control/client';
import { socketPath } from '../../src/control/protocol';
import type { StatusView } from '../../src/views/status-view';
import { Logger } from '../../src/log/logger';
import { LatencyHistograms, renderMetrics } from '../../src/web/metrics';
import { startWebServer, type WebAction, type WebServer } from '../../src/web/server';
import type { Pcheck, Sandbox } from '../helpers/harness';

export interface Backend {
  readStatus(): Promise<StatusView>;
  act(a: WebAction): Promise<{ ok: boolean; message: string }>;
}

async function ask(sock: string, command: string): Promise<{ ok: boolean; message: string; data?: unknown }> {
  const r = await request(sock, { command });
  return r.ok ? { ok: true, message: r.text ?? 'done', data: r.data } : { ok: false, message: r.error };
}

/** `pcheck -f PFILE`: its entries through `show pent`; entry operations as `stop|start|reset pent N`. */
export function pfileBackend(sb: Sandbox, pfile: string, pc: Pcheck): Backend {
  const sock = socketPath(sb.runDir, sb.ipckey);
  const startedAt = Date.now();
  return {
    async readStatus() {
      const r = await ask(sock, 'show pent');
      if (!r.ok) throw new Error(r.message);
      return {
        server: { name: hostname(), pid: pc.pid, version: '0.1.0', startedAt, rehearse: false, config: pfile },
        groups: [],
        monitors: [],
        pfiles: [{ path: pfile, group: null, entries: r.data as PentView[] }],
      };
    },
    async act(a) {
      if (a.target !== 'entry') return { ok: false, message: `pcheck -f has no ${a.target}s` };
      if (a.pfile !== pfile) return { ok: false, message: `no pfile ${a.pfile}` };
      return ask(sock, `${a.op} pent ${a.pentId}`);
    },
  };
}

/** `pcheck --config INI`: `status`, `group OP NAME`, `monitor OP NAME` on its socket; entries on their pfile's. */
export function failsafeBackend(sb: Sandbox, ipckeys: Map<string, number>): Backend {
  const sock = join(sb.runDir, 'procsafe.sock');
  return {
    async readStatus() {
      const r = await ask(sock, 'status');
      if (!r.ok) throw new Error(r.message);
      return r.data as StatusView;
    },
    async act(a) {
      if (a.target !== 'entry') return ask(sock, `${a.target} ${a.op} ${a.name}`);
      const key = ipckeys.get(a.pfile);
      if (key === undefined) return { ok: false, message: `no pfile ${a.pfile}` };
      return ask(socketPath(sb.runDir, key), `${a.op} pent ${a.pentId}`);
    },
  };
}

/** pcheck's log lines (after `DATE TIME pcheck[PID]: `) that are alert events. */
const EVENT_LINES: [RegExp, EventKind][] = [
  [/^Process \[(.+) , pid=\d+\] Down$/, 'down'],
  [/^Try to restart \((.+)\)$/, 'restart'],
  [/^\((.+)\) RETRY_OVER:/, 'retry_over'],
  [/^Command execute\. \[group restart (\S+)\]/, 'group_restart'],
  [/^Monitor \S+ failed .*restarting group (\S+)/, 'group_restart'],
  [/^Monitor (\S+): \w+ -> Error$/, 'monitor_error'],
  [/^Monitor (\S+): Error -> Normal$/, 'monitor_recovered'],
];

export class LiveWeb {
  web!: WebServer;
  readonly events: ProcsafeEvent[] = [];
  readonly logLines: string[] = [];
  status: StatusView | null = null;
  polls = 0;
  private lastJson = '';
  private linesSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly backend: Backend,
    private readonly pc: Pcheck,
    private readonly stateDir: string,
  ) {}

  async start(listen = '127.0.0.1:0'): Promise<WebServer> {
    await this.poll();
    const log = new Logger([{ write: (_s, m) => void this.logLines.push(m) }]);
    this.web = await startWebServer({
      listen,
      tokenFile: null,
      stateDir: this.stateDir,
      log,
      status: () => {
        if (!this.status) throw new Error('no status yet');
        return this.status;
      },
      recentEvents: () => this.events.slice(-100),
      metrics: () => renderMetrics(this.status!, { mode: 'pfile', loopLagSeconds: 0, latency: new LatencyHistograms() }),
      act: (a) => this.backend.act(a),
    });
    this.timer ??= setInterval(() => void this.poll(), 100);
    return this.web;
  }

  /** Stops the web server (pages lose their feed), waits `downMs`, starts it again on the same port. */
  async restartWeb(downMs: number): Promise<WebServer> {
    const port = new URL(this.web.baseUrl).port;
    await this.web.close();
    await new Promise((r) => setTimeout(r, downMs));
    return this.start(`127.0.0.1:${port}`);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.takeLogLines();
      const v = await this.backend.readStatus();
      this.polls++;
      const json = JSON.stringify(v);
      if (json !== this.lastJson) {
        this.lastJson = json;
        this.status = v;
        this.web?.statusChanged();
      }
    } catch {
      /* pcheck busy or restarting: the next poll tries again */
    } finally {
      this.polling = false;
    }
  }

  private takeLogLines(): void {
    const lines = this.pc.lines;
    for (; this.linesSeen < lines.length; this.linesSeen++) {
      const m = /^\S+ \S+ pcheck\[\d+\]: (.*)$/.exec(lines[this.linesSeen].text);
      if (!m) continue;
      for (const [re, kind] of EVENT_LINES) {
        const hit = re.exec(m[1]);
        if (!hit) continue;
        const e: ProcsafeEvent = { kind, at: Date.now(), server: this.status?.server.name ?? hostname(), subject: hit[1], message: m[1], fields: {} };
        this.events.push(e);
        this.web?.publish(e);
        break;
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.web?.close();
  }
}
