// `ping` monitor: one ICMP echo with the system ping (`iputils-ping`), exit 0 = a reply.
// The system tool, not a raw socket of our own: raw ICMP needs CAP_NET_RAW and native
// code, while Debian's ping has the capability (or uses ping sockets) and does v4 and v6.
import { CommandRunner } from './command';
import type { Probe, ProbeResult } from './types';
import { deadline, notInTime } from './util';

export function createPingProbe(host: string): Probe {
  const runner = new CommandRunner();

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    // no host name starts with '-'; refuse what would look like an option to ping
    if (host === '' || host.startsWith('-')) return { ok: false, detail: `bad host ${JSON.stringify(host)}` };
    // -W: how long ping waits for the reply (iputils takes tenths), a little under the
    // timeout so that ping answers "no reply" itself; the deadline kills it otherwise
    // (a name lookup that hangs).
    const waitSec = (Math.max(Math.floor((timeoutMs - 250) / 100), 1) / 10).toFixed(1);
    const dl = deadline(signal, timeoutMs);
    try {
      // -n: no reverse lookup of the reply's address (a slow DNS would eat the timeout)
      const out = await runner.run(['ping', '-n', '-c', '1', '-W', waitSec, '--', host], { LC_ALL: 'C' }, dl);
      if (out.kind === 'stuck') return { ok: false, detail: `the previous ping (pid ${out.pid}) has not exited` };
      if (out.kind === 'deadline') return { ok: false, detail: notInTime(dl.why(), timeoutMs, `pinging ${host} (ping killed)`) };
      const r = out.result;
      if (r.spawnError !== null) {
        return { ok: false, detail: `${r.spawnError}${r.spawnError.includes('ENOENT') ? ' (install iputils-ping)' : ''}` };
      }
      if (r.code === 0) {
        const rtt = /time[=<]([\d.]+) ms/.exec(r.lastLine) ?? /= [\d.]+\/([\d.]+)\//.exec(r.lastLine);
        return { ok: true, detail: `reply from ${host}${rtt ? ` in ${rtt[1]} ms` : ''}` };
      }
      if (r.code === 1) return { ok: false, detail: `no reply from ${host} within ${waitSec} s` };
      return { ok: false, detail: `ping ${host} failed (${r.code !== null ? `exit code ${r.code}` : `killed by ${r.signal}`})${r.lastLine ? `: ${r.lastLine}` : ''}` };
    } finally {
      dl.dispose();
    }
  }

  return { check, close: () => runner.close() };
}
