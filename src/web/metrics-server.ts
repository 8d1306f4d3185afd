// GET /metrics on its own small server: what `pcheck -f` serves when its pfile has
// METRICS_LISTEN (docs/pfile.md). Client addresses first (METRICS_ALLOW: 403), then the
// bearer token (METRICS_TOKEN_FILE: 401); no page, no API, no operation.
import { hostname } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PentView } from '../views/pent-view';
import type { Pfile } from '../core/model';
import type { StatusView } from '../views/status-view';
import { ConfigError } from '../errors';
import type { Logger } from '../log/logger';
import { createGate, loadOrCreateToken } from './access';
import { HttpError, listen, parseListen, send, sendFailure } from './http';
import { LatencyHistograms, LoopLagMeter, renderMetrics, type TimingSource } from './metrics';

export interface MetricsServerOptions {
  listen: string;
  tokenFile: string;
  allow: readonly string[] | null;
  /** the key of `allow` and of `listen`, for messages */
  allowKey: string;
  log: Logger;
  metrics(): string;
}

export interface MetricsServer {
  /** http://HOST:PORT/metrics */
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListen(o.listen, 'METRICS_LISTEN');
  const { token, created } = loadOrCreateToken(o.tokenFile, o.log, 'metrics token file');
  if (created) o.log.notice(`Metrics token generated in ${o.tokenFile} (mode 0600)`);
  const gate = createGate({ listen: o.listen, allow: o.allow, allowKey: o.allowKey, token, log: o.log, logPrefix: 'Metrics' });
  const server = createServer((req, res) => {
    try {
      if (!gate.admit(req, res)) return;
      if (!gate.tokenOk(gate.bearer(req))) return gate.refuse(req, res);
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path !== '/metrics') throw new HttpError(404, 'not found: this server has /metrics only (see docs/api.md)');
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', o.metrics());
    } catch (e) {
      sendFailure(req, res, e, (m) => o.log.err(m));
    }
  });
  await listen(server, host, port, o.listen, '/metrics');
  gate.guard(server);
  server.on('error', (e) => o.log.err(`Metrics server error: ${e.message}`));
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${(server.address() as AddressInfo).port}/metrics`;
  o.log.notice(`Metrics on ${url} (token in ${o.tokenFile})`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What `pcheck -f` gives the metrics: its entries and its latency figures. */
export interface PfileMetricsSource {
  views(): PentView[];
  takeHealTimes(): number[];
  takeDetectionTimes(): number[];
}

/** The StatusView of `pcheck -f`: no groups, no monitors, one pfile. */
export function pfileStatus(pfile: Pfile, entries: PentView[], o: { rehearse: boolean; startedAt: number; version: string }): StatusView {
  return {
    server: { name: hostname(), pid: process.pid, version: o.version, startedAt: o.startedAt, rehearse: o.rehearse, config: pfile.path },
    groups: [],
    monitors: [],
    pfiles: [{ path: pfile.path, group: null, entries }],
  };
}

/**
 * `pcheck -f` with METRICS_LISTEN: runs `inner` (the daemon) with /metrics served around it;
 * null when the pfile does not ask for metrics. A listen address in use is a configuration
 * error (exit 2), raised before the daemon starts anything.
 */
export function pfileMetrics(pfile: Pfile, daemon: PfileMetricsSource, o: { rehearse: boolean; version: string; log: Logger }): { run(inner: () => Promise<number>): Promise<number> } | null {
  const p = pfile.param;
  if (p.metricsListen === null || p.metricsTokenFile === null) return null;
  const listenOn = p.metricsListen;
  const tokenFile = p.metricsTokenFile;
  const startedAt = Date.now();
  const latency = new LatencyHistograms();
  const source: TimingSource = { pfile: pfile.path, takeHealTimes: () => daemon.takeHealTimes(), takeDetectionTimes: () => daemon.takeDetectionTimes() };
  return {
    async run(inner) {
      const lag = new LoopLagMeter();
      let server: MetricsServer;
      try {
        server = await startMetricsServer({
          listen: listenOn,
          tokenFile,
          allow: p.metricsAllow,
          allowKey: 'METRICS_ALLOW',
          log: o.log,
          metrics: () => {
            latency.collect([source]);
            return renderMetrics(pfileStatus(pfile, daemon.views(), { rehearse: o.rehearse, startedAt, version: o.version }), { mode: 'pfile', loopLagSeconds: lag.takeMaxSeconds(), latency });
          },
        });
      } catch (e) {
        lag.stop();
        throw new ConfigError(pfile.path, null, `METRICS_LISTEN ${listenOn}: ${(e as Error).message}; choose another address or port, or fix METRICS_TOKEN_FILE`);
      }
      try {
        return await inner();
      } finally {
        lag.stop();
        await server.close();
      }
    },
  };
}
