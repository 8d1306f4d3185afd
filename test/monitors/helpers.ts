// Shared by the probe tests: monitor configs, one check with its duration, and the real
// system tools some tests need (a missing one fails the test with what to install).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { MonitorConfig } from '../../src/core/failsafe-model';
import type { Probe, ProbeResult } from '../../src/monitors/types';

type Specific<T extends MonitorConfig['type']> = Omit<Extract<MonitorConfig, { type: T }>, keyof Common>;
type Common = Omit<Extract<MonitorConfig, { type: 'tcp' }>, 'type' | 'host' | 'port'>;

/** A monitor with the common keys at harmless defaults. */
export function monitor<T extends MonitorConfig['type']>(type: T, specific: Omit<Specific<T>, 'type'>): MonitorConfig {
  const common: Common = {
    name: `test-${type}`,
    target: null,
    timing: 'always',
    interval: 1,
    timeout: 2,
    retries: 0,
    startWait: 0,
    restartThreshold: 0,
    grace: 60,
    finalAction: 'none',
  };
  return { ...common, type, ...specific } as unknown as MonitorConfig;
}

export interface Timed extends ProbeResult {
  ms: number;
}

/** One check, as the daemon would run it, and how long it took. */
export async function check(probe: Probe, timeoutMs = 2000, signal = new AbortController().signal): Promise<Timed> {
  const started = performance.now();
  const r = await probe.check(signal, timeoutMs);
  return { ...r, ms: performance.now() - started };
}

/** Checks until `want` holds (state changes such as a link going down take the kernel a
 *  moment), failing with the last detail after `withinMs`. */
export async function eventually(probe: Probe, want: (r: ProbeResult) => boolean, withinMs = 5000, timeoutMs = 2000): Promise<Timed> {
  const until = performance.now() + withinMs;
  for (;;) {
    const r = await check(probe, timeoutMs);
    if (want(r)) return r;
    if (performance.now() > until) assert.fail(`condition not met within ${withinMs} ms; last result: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const SBIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Fails the test (not skips it) when a system tool is missing, saying what to install. */
export function need(tool: string, debianPackage: string): string {
  const found = SBIN.map((d) => `${d}/${tool}`).find((p) => existsSync(p));
  assert.ok(found, `${tool} is missing: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`);
  return found;
}

/** Runs a command that must succeed (setup and cleanup of namespaces, links, mounts). */
export function sh(argv: string[], what = argv.join(' ')): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${r.stderr}`);
  return r.stdout;
}

/** The same, in cleanup: failures are ignored (the thing may not have been created). */
export function shQuiet(argv: string[]): void {
  spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
}

/** An asynchronous command that must succeed: used while the test's event loop must keep
 *  running (e.g. to serve a FUSE mount that the command touches). */
export function shAsync(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${code}: ${err}`))));
  });
}

/** 'alive', 'zombie' or 'gone', from /proc/PID/stat. */
export function procState(pid: number): 'alive' | 'zombie' | 'gone' {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return 'gone';
  }
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'zombie' : 'alive';
}

/** Kills by pid (never by name); a process already gone is fine. */
export function killPid(pid: number | undefined, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A name unique to this test process, short enough for an interface name (15 chars). */
export function tag(prefix: string): string {
  return `${prefix}${process.pid % 100000}`;
}

/** A veth pair: `host` stays in our namespace, `peer` is moved into a new namespace `ns`.
 *  Both are set up; optional addresses (CIDR) on each end. remove() deletes both. */
export function vethPair(prefix: string, addrs?: { host: string; peer: string }): { host: string; peer: string; ns: string; remove(): void } {
  need('ip', 'iproute2');
  const id = tag(prefix);
  const v = { host: `${id}a`, peer: `${id}b`, ns: `${id}ns` };
  const remove = (): void => {
    shQuiet(['ip', 'link', 'del', v.host]); // deletes the peer with it
    shQuiet(['ip', 'netns', 'del', v.ns]);
  };
  remove(); // a leftover of a killed earlier run with the same pid
  try {
    sh(['ip', 'netns', 'add', v.ns]);
    sh(['ip', 'link', 'add', v.host, 'type', 'veth', 'peer', 'name', v.peer]);
    sh(['ip', 'link', 'set', v.peer, 'netns', v.ns]);
    if (addrs) {
      sh(['ip', 'addr', 'add', addrs.host, 'dev', v.host]);
      sh(['ip', '-n', v.ns, 'addr', 'add', addrs.peer, 'dev', v.peer]);
    }
    sh(['ip', 'link', 'set', v.host, 'up']);
    sh(['ip', '-n', v.ns, 'link', 'set', v.peer, 'up']);
  } catch (err) {
    remove();
    throw err;
  }
  return { ...v, remove };
}
