// Client address lists (`[web] allow`, `METRICS_ALLOW`): CIDR blocks, checked at load time,
// and whether a listen host is a loopback address (then the default list is loopback only;
// any other listen address needs an explicit list).
import * as net from 'node:net';

export interface Cidr {
  /** the address as written, without the prefix */
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** What the clients of a loopback listener are, when no list is given. */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** `192.0.2.0/24`, `10.1.2.3` (= /32), `2001:db8::/32`, `::1` (= /128); or the problem, with what to write. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const v = net.isIP(address);
  if (v === 0) return `${JSON.stringify(address)} is not an IP address; write an address or a block, e.g. 192.0.2.0/24, 10.0.0.5 or ::1`;
  const max = v === 4 ? 32 : 128;
  if (slash < 0) return { address, prefix: max, family: v === 4 ? 'ipv4' : 'ipv6' };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `the prefix length ${JSON.stringify(p)} is not from 0 to ${max}; write e.g. ${address}/${v === 4 ? 24 : 64}`;
  return { address, prefix: Number(p), family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** The problem of one item of an allow list, or null. */
export function cidrProblem(text: string): string | null {
  const c = parseCidr(text);
  return typeof c === 'string' ? c : null;
}

/**
 * A listen host that only this machine can reach: 127.0.0.0/8, ::1, `localhost`. Any other
 * name or address (0.0.0.0, ::, a LAN address, a host name) is reachable from elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) {
    const list = new net.BlockList();
    list.addSubnet('::1', 128, 'ipv6');
    list.addSubnet('127.0.0.0', 8, 'ipv4');
    return list.check(h, 'ipv6');
  }
  return false;
}

/** The host part of `host:port` / `[v6]:port` (already checked by the schema). */
export function listenHost(listen: string): string {
  const m = /^\[([^\]]*)\]:\d+$/.exec(listen) ?? /^([^:]*):\d+$/.exec(listen);
  return m ? m[1] : listen;
}

/**
 * The problem with listening on `listen` for these clients, or null: a non-loopback address
 * needs an explicit list (which names the clients; the server does not guess a network).
 * `example` is how the key is written, e.g. `allow = 127.0.0.1, 192.0.2.10, 198.51.100.0/24`.
 */
export function listenNeedsAllow(listen: string, allow: readonly string[] | null, example: string): string | null {
  if (allow !== null || isLoopbackHost(listenHost(listen))) return null;
  return (
    `${listen} is reachable from other machines, so say which clients may connect: add ${example} ` +
    "(their addresses or CIDR blocks: the Prometheus server, the fleet's other servers, the operators' network)"
  );
}
