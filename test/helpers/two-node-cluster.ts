// A real two-node Pacemaker 2.1 + Corosync 3 cluster on one machine, for the failover test
// (test/cluster/failover.test.ts) and `npm run demo:cluster`. Adapted from the two-node recipe
// (../shared/recipes/pacemaker-two-node/: cluster-start.sh, cluster-stop.sh, inode.sh, crash-test.sh,
// written and proven by a procsafe session): stock Debian packages, no systemd.
//
//   netns procsafe-lan:   br0 10.77.0.254/24 (plays the client) ── port-node1 ── port-node2
//   node1 = netns procsafe-node1 + unshare(mnt,uts,ipc,pid): eth0 10.77.0.1
//   node2 = netns procsafe-node2 + unshare(mnt,uts,ipc,pid): eth0 10.77.0.2
//   the floating IP 10.77.0.100/24 moves between the nodes' eth0
//
// Each node's PID 1 is test/fixtures/cluster/nodeinit.sh, which bind-mounts the node's private
// copies of /etc/corosync, /var/lib/pacemaker, … and the OCF agents: nothing changes in the host's
// network namespace, /etc, /var/lib/pacemaker or /usr/lib/ocf. Every process is ended by PID
// (the nodes' PID 1, which takes its namespace with it); the namespaces are deleted.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { releaseClusterLock, takeClusterLock } from './cluster-lock';
import { ROOT, kill, waitFor } from './harness';
import { alive, run, which, type RunResult } from './pacemaker';

export type NodeName = 'node1' | 'node2';
export const NODES: NodeName[] = ['node1', 'node2'];
export const VIP = '10.77.0.100';
export const LAN_NS = 'procsafe-lan';
export const nodeNs = (n: NodeName): string => `procsafe-${n}`;
export const INSTALL_HINT = 'apt-get install pacemaker pacemaker-cli-utils corosync resource-agents iproute2 iputils-ping util-linux';
const NODEINIT = join(ROOT, 'test', 'fixtures', 'cluster', 'nodeinit.sh');
/** what a run started, so that the next run can end what a killed run left behind */
const STATE = '/run/procsafe-two-node.json';
const PATH = `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`;

interface NodeProc {
  unshare: ChildProcess;
  /** host pid of the node's PID 1 (nodeinit.sh) */
  init: number;
  /** the node's PID namespace (readlink /proc/INIT/ns/pid) */
  pidNs: string;
}

export interface Agent {
  provider: string;
  type: string;
  src: string;
}

/** Throws, so the test fails, unless this machine can run the two nodes. */
export function requireTwoNode(): void {
  if (process.getuid?.() !== 0) throw new Error('the two-node cluster needs root: it creates network namespaces and runs corosync and pacemakerd');
  const tools = ['pacemakerd', 'corosync', 'corosync-cfgtool', 'cibadmin', 'crm_attribute', 'crm_resource', 'crm_failcount', 'crmadmin', 'crm_mon', 'ip', 'nsenter', 'unshare', 'ping'];
  const missing = tools.filter((p) => which(p) === null);
  if (!existsSync('/usr/lib/ocf/resource.d/heartbeat/IPaddr2')) missing.push('ocf:heartbeat:IPaddr2');
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not installed: ${INSTALL_HINT}`);
}

/** Runs a tool without blocking the event loop (the story polls several things at once); never throws. */
export function runAsync(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(which(cmd) ?? cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, PATH, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr: stderr + (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/** Polls an async condition until it holds; throws "timed out … waiting for WHAT". */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

const corosyncConf = (tokenMs: number | undefined) => `# written by procsafe test/helpers/two-node-cluster.ts
totem {
    version: 2
    cluster_name: procsafe2
    transport: knet
    crypto_cipher: none
    crypto_hash: none${tokenMs ? `\n    token: ${tokenMs}` : ''}
}
nodelist {
${NODES.map((n, i) => `    node {\n        name: ${n}\n        nodeid: ${i + 1}\n        ring0_addr: 10.77.0.${i + 1}\n    }`).join('\n')}
}
quorum {
    provider: corosync_votequorum
    two_node: 1
}
logging {
    to_stderr: yes
    to_logfile: no
    to_syslog: no
    timestamp: on
}
`;

export class TwoNodeCluster {
  readonly base = mkdtempSync(join(tmpdir(), 'procsafe-2node-'));
  /** the path where each node sees its own "local disk" (the host sees the node's copy under localDir) */
  readonly local = join(this.base, 'local');
  private readonly nodes = new Map<NodeName, NodeProc>();
  private locked = false;
  /** what happened during stop(), for the report */
  readonly notes: string[] = [];

  nodeDir(n: NodeName): string {
    return join(this.base, 'nodes', n);
  }

  /** The host's view of what node N keeps on its local disk (`this.local` inside N). */
  localDir(n: NodeName): string {
    return join(this.nodeDir(n), 'local');
  }

  /** Network, per-node state, both nodes started; resolves once both are Online with an idle DC. */
  async start(opts: { agents: Agent[]; tokenMs?: number; onWait?: (owner: number) => void }): Promise<{ onlineMs: number }> {
    requireTwoNode();
    await takeClusterLock(100_000, opts.onWait);
    this.locked = true;
    this.endStale();
    chmodSync(this.base, 0o755);
    mkdirSync(this.local);
    writeFileSync(STATE, JSON.stringify({ owner: process.pid, base: this.base, inits: [] }));

    // the network: a bridge in the lan namespace, one veth per node (nothing in the host's namespace)
    const ip = (...a: string[]) => must(run('ip', a), `ip ${a.join(' ')}`);
    ip('netns', 'add', LAN_NS);
    ip('-n', LAN_NS, 'link', 'set', 'lo', 'up');
    ip('-n', LAN_NS, 'link', 'add', 'br0', 'type', 'bridge'); // STP off: ports forward at once
    ip('-n', LAN_NS, 'link', 'set', 'br0', 'up');
    ip('-n', LAN_NS, 'addr', 'add', '10.77.0.254/24', 'dev', 'br0');
    NODES.forEach((n, i) => {
      ip('netns', 'add', nodeNs(n));
      ip('-n', LAN_NS, 'link', 'add', `port-${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nodeNs(n));
      ip('-n', LAN_NS, 'link', 'set', `port-${n}`, 'master', 'br0', 'up');
      ip('-n', nodeNs(n), 'link', 'set', 'lo', 'up');
      ip('-n', nodeNs(n), 'link', 'set', 'eth0', 'up');
      ip('-n', nodeNs(n), 'addr', 'add', `10.77.0.${i + 1}/24`, 'dev', 'eth0');
    });

    // the seed CIB: no fencing here (nothing to fence; see docs/pacemaker.md for real servers)
    const seed = join(this.base, 'seed.xml');
    writeFileSync(seed, must(run('cibadmin', ['--empty']), 'cibadmin --empty'));
    for (const kv of ['stonith-enabled=false', 'no-quorum-policy=ignore', 'dc-deadtime=2s', 'cluster-recheck-interval=60s']) {
      const [k, v] = kv.split('=');
      must(run('crm_attribute', ['-t', 'crm_config', '-n', k, '-v', v], { CIB_file: seed }), `crm_attribute ${kv} on the seed`);
    }
    for (const n of NODES) {
      const d = this.nodeDir(n);
      mkdirSync(join(d, 'etc-corosync', 'uidgid.d'), { recursive: true });
      mkdirSync(join(d, 'var-lib-corosync'));
      mkdirSync(join(d, 'local'), { mode: 0o755 });
      must(run('cp', ['-a', '/var/lib/pacemaker', join(d, 'var-lib-pacemaker')]), 'cp -a /var/lib/pacemaker'); // keeps hacluster:haclient
      for (const sub of ['cib', 'pengine']) {
        const p = join(d, 'var-lib-pacemaker', sub);
        for (const f of readdirSync(p)) rmSync(join(p, f), { recursive: true, force: true });
      }
      must(run('install', ['-d', '-o', 'hacluster', '-g', 'haclient', '-m', '0770', join(d, 'var-log-pacemaker')]), 'install -d var-log-pacemaker');
      must(run('install', ['-o', 'hacluster', '-g', 'haclient', '-m', '0600', seed, join(d, 'var-lib-pacemaker', 'cib', 'cib.xml')]), 'install the seed CIB');
      for (const a of opts.agents) {
        mkdirSync(join(d, 'resource.d', a.provider), { recursive: true });
        copyFileSync(a.src, join(d, 'resource.d', a.provider, a.type));
        chmodSync(join(d, 'resource.d', a.provider, a.type), 0o755);
      }
      const conf = join(d, 'etc-corosync', 'corosync.conf');
      writeFileSync(conf, corosyncConf(opts.tokenMs));
      // -t checks that a nodelist address is local: inside the node's network namespace
      must(run('nsenter', [`--net=/run/netns/${nodeNs(n)}`, 'corosync', '-t', '-c', conf]), `corosync -t for ${n}`);
    }

    const t0 = performance.now();
    for (const n of NODES) await this.startNode(n);
    writeFileSync(STATE, JSON.stringify({ owner: process.pid, base: this.base, inits: [...this.nodes.values()].map((p) => p.init) }));
    await until(() => this.ready(), 60_000, 'both nodes Online with an idle DC', 100).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.logs()}`);
    });
    return { onlineMs: performance.now() - t0 };
  }

  private async startNode(n: NodeName): Promise<void> {
    const d = this.nodeDir(n);
    const fd = openSync(join(d, 'unshare.out'), 'a');
    const env: NodeJS.ProcessEnv = { PATH, LANG: 'C.UTF-8' };
    if (process.env.TZ) env.TZ = process.env.TZ;
    const unshare = spawn(
      which('nsenter') ?? 'nsenter',
      [`--net=/run/netns/${nodeNs(n)}`, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--mount-proc', '--propagation', 'private', NODEINIT, n, d, this.local],
      { detached: true, stdio: ['ignore', fd, fd], env },
    );
    closeSync(fd);
    unshare.on('error', () => undefined);
    unshare.unref();
    // the host pid of the node's PID 1 is the child of unshare (nsenter execs unshare)
    const init = await waitFor(
      () => {
        try {
          return Number(readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined;
        } catch {
          return undefined; // not yet
        }
      },
      5000,
      `the PID 1 of ${n} (see ${join(d, 'unshare.out')})`,
      20,
    );
    this.nodes.set(n, { unshare, init, pidNs: readlinkSync(`/proc/${init}/ns/pid`) });
  }

  private async ready(): Promise<boolean> {
    const xml = (await this.inNode('node1', 'crm_mon', ['-1', '--output-as=xml'])).stdout;
    if ((xml.match(/<node name="node[12]"[^>]* online="true"/g) ?? []).length !== 2) return false;
    const dc = /<current_dc [^>]*name="(node[12])"/.exec(xml)?.[1];
    if (dc === undefined) return false;
    const r = await this.inNode('node1', 'crmadmin', ['-q', '-S', dc]);
    return /S_IDLE/.test(r.stdout + r.stderr);
  }

  /** Is node N up (its PID 1 alive)? */
  up(n: NodeName): boolean {
    const p = this.nodes.get(n);
    return p !== undefined && alive(p.init);
  }

  /** Is ADDR a local address of node N? Read from its /proc/INIT/net/fib_trie: cheap enough to poll every few ms. */
  hasAddress(n: NodeName, addr: string): boolean {
    const p = this.nodes.get(n);
    if (!p || !alive(p.init)) return false;
    try {
      return new RegExp(`\\|-- ${addr.replaceAll('.', '\\.')}\\n\\s+/32 host LOCAL`).test(readFileSync(`/proc/${p.init}/net/fib_trie`, 'latin1'));
    } catch {
      return false;
    }
  }

  /** Runs a command inside node N (its network, mount, UTS, IPC and PID namespaces). */
  async inNode(n: NodeName, cmd: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
    const p = this.nodes.get(n);
    if (!p || !alive(p.init)) return { code: -1, stdout: '', stderr: `${n} is down` };
    return runAsync('nsenter', ['-t', String(p.init), '-m', '-u', '-i', '-n', '-p', '--', cmd, ...args], {}, timeoutMs);
  }

  /** Runs a command in the lan namespace (the client's side of the bridge). */
  inLan(cmd: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
    return runAsync('ip', ['netns', 'exec', LAN_NS, cmd, ...args], {}, timeoutMs);
  }

  /** Host pids of node N's live processes whose command line contains `text` (and whose /proc/PID/exe is `exe`). */
  pidsIn(n: NodeName, text: string, exe?: string): number[] {
    const p = this.nodes.get(n);
    if (!p) return [];
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readlinkSync(`/proc/${d}/ns/pid`) !== p.pidNs) continue;
        if (!readFileSync(`/proc/${d}/cmdline`, 'latin1').replaceAll('\0', ' ').includes(text)) continue;
        if (exe !== undefined && readlinkSync(`/proc/${d}/exe`) !== exe) continue;
        if (alive(Number(d))) out.push(Number(d));
      } catch {
        /* gone */
      }
    }
    return out;
  }

  /** The pid that node N's own tools (padmin, ps) show for host pid HOST (last field of NSpid). */
  static nsPid(host: number): number {
    const m = /^NSpid:\s+([\d\s]+)$/m.exec(readFileSync(`/proc/${host}/status`, 'latin1'));
    return m ? Number(m[1].trim().split(/\s+/).pop()) : host;
  }

  /** Power loss: SIGKILL to the node's PID 1 (the kernel ends every process of the node) and its NIC gone. */
  crash(n: NodeName): void {
    const p = this.nodes.get(n);
    if (p) kill(p.init, 'SIGKILL');
    run('ip', ['netns', 'del', nodeNs(n)]);
  }

  /** The last lines of the nodes' logs, for a failure message. */
  logs(): string {
    let s = '';
    for (const n of NODES) {
      for (const f of ['nodeinit.log', 'var-log-pacemaker/pacemaker.log']) {
        try {
          s += `\n--- ${n} ${f} ---\n${readFileSync(join(this.nodeDir(n), f), 'utf8').split('\n').slice(-25).join('\n')}`;
        } catch {
          /* none */
        }
      }
    }
    return s;
  }

  /**
   * SIGTERM to each node's PID 1 (pacemakerd stops the resources, then corosync stops), up to
   * 60 s, then SIGKILL; waits until no process of the node is left; deletes the namespaces.
   * Safe to call twice, and after a failed start.
   */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    const t = performance.now();
    for (const p of this.nodes.values()) if (alive(p.init)) kill(p.init, 'SIGTERM');
    for (const [n, p] of this.nodes) {
      await waitFor(() => !alive(p.init), 60_000, `${n} to stop`, 100).catch(() => {
        this.notes.push(`${n}: PID 1 (${p.init}) still alive 60 s after SIGTERM: SIGKILL (ends its whole PID namespace)`);
        kill(p.init, 'SIGKILL');
      });
      const left = () => this.pidsIn(n, '');
      await waitFor(() => left().length === 0, 10_000, `${n}'s processes to end`, 50).catch(() => {
        this.notes.push(`${n}: processes left after its PID 1 ended: ${left().join(' ')}`);
      });
    }
    if (this.nodes.size > 0) this.notes.push(`both nodes stopped ${(performance.now() - t).toFixed(0)} ms after SIGTERM`);
    this.nodes.clear();
    // the namespaces and the state file are ours only while we hold the lock (a start that
    // failed waiting for it must not delete another run's cluster)
    if (this.locked) {
      for (const ns of [...NODES.map(nodeNs), LAN_NS]) if (existsSync(`/run/netns/${ns}`)) run('ip', ['netns', 'del', ns]);
      rmSync(STATE, { force: true });
      releaseClusterLock();
    }
    this.locked = false;
    if (!opts.keepDir) rmSync(this.base, { recursive: true, force: true });
  }

  /** What a run killed half-way left (we hold the lock, so it is stale): its nodes, its namespaces, its directory. */
  private endStale(): void {
    try {
      const st = JSON.parse(readFileSync(STATE, 'utf8')) as { owner: number; base: string; inits: number[] };
      for (const pid of st.inits) {
        // any checkout's nodeinit.sh: its owner is dead (we hold the lock), so the node is an orphan
        if (alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('/test/fixtures/cluster/nodeinit.sh')) {
          kill(pid, 'SIGKILL');
          this.notes.push(`ended node PID 1 ${pid} left by run ${st.owner}`);
        }
      }
      if (st.base.startsWith(join(tmpdir(), 'procsafe-2node-'))) rmSync(st.base, { recursive: true, force: true });
    } catch {
      /* no stale state */
    }
    for (const ns of [...NODES.map(nodeNs), LAN_NS]) {
      if (existsSync(`/run/netns/${ns}`)) {
        run('ip', ['netns', 'del', ns]);
        this.notes.push(`deleted stale network namespace ${ns}`);
      }
    }
  }
}

