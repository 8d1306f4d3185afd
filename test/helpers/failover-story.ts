// The seeds' whole story on two real Pacemaker nodes, step by step, each step timed: pcheck
// heals the application in place; at retry-over it exits 1 and Pacemaker moves the group
// (floating IP + application + pcheck) to node2; `crm_resource --cleanup` brings it back to
// node1; node1 lost as a whole moves it to node2 again. Used by test/cluster/failover.test.ts
// (which asserts on what each step returns) and by `npm run demo:cluster` (which prints it).
// A step waits for what it times and throws, with the cluster's view, when it does not come.
import { kill, sleep } from './harness';
import { FailoverLab, APP_ID, GROUP, PCHECK_ID, RETRY } from './failover-lab';
import { alive } from './pacemaker';
import { TwoNodeCluster, VIP, type NodeName } from './two-node-cluster';

const nsPid = (host: number): number => TwoNodeCluster.nsPid(host);

interface Stage {
  name: string;
  /** watched only once this (earlier) stage has been seen */
  after?: string;
  /** true: seen now; a number: seen at that epoch ms (a log line's timestamp) */
  check: () => boolean | number | undefined | Promise<boolean | number | undefined>;
}

/**
 * Watches every stage at once, each in its own loop (every 10 ms, or back to back when the
 * check runs a cluster tool), so a slow check never delays the others; returns ms after t0 for
 * each, earliest first. A polled figure is when the poll that saw it returned.
 */
async function track(t0: number, stages: Stage[], timeoutMs: number, context: () => Promise<string>): Promise<Record<string, number>> {
  const at: Record<string, number> = {};
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, Promise<void>>();
  const watch = async (s: Stage) => {
    if (s.after !== undefined) await seen.get(s.after);
    while (Date.now() < deadline) {
      const v = await s.check();
      if (v === true) at[s.name] = Date.now() - t0;
      else if (typeof v === 'number') at[s.name] = v - t0;
      if (s.name in at) return;
      await sleep(10);
    }
  };
  for (const s of stages) seen.set(s.name, watch(s));
  await Promise.all(seen.values());
  const missing = stages.filter((s) => !(s.name in at)).map((s) => s.name);
  if (missing.length > 0) throw new Error(`after ${timeoutMs} ms still waiting for: ${missing.join(', ')} (seen: ${JSON.stringify(at)})${await context()}`);
  return Object.fromEntries(Object.entries(at).sort((a, b) => a[1] - b[1]));
}

export interface Heal {
  n: number;
  /** ms after the kill (Down and Up from pcheck's log timestamps) */
  at: Record<string, number>;
  killed: number;
  /** the application's pids on node1 afterwards, as node1 sees them */
  apps: number[];
  pent: Record<string, string> | undefined;
  pcheckBefore: number[];
  pcheckAfter: number[];
}

export interface Move {
  at: Record<string, number>;
  /** the node the group left, and where it went */
  from: NodeName;
  to: NodeName;
  apps: number[];
  pent: Record<string, string> | undefined;
  left: { apps: number[]; pcheck: number[]; vip: boolean };
  arp: string;
  mac: string;
  /** pcheck's log on the new node: its first lines (restored counters, if any) */
  log: string;
}

export class FailoverStory {
  readonly lab = new FailoverLab();
  /** step → figure (ms), in order */
  readonly figures: [string, number][] = [];
  readonly lines: string[] = [];

  constructor(private readonly say: (line: string) => void = () => undefined) {}

  private note(line: string, figures: Record<string, number> = {}, prefix = ''): void {
    this.lines.push(line);
    for (const [k, v] of Object.entries(figures)) this.figures.push([`${prefix}${k}`, v]);
    this.say(line);
  }

  private context = async (): Promise<string> => `\n--- crm_mon ---\n${await this.lab.monText()}${this.lab.cluster.logs()}`;

  /** Both nodes up, the group created and answering on the floating IP from node1. */
  async start(onWait?: (owner: number) => void): Promise<void> {
    const { onlineMs } = await this.lab.start(onWait);
    this.note(`cluster: node1 and node2 Online, DC idle after ${ms(onlineMs)}`, { 'cluster up': onlineMs });
    const t0 = Date.now();
    await this.lab.createGroup();
    await this.lab.settledOn('node1');
    const at = Date.now() - t0;
    this.note(`group ${GROUP} created → Started on node1, ${VIP} answers HTTP from node1: ${ms(at)}`, { 'group started': at });
  }

  /** Kill n of RETRY: pcheck restarts the application in place on node1. */
  async heal(n: number): Promise<Heal> {
    const lab = this.lab;
    const pcheckBefore = lab.pcheckPids('node1');
    const [old] = lab.appPids('node1');
    const killed = nsPid(old);
    const from = lab.logSize('node1');
    const t0 = Date.now();
    kill(old, 'SIGKILL');
    const at = await track(
      t0,
      [
        { name: 'Down', check: () => lab.logTime('node1', from, '] Down') },
        { name: 'Up', after: 'Down', check: () => lab.logTime('node1', from, ') Up') },
        {
          name: 'HTTP again',
          after: 'Up',
          check: async () => {
            const h = await lab.http();
            return h?.node === 'node1' && h.pid !== killed;
          },
        },
      ],
      15_000,
      this.context,
    );
    const apps = lab.appPids('node1').map(nsPid);
    this.note(`heal ${n}/${RETRY}: kill -9 ${killed} → Down ${ms(at.Down)} → Up ${ms(at.Up)} (pid ${apps.join(' ')}) → HTTP answers again ${ms(at['HTTP again'])}`, at, `heal ${n}: kill → `);
    return { n, at, killed, apps, pent: await lab.pent('node1'), pcheckBefore, pcheckAfter: lab.pcheckPids('node1') };
  }

  /** The next kill: retry-over, pcheck exits 1, Pacemaker moves the group to node2. */
  async retryOver(): Promise<Move> {
    const lab = this.lab;
    const [old] = lab.appPids('node1');
    const [pc] = lab.pcheckPids('node1');
    const from1 = lab.logSize('node1');
    const from2 = lab.logSize('node2');
    const t0 = Date.now();
    kill(old, 'SIGKILL');
    const at = await track(
      t0,
      [
        { name: 'RETRY_OVER:EXIT', check: () => lab.logTime('node1', from1, 'RETRY_OVER:EXIT') },
        { name: 'pcheck gone', check: () => !alive(pc) },
        { name: 'fail count 1', check: async () => (await lab.failcount(PCHECK_ID, 'node1')) >= 1 },
        ...this.arrival('node2', from2),
      ],
      30_000,
      this.context,
    );
    const move = await this.moved('node1', 'node2', at, from2);
    this.note(`retry-over: kill -9 → ${steps(at)}`, at, 'retry-over: kill → ');
    return move;
  }

  /** `crm_resource --cleanup` clears node1's failure: the group goes back to its preferred node. */
  async failback(): Promise<Move> {
    const lab = this.lab;
    const from1 = lab.logSize('node1');
    const t0 = Date.now();
    const r = await lab.cluster.inNode('node1', 'crm_resource', ['--cleanup', '-r', GROUP]);
    if (r.code !== 0) throw new Error(`crm_resource --cleanup -r ${GROUP} failed: ${r.stderr}`);
    const at = await track(
      t0,
      [
        { name: 'pcheck stopped on node2', check: () => lab.pcheckPids('node2').length === 0 },
        ...this.arrival('node1', from1),
      ],
      30_000,
      this.context,
    );
    const move = await this.moved('node2', 'node1', at, from1);
    // what node1's new pcheck found in its state file (SPEC §10: a retry-over exit starts fresh)
    const restored = /restored: (retry_count=\d+)/.exec(move.log)?.[1];
    this.note(`crm_resource --cleanup -r ${GROUP} → ${steps(at)} (node1's pcheck: ${restored ? `restored ${restored}` : 'fresh counters'})`, at, 'cleanup → ');
    return move;
  }

  /** node1 lost as a whole: every process of it killed, its NIC gone. */
  async nodeLoss(): Promise<Move & { dc: string }> {
    const lab = this.lab;
    const dc = /<current_dc [^>]*name="(node[12])"/.exec(await lab.monXml())?.[1] ?? '?';
    const from2 = lab.logSize('node2');
    const t0 = Date.now();
    lab.cluster.crash('node1');
    const at = await track(t0, this.arrival('node2', from2), 60_000, this.context);
    const move = await this.moved('node1', 'node2', at, from2);
    this.note(`node1 lost (PID 1 killed, NIC gone; the DC was ${dc}) → ${steps(at)}`, at, 'node1 lost → ');
    return { ...move, dc };
  }

  /**
   * The group arriving on node TO, in group order: the IP on its NIC, HTTP from the client
   * answered by it, its pcheck logging `Up` for the application (its log after byte logFrom),
   * and crm_mon showing every member Started there.
   */
  private arrival(to: NodeName, logFrom: number): Stage[] {
    const lab = this.lab;
    return [
      { name: `IP on ${to}`, check: () => lab.vipOn(to) },
      { name: `HTTP from ${to}`, after: `IP on ${to}`, check: async () => (await lab.http())?.node === to },
      { name: `watched on ${to}`, check: () => lab.logTime(to, logFrom, ') Up') },
      { name: `group Started on ${to}`, after: `watched on ${to}`, check: () => lab.groupOn(to) },
    ];
  }

  /** What the move left behind and what the new node shows, after the tracked stages. */
  private async moved(from: NodeName, to: NodeName, at: Record<string, number>, logFrom: number): Promise<Move> {
    const lab = this.lab;
    const up = lab.cluster.up(from);
    return {
      at,
      from,
      to,
      apps: lab.appPids(to).map(nsPid),
      pent: await lab.pent(to),
      left: { apps: up ? lab.appPids(from) : [], pcheck: up ? lab.pcheckPids(from) : [], vip: up && lab.vipOn(from) },
      arp: await lab.clientArp(),
      mac: await lab.mac(to),
      log: lab.log(to, logFrom),
    };
  }

  /** The fail counts of the application and of pcheck on node N. */
  async failcounts(n: NodeName): Promise<{ app: number; pcheck: number }> {
    return { app: await this.lab.failcount(APP_ID, n), pcheck: await this.lab.failcount(PCHECK_ID, n) };
  }

  timeline(): string {
    return ['two-node failover timeline (ms after the kill, the cleanup or the node loss):', ...this.lines.map((l) => `  ${l}`)].join('\n');
  }

  async stop(keepDir = false): Promise<void> {
    await this.lab.stop(keepDir);
  }
}

function ms(v: number): string {
  return `${Math.round(v)} ms`;
}

function steps(at: Record<string, number>): string {
  return Object.entries(at)
    .map(([k, v]) => `${k} ${ms(v)}`)
    .join(' → ');
}
