// `tcp` monitor: a TCP connect to host:port; success on connect. Nothing is sent: the
// connection is closed at once (FIN, not RST), which servers log as an idle client.
import { Socket } from 'node:net';
import type { Probe, ProbeResult } from './types';
import { deadline, errText, notInTime, since } from './util';

export function createTcpProbe(host: string, port: number): Probe {
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const sockets = new Set<Socket>();

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    const dl = deadline(signal, timeoutMs);
    const started = performance.now();
    const socket = new Socket();
    sockets.add(socket);
    try {
      return await new Promise<ProbeResult>((resolve) => {
        const onAbort = (): void => resolve({ ok: false, detail: notInTime(dl.why(), timeoutMs, `connecting to ${where}`) });
        if (dl.signal.aborted) return onAbort();
        dl.signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => resolve({ ok: true, detail: `connected to ${where} in ${since(started)} ms` }));
        // `on`, not `once`: a second 'error' without a listener would crash the daemon
        socket.on('error', (err) =>
          resolve({ ok: false, detail: `cannot connect to ${where}: ${errText(err)} after ${since(started)} ms` }),
        );
        // host may be a name: the lookup (getaddrinfo) is inside the same deadline
        socket.connect({ host, port });
      });
    } finally {
      dl.dispose();
      socket.destroy();
      sockets.delete(socket);
    }
  }

  return {
    check,
    close: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
