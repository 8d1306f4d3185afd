// host:port and host values of the configuration files (METRICS_LISTEN, [web] listen, monitor
// hosts). Apart from ini-values.ts so that pcheck -f, which checks METRICS_LISTEN, does not load
// the FailSafe schema (and its cron library) to do it.
import * as net from 'node:net';
import { q } from './words';

const HOSTNAME = /^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function hostProblem(text: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return 'a URL, not a host; write only the host name or address, e.g. 127.0.0.1';
  if (net.isIP(text) !== 0 || HOSTNAME.test(text)) return null;
  return 'not a host name or IP address; write e.g. 127.0.0.1 or db.example.com';
}

export function hostPortProblem(text: string): string | null {
  const eg = `write host:port, e.g. ${'127.0.0.1:29003'} or [::1]:29003`;
  const m = /^(\[([^\]]*)\]|[^:]*):(\d*)$/.exec(text);
  if (m === null) {
    if (/^\d+$/.test(text)) return `only a port; ${eg}`;
    if (net.isIPv6(text.replace(/:\d+$/, ''))) return `put an IPv6 address in brackets; ${eg}`;
    return `not host:port; ${eg}`;
  }
  const host = m[2] ?? m[1];
  if (host === '') return `no host; write 127.0.0.1:PORT (this machine only) or 0.0.0.0:PORT (every address)`;
  if (m[2] !== undefined ? net.isIPv6(host) === false : hostProblem(host) !== null) {
    return `the host ${q(host)} is not a host name or IP address; ${eg}`;
  }
  const port = Number(m[3]);
  if (m[3] === '' || port < 1 || port > 65535) return `the port ${q(m[3])} is not from 1 to 65535; ${eg}`;
  return null;
}
