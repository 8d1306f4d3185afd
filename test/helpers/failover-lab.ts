// The seeds' cluster story on two real Pacemaker nodes (test/helpers/two-node-cluster.ts):
// group g_app = app_vip (ocf:heartbeat:IPaddr2, the floating IP) + app (the application, its own
// resource: ocf:lab:webapp, test/fixtures/cluster/webapp) + app_pcheck (ocf:procsafe:pcheck on
// a ProcessSaver pfile that watches the application). This file sets it up and observes it;
// failover-story.ts runs the steps with their timings, for the test and `npm run demo:cluster`.
import { chmodSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PADMIN, PCHECK, ROOT, parseBlocks } from './harness';
import { TwoNodeCluster, VIP, until, type NodeName } from './two-node-cluster';

export const GROUP = 'g_app';
export const VIP_ID = 'app_vip';
export const APP_ID = 'app';
export const PCHECK_ID = 'app_pcheck';
/** the pfile's retry_count: this many deaths are healed in place, the next is a retry-over */
export const RETRY = 3;
export const PORT = 8080;
const NODE_BIN = realpathSync(process.execPath);

export class FailoverLab {
  readonly cluster = new TwoNodeCluster();
  /** "installed identically on both servers": the application, its start script, the pfile */
  readonly opt = join(this.cluster.base, 'opt', 'webapp');
  readonly app = join(this.opt, 'webapp.js');
  readonly startScript = join(this.opt, 'start-webapp.sh');
  readonly pfile = join(this.cluster.base, 'etc', 'app.pfile');
  /** each server's own disk (pcheck's LOG_FILE and SHM_DUMP_FILE), as the node sees it */
  readonly logFile = join(this.cluster.local, 'pcheck.log');

  /** Writes the application, its start script and the pfile; starts both nodes. */
  async start(onWait?: (owner: number) => void): Promise<{ onlineMs: number }> {
    mkdirSync(this.opt, { recursive: true });
    mkdirSync(join(this.cluster.base, 'etc'));
    writeFileSync(
      this.app,
      [
        "// The application of the two-node test: answers each request with its node's name and its pid.",
        "const { createServer } = require('node:http');",
        "const { hostname } = require('node:os');",
        'createServer((req, res) => res.end(`${hostname()} ${process.pid}\\n`)).listen(Number(process.argv[2]));',
        "process.on('SIGTERM', () => process.exit(0));",
        '',
      ].join('\n'),
    );
    // as operators write them: nohup … &, no redirections
    writeFileSync(
      this.startScript,
      [
        '#!/bin/sh',
        "# Starts the web application. Pacemaker's start (ocf:lab:webapp) and pcheck's restarts run this same script.",
        `cd ${this.opt}`,
        `nohup ${NODE_BIN} ${this.app} ${PORT} &`,
        '',
      ].join('\n'),
    );
    chmodSync(this.startScript, 0o755);
    writeFileSync(
      this.pfile,
      [
        '##### PARAM #####',
        'IPCKEY 0x5afe2a0d',
        'MONITOR_INTERVAL 10',
        'RESTART_WAIT 5',
        `SHM_DUMP_FILE ${join(this.cluster.local, 'app.dmp')}`,
        `LOG_FILE ${this.logFile}`,
        // the nodes share the host's /dev: a syslog socket there belongs to another test
        'SYSLOG off',
        '##### PENT #####',
        `${NODE_BIN}:${this.startScript}:0:${RETRY}:exit:include_strings=${this.app}`,
        '',
      ].join('\n'),
    );
    return this.cluster.start({
      agents: [
        { provider: 'procsafe', type: 'pcheck', src: join(ROOT, 'etc', 'ocf', 'pcheck') },
        { provider: 'lab', type: 'webapp', src: join(ROOT, 'test', 'fixtures', 'cluster', 'webapp') },
      ],
      onWait,
    });
  }

  /** The group's configuration: the XML an operator loads with `cibadmin --create -o resources`. */
  groupXml(): string {
    const nv = (id: string, pairs: Record<string, string | number>) =>
      Object.entries(pairs)
        .map(([k, v]) => `<nvpair id="${id}-${k}" name="${k}" value="${v}"/>`)
        .join('');
    const ops = (id: string, monitorS: number) =>
      `<operations><op id="${id}-monitor-${monitorS}s" name="monitor" interval="${monitorS}s" timeout="20s"/>` +
      `<op id="${id}-start-0" name="start" interval="0s" timeout="20s"/><op id="${id}-stop-0" name="stop" interval="0s" timeout="20s"/></operations>`;
    return (
      `<group id="${GROUP}">` +
      `<primitive id="${VIP_ID}" class="ocf" provider="heartbeat" type="IPaddr2">` +
      `<instance_attributes id="${VIP_ID}-ia">${nv(VIP_ID, { ip: VIP, cidr_netmask: 24, nic: 'eth0' })}</instance_attributes>${ops(VIP_ID, 5)}</primitive>` +
      `<primitive id="${APP_ID}" class="ocf" provider="lab" type="webapp">` +
      `<meta_attributes id="${APP_ID}-meta">${nv(`${APP_ID}-meta`, { 'migration-threshold': 1 })}</meta_attributes>` +
      `<instance_attributes id="${APP_ID}-ia">${nv(APP_ID, { program: NODE_BIN, match: this.app, start_script: this.startScript, port: PORT, restart_grace: 3 })}</instance_attributes>` +
      `${ops(APP_ID, 2)}</primitive>` +
      `<primitive id="${PCHECK_ID}" class="ocf" provider="procsafe" type="pcheck">` +
      `<meta_attributes id="${PCHECK_ID}-meta">${nv(`${PCHECK_ID}-meta`, { 'migration-threshold': 1 })}</meta_attributes>` +
      `<instance_attributes id="${PCHECK_ID}-ia">${nv(PCHECK_ID, { pfile: this.pfile, pcheck: PCHECK })}</instance_attributes>` +
      `${ops(PCHECK_ID, 1)}</primitive>` +
      `</group>`
    );
  }

  /** Creates the group and its preference for node1 (score 100; resource-stickiness stays 0). */
  async createGroup(): Promise<void> {
    for (const [section, xml] of [
      ['resources', this.groupXml()],
      ['constraints', `<rsc_location id="${GROUP}-prefers-node1" rsc="${GROUP}" node="node1" score="100"/>`],
    ]) {
      const r = await this.cluster.inNode('node1', 'cibadmin', ['--create', '-o', section, '--xml-text', xml]);
      if (r.code !== 0) throw new Error(`cibadmin --create -o ${section} failed: ${r.stderr}`);
    }
  }

  // ---- observations ------------------------------------------------------------------------

  /** A node that is up, to ask the cluster (node1 while it lives). */
  private viewer(): NodeName {
    return this.cluster.up('node1') ? 'node1' : 'node2';
  }

  async monXml(): Promise<string> {
    return (await this.cluster.inNode(this.viewer(), 'crm_mon', ['-1', '--output-as=xml'])).stdout;
  }

  /** `crm_mon -1 -rf` as text, for a failure message. */
  async monText(): Promise<string> {
    return (await this.cluster.inNode(this.viewer(), 'crm_mon', ['-1', '-rf'])).stdout;
  }

  /** Every member of the group Started (and not failed) on node N. */
  async groupOn(n: NodeName): Promise<boolean> {
    const xml = await this.monXml();
    return [VIP_ID, APP_ID, PCHECK_ID].every((id) => {
      const m = new RegExp(`<resource id="${id}"[^>]*>\\s*<node name="([^"]+)"`).exec(xml);
      const tag = new RegExp(`<resource id="${id}"[^>]*>`).exec(xml)?.[0] ?? '';
      return m?.[1] === n && /role="Started"/.test(tag) && /active="true"/.test(tag) && /failed="false"/.test(tag);
    });
  }

  async failcount(id: string, n: NodeName): Promise<number> {
    const v = (await this.cluster.inNode(this.viewer(), 'crm_failcount', ['-G', '-q', '-r', id, '-N', n])).stdout.trim();
    if (v === 'INFINITY') return Infinity;
    return /^\d+$/.test(v) ? Number(v) : 0;
  }

  /** The failed operations crm_mon lists (none while pcheck heals). */
  async failures(): Promise<string[]> {
    return (await this.monXml()).match(/<failure [^>]*>/g) ?? [];
  }

  vipOn(n: NodeName): boolean {
    return this.cluster.hasAddress(n, VIP);
  }

  async mac(n: NodeName): Promise<string> {
    return /link\/ether (\S+)/.exec((await this.cluster.inNode(n, 'ip', ['-o', 'link', 'show', 'eth0'])).stdout)?.[1] ?? '?';
  }

  /** The MAC the client (the bridge's namespace) has for the floating IP. */
  async clientArp(): Promise<string> {
    return /lladdr (\S+)/.exec((await this.cluster.inLan('ip', ['neigh', 'show', VIP])).stdout)?.[1] ?? '?';
  }

  /** HTTP GET to the floating IP from the client's side of the bridge: who answered, or null. */
  async http(): Promise<{ node: string; pid: number } | null> {
    const req = `exec 3<>/dev/tcp/${VIP}/${PORT} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`;
    // a short timeout: a request sent while the client's ARP entry still names the old node gets
    // no answer, and the next try (after IPaddr2's gratuitous ARP) should not wait behind it
    const r = await this.cluster.inLan('timeout', ['0.5', 'bash', '-c', req], 3000);
    const m = /^(node[12]) (\d+)\s*$/m.exec(r.stdout);
    return m ? { node: m[1], pid: Number(m[2]) } : null;
  }

  /** Host pids of the application on node N (its exe and its script path, as pcheck matches it). */
  appPids(n: NodeName): number[] {
    return this.cluster.pidsIn(n, this.app, NODE_BIN);
  }

  /** Host pids of pcheck on our pfile on node N. */
  pcheckPids(n: NodeName): number[] {
    return this.cluster.pidsIn(n, `${PCHECK} -f ${this.pfile}`);
  }

  /** `padmin -f PFILE -c 'show pent'` run inside node N: the one entry, or undefined while no pcheck answers. */
  async pent(n: NodeName): Promise<Record<string, string> | undefined> {
    const r = await this.cluster.inNode(n, process.execPath, [PADMIN, '-f', this.pfile, '-c', 'show pent']);
    return r.code === 0 ? parseBlocks(r.stdout)[0] : undefined;
  }

  /** pcheck's LOG_FILE on node N's own disk, from byte `from`. */
  log(n: NodeName, from = 0): string {
    try {
      return readFileSync(join(this.cluster.localDir(n), 'pcheck.log'), 'utf8').slice(from);
    } catch {
      return '';
    }
  }

  logSize(n: NodeName): number {
    try {
      return statSync(join(this.cluster.localDir(n), 'pcheck.log')).size;
    } catch {
      return 0;
    }
  }

  /** The time (epoch ms, from its timestamp) of the first line after byte `from` of node N's log that contains `text`. */
  logTime(n: NodeName, from: number, text: string): number | undefined {
    const line = this.log(n, from)
      .split('\n')
      .find((l) => l.includes(text));
    const m = line && /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
    if (!m) return undefined;
    const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number);
    return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  }

  /** Waits until the group runs on node N and the floating IP answers HTTP from there. */
  async settledOn(n: NodeName, timeoutMs = 30_000): Promise<void> {
    try {
      await until(async () => this.vipOn(n) && (await this.groupOn(n)) && (await this.http())?.node === n, timeoutMs, `group ${GROUP} Started on ${n}, answering on ${VIP}`, 100);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- crm_mon ---\n${await this.monText()}${this.cluster.logs()}`, { cause: e });
    }
  }

  async stop(keepDir = false): Promise<void> {
    await this.cluster.stop({ keepDir });
  }
}
