// `nic` monitor: the link state of a network interface, from sysfs (no fork of `ip`):
// `operstate` (RFC 2863) and `carrier` (the physical link). Up = operstate "up", or
// "unknown" (drivers that do not report it: loopback, some tun/virtual ones) with
// carrier 1. `flags` tells "administratively down" (IFF_UP clear) from "no cable".
import { readFile } from 'node:fs/promises';
import type { Probe, ProbeResult } from './types';
import { deadline, errText } from './util';

const IFF_UP = 0x1;

export function createNicProbe(iface: string): Probe {
  const dir = `/sys/class/net/${iface}`;

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    // a name with '/' would read another sysfs file; '.' and '..' are not interfaces
    if (iface === '' || iface.includes('/') || iface === '.' || iface === '..') {
      return { ok: false, detail: `bad interface name ${JSON.stringify(iface)}` };
    }
    const dl = deadline(signal, timeoutMs);
    // operstate must be there; the others are null when absent or refused (reading
    // `carrier` of an administratively down link fails with EINVAL)
    const read = async (name: string): Promise<string | null> => {
      try {
        return (await readFile(`${dir}/${name}`, { encoding: 'latin1', signal: dl.signal })).trim();
      } catch (err) {
        if (name === 'operstate') throw err;
        return null;
      }
    };
    try {
      const operstate = await read('operstate');
      const [carrier, flags] = await Promise.all([read('carrier'), read('flags')]);
      if (dl.why() !== null) throw new Error('deadline');
      const adminUp = flags === null ? null : (Number.parseInt(flags, 16) & IFF_UP) !== 0;
      const hasCarrier = carrier === '1';
      const up = hasCarrier && (operstate === 'up' || operstate === 'unknown');
      const what = `${iface}: operstate ${operstate}, ${hasCarrier ? 'carrier' : 'no carrier'}`;
      if (up) return { ok: true, detail: `${what}, link up` };
      return { ok: false, detail: `${what}${adminUp === false ? ', administratively down' : ''}` };
    } catch (err) {
      if (dl.why() === null && (err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, detail: `interface ${iface} does not exist (no ${dir})` };
      if (dl.why() !== null) return { ok: false, detail: `${iface}: sysfs read ${dl.why() === 'timeout' ? 'timed out' : 'aborted'}` };
      return { ok: false, detail: `${iface}: cannot read ${dir}/operstate: ${errText(err)}` };
    } finally {
      dl.dispose();
    }
  }
  return { check, close: () => {} };
}
