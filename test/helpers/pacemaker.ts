// A real single-node Pacemaker + Corosync cluster on loopback, for the OCF agent's test.
// Follows /work/shared/recipes/pacemaker-single-node.md: needs root and the Debian packages
// pacemaker, pacemaker-cli-utils and corosync; no systemd. It refuses to run beside daemons
// it did not start, backs up and restores /etc/corosync/corosync.conf and
// /var/lib/pacemaker/cib, and ends every process it started by PID (never pkill/killall,
// never the /etc/init.d scripts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseClusterLock, takeClusterLock } from './cluster-lock';
import { kill, sleep, waitFor } from './harness';

export const INSTALL_HINT = 'apt-get install pacemaker pacemaker-cli-utils corosync';
const COROSYNC_CONF = '/etc/corosync/corosync.conf';
const CIB_DIR = '/var/lib/pacemaker/cib';
const PENGINE_DIR = '/var/lib/pacemaker/pengine';
const SEARCH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':').filter(Boolean)];

/** The absolute path of a program, or null. */
export function which(name: string): string | null {
  for (const d of SEARCH) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a cluster tool synchronously (sbin on PATH); never throws. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): RunResult {
  const r = spawnSync(which(cmd) ?? cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}`, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/**
 * Pids of `pidof NAMES` in this network namespace: a daemon in another one (the two-node
 * test's nodes, a container) has its own abstract sockets and ports and cannot meet ours.
 */
function pidof(...names: string[]): number[] {
  const r = run('pidof', names);
  const ours = readlinkSync('/proc/self/ns/net');
  return r.stdout
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/ns/net`) === ours;
      } catch {
        return false; // gone
      }
    });
}

/** Is PID alive and not a zombie? */
export function alive(pid: number): boolean {
  try {
    const st = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return st !== undefined && st !== 'Z' && st !== 'X';
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  return run('pgrep', ['-P', String(pid)])
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

/** Throws, so the test fails, unless this machine can run a cluster for us. */
export function requireCluster(): void {
  if (process.getuid?.() !== 0) throw new Error('the Pacemaker test needs root (it starts corosync and pacemakerd)');
  const missing = ['pacemakerd', 'corosync', 'corosync-quorumtool', 'cibadmin', 'crm_attribute', 'crm_resource', 'crm_failcount', 'crmadmin', 'crm_mon', 'crm_simulate'].filter(
    (p) => which(p) === null,
  );
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not installed: ${INSTALL_HINT}`);
  const running = pidof('corosync', 'pacemakerd');
  if (running.length > 0) {
    throw new Error(`corosync/pacemakerd already running (pids ${running.join(' ')}), not started by this test: refusing to touch that cluster`);
  }
}

export class Cluster {
  readonly node = hostname();
  readonly dir = mkdtempSync(join(tmpdir(), 'procsafe-cluster-'));
  private readonly backup = join(this.dir, 'backup');
  private corosync: ChildProcess | null = null;
  private pacemakerd: ChildProcess | null = null;
  private pacemakerdChildren = new Set<number>();
  private confExisted = false;
  private confSaved = false;
  private cibBackedUp = false;
  private pengineBefore: Set<string> | null = null;
  private agentsInstalled: { path: string; createdDir: string | null }[] = [];
  private locked = false;
  /** what happened during stop(), for the test's report */
  readonly notes: string[] = [];

  /** Steps 2–5 of the recipe: configure, seed the CIB, start corosync then pacemakerd, wait for S_IDLE. */
  async start(): Promise<{ corosyncMs: number; idleMs: number }> {
    // one cluster test per machine: a second one would back up the first one's files as the originals
    await takeClusterLock(100_000);
    this.locked = true;
    requireCluster();
    chmodSync(this.dir, 0o755); // the daemons that run as hacluster write their log here
    mkdirSync(this.backup);
    this.confExisted = existsSync(COROSYNC_CONF);
    if (this.confExisted) copyFileSync(COROSYNC_CONF, join(this.backup, 'corosync.conf'));
    this.confSaved = true;
    mkdirSync(join(this.backup, 'cib'));
    if (existsSync(CIB_DIR)) {
      const r = run('cp', ['-a', `${CIB_DIR}/.`, join(this.backup, 'cib')]);
      if (r.code !== 0) throw new Error(`cannot back up ${CIB_DIR}: ${r.stderr}`);
    }
    this.cibBackedUp = true;
    this.pengineBefore = new Set(existsSync(PENGINE_DIR) ? readdirSync(PENGINE_DIR) : []);

    writeFileSync(
      COROSYNC_CONF,
      [
        '# written by procsafe test/helpers/pacemaker.ts; the original is restored afterwards',
        'totem {',
        '  version: 2',
        '  cluster_name: test',
        '  transport: knet',
        '  crypto_cipher: none',
        '  crypto_hash: none',
        '}',
        'nodelist {',
        '  node {',
        `    name: ${this.node}`,
        '    nodeid: 1',
        '    ring0_addr: 127.0.0.1',
        '  }',
        '}',
        'quorum {',
        '  provider: corosync_votequorum',
        '}',
        'logging {',
        '  to_stderr: yes',
        '  to_logfile: no',
        '  to_syslog: no',
        '}',
        '',
      ].join('\n'),
    );
    const t = run('corosync', ['-t']);
    if (t.code !== 0) throw new Error(`corosync -t rejects the configuration: ${t.stdout}${t.stderr}`);

    // seed the CIB, or the controller waits 20 s and no resource starts without stonith
    const seed = join(this.dir, 'seed.xml');
    const empty = run('cibadmin', ['--empty']);
    if (empty.code !== 0) throw new Error(`cibadmin --empty failed: ${empty.stderr}`);
    writeFileSync(seed, empty.stdout);
    for (const [n, v] of [
      ['stonith-enabled', 'false'],
      ['no-quorum-policy', 'ignore'],
      ['dc-deadtime', '2s'],
    ]) {
      const r = run('crm_attribute', ['-t', 'crm_config', '-n', n, '-v', v], { CIB_file: seed });
      if (r.code !== 0) throw new Error(`crm_attribute ${n}=${v} on the seed failed: ${r.stderr}`);
    }
    mkdirSync(CIB_DIR, { recursive: true });
    for (const f of readdirSync(CIB_DIR)) if (f.startsWith('cib')) rmSync(join(CIB_DIR, f), { force: true });
    const inst = run('install', ['-o', 'hacluster', '-g', 'haclient', '-m', '0600', seed, join(CIB_DIR, 'cib.xml')]);
    if (inst.code !== 0) throw new Error(`cannot install the seed CIB: ${inst.stderr}`);

    const t0 = performance.now();
    this.corosync = this.daemon('corosync', ['-f'], 'corosync.log', {});
    await waitFor(() => this.exitedEarly(this.corosync!, 'corosync') || run('corosync-quorumtool', ['-s']).code === 0, 15_000, 'corosync-quorumtool -s to succeed', 100);
    const corosyncMs = performance.now() - t0;

    const plog = join(this.dir, 'pacemaker.log');
    closeSync(openSync(plog, 'a'));
    const ids = this.hacluster();
    if (ids) chownSync(plog, ids.uid, ids.gid);
    chmodSync(plog, 0o660);
    this.pacemakerd = this.daemon('pacemakerd', [], 'pacemakerd.log', { PCMK_logfile: plog });
    await waitFor(
      () => {
        const r = run('crmadmin', ['-q', '-S', this.node]);
        return this.exitedEarly(this.pacemakerd!, 'pacemakerd') || /S_IDLE/.test(r.stdout + r.stderr);
      },
      40_000,
      `crmadmin -q -S ${this.node} to print S_IDLE`,
      200,
    );
    return { corosyncMs, idleMs: performance.now() - t0 };
  }

  private hacluster(): { uid: number; gid: number } | null {
    const u = run('id', ['-u', 'hacluster']);
    const g = run('id', ['-g', 'hacluster']);
    return u.code === 0 && g.code === 0 ? { uid: Number(u.stdout), gid: Number(g.stdout) } : null;
  }

  private daemon(cmd: string, args: string[], log: string, env: Record<string, string>): ChildProcess {
    const fd = openSync(join(this.dir, log), 'a');
    const child = spawn(which(cmd) ?? cmd, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}`, ...env },
    });
    closeSync(fd);
    child.on('error', () => undefined);
    return child;
  }

  private exitedEarly(c: ChildProcess, name: string): false {
    if (c.exitCode !== null || c.signalCode !== null) {
      throw new Error(`${name} exited (${c.exitCode ?? c.signalCode}) during start-up; its log:\n${this.log(name === 'corosync' ? 'corosync.log' : 'pacemakerd.log')}`);
    }
    return false;
  }

  log(name: string): string {
    try {
      return readFileSync(join(this.dir, name), 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '(none)';
    }
  }

  /** Installs an OCF agent as /usr/lib/ocf/resource.d/PROVIDER/TYPE (mode 755); removed by stop(). */
  installAgent(src: string, provider: string, type: string): string {
    const dir = `/usr/lib/ocf/resource.d/${provider}`;
    const createdDir = existsSync(dir) ? null : dir;
    const dest = join(dir, type);
    if (existsSync(dest)) throw new Error(`${dest} exists already: refusing to overwrite an installed agent`);
    const r = run('install', ['-D', '-m', '755', src, dest]);
    if (r.code !== 0) throw new Error(`cannot install ${src} as ${dest}: ${r.stderr}`);
    this.agentsInstalled.push({ path: dest, createdDir });
    return dest;
  }

  cibadmin(args: string[]): RunResult {
    return run('cibadmin', args);
  }

  /** `crm_resource --locate`: true when it says "is running on". */
  isRunning(id: string): boolean {
    return /is running on/.test(run('crm_resource', ['--locate', '-r', id]).stdout);
  }

  failcount(id: string): number {
    const r = run('crm_failcount', ['-G', '-q', '-r', id, '-N', this.node]);
    const v = r.stdout.trim();
    if (v === 'INFINITY') return Infinity;
    return /^\d+$/.test(v) ? Number(v) : 0;
  }

  /** crm_mon's XML view: the role and failures of the resource. */
  monXml(): string {
    return run('crm_mon', ['-1', '--output-as=xml']).stdout;
  }

  role(id: string): string | null {
    const m = new RegExp(`<resource id="${id}"[^>]*role="([^"]+)"`).exec(this.monXml());
    return m ? m[1] : null;
  }

  /** The allocation score of the resource on this node from `crm_simulate -Ls`. */
  score(id: string): string | null {
    const out = run('crm_simulate', ['-Ls']).stdout;
    const re = new RegExp(`${id} allocation score on ${this.node}: (\\S+)`);
    return re.exec(out)?.[1] ?? null;
  }

  cleanupResource(id: string): RunResult {
    return run('crm_resource', ['--cleanup', '-r', id]);
  }

  /** Deletes a primitive or group from the configuration (Pacemaker stops it first if it runs). */
  deleteResource(id: string, element: 'primitive' | 'group' = 'primitive'): RunResult {
    return run('cibadmin', ['--delete', '-o', 'resources', '--xml-text', `<${element} id="${id}"/>`]);
  }

  /**
   * What Pacemaker would do if a second node joined now: a copy of the live CIB with a
   * node PEER added, run through `crm_simulate -S -u PEER`; returns the transition summary.
   */
  simulatePeer(peer: string): string {
    const file = join(this.dir, 'two-nodes.xml');
    const q = run('cibadmin', ['-Q']);
    if (q.code !== 0) throw new Error(`cibadmin -Q failed: ${q.stderr}`);
    writeFileSync(file, q.stdout);
    const add = run('cibadmin', ['--create', '-o', 'nodes', '--xml-text', `<node id="2" uname="${peer}"/>`], { CIB_file: file });
    if (add.code !== 0) throw new Error(`cannot add ${peer} to the copy: ${add.stderr}`);
    const r = run('crm_simulate', ['-x', file, '-u', peer, '-S']);
    const m = /Transition Summary:\n([\s\S]*?)\n\s*\n/.exec(r.stdout);
    return m ? m[1] : r.stdout;
  }

  /**
   * Step 8: SIGTERM pacemakerd (it stops its resources first) and wait up to 30 s, then the
   * same for corosync; SIGKILL only if stuck, with the children listed beforehand. Then
   * restore the configuration files and remove the installed agents. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.pacemakerd?.pid) {
      for (const p of childrenOf(this.pacemakerd.pid)) this.pacemakerdChildren.add(p);
      await this.terminate(this.pacemakerd, 'pacemakerd', [...this.pacemakerdChildren]);
      this.pacemakerd = null;
    }
    if (this.corosync?.pid) {
      await this.terminate(this.corosync, 'corosync', []);
      this.corosync = null;
    }
    this.restore();
    if (this.locked) releaseClusterLock();
    this.locked = false;
  }

  private async terminate(c: ChildProcess, name: string, children: number[]): Promise<void> {
    const pid = c.pid!;
    const gone = () => c.exitCode !== null || c.signalCode !== null || !alive(pid);
    const t = performance.now();
    if (!gone()) kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (!gone() && Date.now() < deadline) await sleep(100);
    if (!gone()) {
      this.notes.push(`${name} (pid ${pid}) stuck 30 s after SIGTERM: SIGKILL to it and its children ${children.join(' ')}`);
      kill(pid, 'SIGKILL');
      for (const ch of children) if (alive(ch)) kill(ch, 'SIGKILL');
      await waitFor(gone, 5000, `${name} to die`, 50).catch(() => undefined);
    } else {
      this.notes.push(`${name} stopped ${(performance.now() - t).toFixed(0)} ms after SIGTERM`);
    }
    // children that outlived their parent (they should not): by PID
    for (const ch of children) {
      if (alive(ch)) {
        this.notes.push(`${name} child ${ch} outlived it: SIGKILL`);
        kill(ch, 'SIGKILL');
      }
    }
  }

  private restore(): void {
    if (this.confSaved) {
      if (this.confExisted) copyFileSync(join(this.backup, 'corosync.conf'), COROSYNC_CONF);
      else rmSync(COROSYNC_CONF, { force: true });
      this.confSaved = false;
    }
    if (this.cibBackedUp) {
      for (const f of readdirSync(CIB_DIR)) rmSync(join(CIB_DIR, f), { recursive: true, force: true });
      run('cp', ['-a', `${join(this.backup, 'cib')}/.`, CIB_DIR]);
      this.cibBackedUp = false;
    }
    // the scheduler's inputs written while our cluster ran
    const before = this.pengineBefore;
    if (before && existsSync(PENGINE_DIR)) {
      for (const f of readdirSync(PENGINE_DIR)) if (!before.has(f)) rmSync(join(PENGINE_DIR, f), { force: true });
    }
    this.pengineBefore = null;
    for (const a of this.agentsInstalled) {
      rmSync(a.path, { force: true });
      if (a.createdDir) {
        try {
          rmdirSync(a.createdDir);
        } catch {
          /* not empty: someone else's */
        }
      }
    }
    this.agentsInstalled = [];
  }

  /** After stop(): the work directory with the daemons' logs goes too. */
  removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
