// `[web]` of a FailSafe daemon: the page, its API and /metrics (src/web/), fed by the rooms; an
// operation from the page takes the same path as padmin. The token opens the page: shown in
// full only to a person at a terminal, never to a log sink (syslog, LOG_FILE and the journal
// keep it, and others may read them).
import { join } from 'node:path';
import type { WebConfig } from '../../core/failsafe-model';
import type { ControlRequest, ControlResponse } from '../../control/protocol';
import { LatencyHistograms, LoopLagMeter, renderMetrics } from '../../web/metrics';
import { startWebServer, type WebAction, type WebServer } from '../../web/server';
import type { Rooms } from './rooms';
import { statusOf } from './status';

export interface WebPage {
  server: WebServer;
  close(): Promise<void>;
}

export async function startWebPage(r: Rooms, cfg: WebConfig, o: { stateDir: string; request(req: ControlRequest): ControlResponse }): Promise<WebPage> {
  const lag = new LoopLagMeter();
  const latency = new LatencyHistograms();
  const act = (a: WebAction): { ok: boolean; message: string } => {
    if (a.target === 'entry') return r.pfiles.entryOp(a.pfile, a.op, a.pentId);
    const res = o.request({ command: `${a.target} ${a.op} ${a.name}` });
    return res.ok ? { ok: true, message: res.text ?? 'done' } : { ok: false, message: res.error };
  };
  let server: WebServer;
  try {
    server = await startWebServer({
      listen: cfg.listen,
      tokenFile: cfg.tokenFile,
      allow: cfg.allow,
      fleet: cfg.fleet,
      fleetIntervalMs: cfg.fleetIntervalSec * 1000,
      stateDir: o.stateDir,
      log: r.log,
      status: () => statusOf(r),
      recentEvents: () => r.alerter?.recent(100) ?? [],
      metrics: () => {
        latency.collect(r.pfiles.sets().map((set) => ({ pfile: set.path, takeHealTimes: () => set.takeHealTimes(), takeDetectionTimes: () => set.takeDetectionTimes() })));
        return renderMetrics(statusOf(r), { mode: 'failsafe', loopLagSeconds: lag.takeMaxSeconds(), latency });
      },
      act: async (a) => {
        const res = act(a);
        server.statusChanged();
        return res;
      },
    });
  } catch (e) {
    lag.stop();
    throw e;
  }
  r.log.notice(`Web page: ${server.baseUrl} (token in ${cfg.tokenFile ?? join(o.stateDir, 'web.token')})`);
  if (process.stdout.isTTY) process.stdout.write(`Open the web page: ${server.url}\n`);
  return {
    server,
    close: async () => {
      lag.stop();
      await server.close().catch(() => undefined);
    },
  };
}
