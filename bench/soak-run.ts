// The measuring half of `npm run soak` (bench/soak.ts is its command line; the smoke test
// runs it small): a real pcheck watching `entries` adopted `sleep`s among `background`
// unrelated processes, killed `batch` at a time until `cycles` kills were healed. Each heal
// is timed from the kill to its replacement in /proc (the bench's poller thread), and to
// pcheck's Down and Up lines; pcheck's RSS, fds, threads and CPU are sampled between batches.
// At the end pcheck's LOG_FILE and `padmin show pent` are checked against every kill.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Poller } from './heal-poller';
import { allPids, CLK_TCK, machineBusyPercent, machineCpu, nowMs, readStat, vmRssKb } from './proc';
import { rng, summarize } from './stats';
import { AdoptedServices, Background, ProcsafeSut, ROOT, Workspace, procsafe, sleep, snapshotProcsafe, type Victim } from './suts';
import { checkLog, checkState, growth, parseShowPent, type EntryHistory, type Sample, type SoakOptions, type SoakResults } from './soak-report';

/** A heal not seen this long after its kill counts as lost (pcheck's RESTART_WAIT is 30 s). */
const HEAL_TIMEOUT_MS = 35000;
/** Beyond the slowest heals of a loaded run: only then look for a replacement on a reused pid. */
const REUSED_AFTER_MS = 2000;

const loadavg = (): string => readFileSync('/proc/loadavg', 'latin1').trim().split(' ').slice(0, 3).join(' ');

function sh(cmd: string): string {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim();
}

export function soakMachine(): Record<string, string> {
  return {
    nproc: sh('nproc'),
    cpu: sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-"),
    memory: `${sh("free -m | awk '/^Mem:/ {print $2}'")} MB RAM`,
    kernel: sh('uname -r'),
    node: process.version,
    pid_max: sh('cat /proc/sys/kernel/pid_max'),
    ulimit_u: sh('ulimit -u'),
    procsafe: sh(`cd ${ROOT} && git describe --always --dirty 2>/dev/null`),
  };
}

/** What an fd of pcheck is: pidfd, proc (an open /proc/PID/stat: the poll death watch),
 *  socket, pipe, file, or the anon_inode kind. */
function fdKind(target: string): string {
  if (target.startsWith('/proc/')) return 'proc';
  if (target.startsWith('/')) return 'file';
  if (target === 'anon_inode:[pidfd]') return 'pidfd';
  const m = /^(\w+):/.exec(target);
  return m && m[1] !== 'anon_inode' ? m[1] : target;
}

function samplePcheck(pid: number, cycles: number, firstKillAt: number): Sample {
  const st = readStat(pid);
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const fdKinds: Record<string, number> = {};
  const fds = readdirSync(`/proc/${pid}/fd`);
  for (const fd of fds) {
    let k = 'gone';
    try {
      k = fdKind(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      /* closed while we looked */
    }
    fdKinds[k] = (fdKinds[k] ?? 0) + 1;
  }
  return {
    at: (nowMs() - firstKillAt) / 1000,
    cycles,
    rssKb: vmRssKb(pid),
    fds: fds.length,
    fdKinds,
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
    cpuS: (st?.ticks ?? NaN) / CLK_TCK,
    childCpuS: (st?.childTicks ?? NaN) / CLK_TCK,
  };
}

export class Soak {
  readonly work = mkdtempSync(join(tmpdir(), 'pssoak-'));
  private readonly ws = new Workspace(this.work);
  private readonly bg = new Background(this.ws);
  private readonly services = new AdoptedServices(this.ws, 'svc');
  private readonly logFile = join(this.work, 'pcheck.log');
  private readonly sut: ProcsafeSut;
  private readonly poller: Poller;
  private pollerError: Error | null = null;
  private readonly rand: () => number;
  private readonly history: EntryHistory[] = [];
  readonly results: SoakResults;

  constructor(
    private readonly o: SoakOptions,
    command: string,
    private readonly say: (msg: string) => void = () => undefined,
  ) {
    if (o.batch < 1 || o.batch > o.entries) throw new Error(`batch (${o.batch}) must be between 1 and entries (${o.entries})`);
    this.sut = new ProcsafeSut(this.ws, o.deathWatch, this.services, { stateFile: true, logFile: this.logFile });
    this.poller = new Poller((e) => (this.pollerError = e));
    this.rand = rng(o.seed);
    const empty = summarize([]);
    this.results = {
      startedAt: new Date().toISOString(),
      finishedAt: '',
      durationS: 0,
      command,
      options: o,
      machine: soakMachine(),
      setup: { backgroundS: 0, pcheckStartS: NaN, processesInTable: 0, pcheckPid: 0 },
      run: { kills: 0, healed: 0, failed: 0, reusedPid: 0, batches: 0, wallS: 0, machineBusyPct: NaN, loadStart: loadavg(), loadEnd: '' },
      healMs: empty,
      downMs: empty,
      upMs: empty,
      heal: [],
      samples: [],
      growth: null,
      logCheck: null,
      stateCheck: null,
      errors: [],
    };
  }

  /** Runs the whole soak; never throws (failures land in results.errors), always cleans up. */
  async run(): Promise<SoakResults> {
    const t0 = nowMs();
    try {
      if (this.o.snapshot) snapshotProcsafe(join(this.work, 'procsafe'));
      if (this.o.background > 0) {
        this.say(`starting ${this.o.background} background processes`);
        this.results.setup.backgroundS = (await this.bg.start(this.o.background)) / 1000;
      }
      this.results.setup.processesInTable = allPids().length;
      this.say(`starting pcheck (${this.o.deathWatch}) with ${this.o.entries} entries among ${this.results.setup.processesInTable} processes`);
      await this.sut.start(this.o.entries);
      this.results.setup.pcheckStartS = this.sut.startedIn / 1000;
      this.results.setup.pcheckPid = this.sut.pid as number;
      for (let i = 0; i < this.o.entries; i++) this.history.push({ pname: this.services.pname(i), startPid: this.services.pid(i), killed: [], healedAs: [] });
      await this.cycles();
      this.results.stateCheck = checkState(parseShowPent(await this.showPent()), this.history);
      await this.sut.stop();
      this.results.logCheck = checkLog(readFileSync(this.logFile, 'utf8'), this.history);
    } catch (e) {
      this.results.errors.push(`soak failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
      await this.sut.stop();
      this.services.killAll();
      await this.bg.stopAndSettle();
      await this.poller.close();
      if (!this.o.keep) rmSync(this.work, { recursive: true, force: true });
    }
    const r = this.results;
    r.growth = growth(r.samples, Math.ceil(this.o.cycles * this.o.warmup));
    r.run.loadEnd = loadavg();
    r.finishedAt = new Date().toISOString();
    r.durationS = (nowMs() - t0) / 1000;
    return r;
  }

  /** For a signal handler: kills everything this soak started, at once. */
  abort(): void {
    this.sut.abort();
    this.services.killAll();
    this.bg.stop();
    if (!this.o.keep) rmSync(this.work, { recursive: true, force: true });
  }

  private victim(i: number): Victim | null {
    try {
      return this.sut.victim(i);
    } catch {
      return null; // lost in an earlier batch and not found again
    }
  }

  private async cycles(): Promise<void> {
    const o = this.o;
    const r = this.results;
    const log = this.sut.log as NonNullable<ProcsafeSut['log']>;
    const pid = this.sut.pid as number;
    const heal: number[] = [];
    const down: number[] = [];
    const up: number[] = [];
    const cpu0 = machineCpu();
    const firstKillAt = nowMs();
    await sleep(o.settleMs);
    r.samples.push(samplePcheck(pid, 0, firstKillAt));
    let nextSample = o.sampleEvery;
    let lastSampleAt = firstKillAt;
    let nextReport = o.cycles / 10;
    while (r.run.kills < o.cycles) {
      if (this.pollerError) throw this.pollerError;
      const want = Math.min(o.batch, o.cycles - r.run.kills);
      const picked = new Set<number>();
      for (let tries = 0; picked.size < want && tries < want * 100; tries++) picked.add(Math.floor(this.rand() * o.entries));
      const idx = [...picked].filter((i) => this.victim(i) !== null);
      if (idx.length === 0) throw new Error('no watched process with a known pid is left to kill');
      const victims = idx.map((i) => this.victim(i) as Victim);
      const { result } = this.poller.request({
        kills: victims.map((v) => ({ pid: v.pid, atMs: null })),
        targets: victims.map((v) => v.key),
        targetKill: victims.map((_, j) => j),
        intervalMs: o.pollMs,
        timeoutMs: HEAL_TIMEOUT_MS,
        trackReap: false,
        reapTimeoutMs: 0,
        reusedAfterMs: REUSED_AFTER_MS,
      });
      const res = await result;
      r.run.batches++;
      const healed: { j: number; pid: number; killAt: number }[] = [];
      victims.forEach((v, j) => {
        const killAt = res.killAt[j];
        const f = res.found[j];
        if (killAt === null || res.killError[j] !== null) {
          r.errors.push(`kill of ${v.pname} (pid ${v.pid}) failed: ${res.killError[j]}`);
          return;
        }
        r.run.kills++;
        const h = this.history[idx[j]];
        h.killed.push(v.pid);
        h.healedAs.push(f?.pid ?? null);
        if (!f) {
          r.run.failed++;
          r.errors.push(`${v.pname} (pid ${v.pid}): no new process within ${HEAL_TIMEOUT_MS} ms of its kill`);
          return;
        }
        r.run.healed++;
        if (f.reused) r.run.reusedPid++;
        heal.push(f.at - killAt);
        this.sut.replaced(idx[j], f.pid);
        healed.push({ j, pid: f.pid, killAt });
      });
      // The next batch kills only processes pcheck has logged Up: a process it has not
      // adopted yet would die unseen, and its missing Down would be the soak's doing.
      const after = (m: Map<number, number>, p: number, t: number) => {
        const at = m.get(p);
        return at !== undefined && at >= t ? at : undefined;
      };
      const allUp = await log.waitFor(() => (healed.every((x) => after(log.upByPid, x.pid, x.killAt) !== undefined) ? true : null), HEAL_TIMEOUT_MS);
      for (const x of healed) {
        const d = after(log.downByPid, victims[x.j].pid, x.killAt);
        const u = after(log.upByPid, x.pid, x.killAt);
        if (d !== undefined) down.push(d - x.killAt);
        if (u !== undefined) up.push(u - x.killAt);
        else if (!allUp) r.errors.push(`${victims[x.j].pname}: pid ${x.pid} in /proc but no Up line within ${HEAL_TIMEOUT_MS} ms`);
      }
      if (healed.length < victims.length) this.sut.refresh();
      const now = nowMs();
      if (r.run.kills >= nextSample || now - lastSampleAt >= o.sampleSeconds * 1000 || r.run.kills >= o.cycles) {
        await sleep(o.settleMs);
        r.samples.push(samplePcheck(pid, r.run.kills, firstKillAt));
        lastSampleAt = now;
        while (nextSample <= r.run.kills) nextSample += o.sampleEvery;
      }
      if (r.run.kills >= nextReport) {
        const s = r.samples[r.samples.length - 1];
        this.say(`${r.run.kills}/${o.cycles} kills, ${r.run.healed} healed; heal p50 ${summarize(heal).p50.toFixed(1)} ms; pcheck ${(s.rssKb / 1024).toFixed(1)} MB, ${s.fds} fds`);
        nextReport += o.cycles / 10;
      }
    }
    r.run.wallS = (nowMs() - firstKillAt) / 1000;
    r.run.machineBusyPct = machineBusyPercent(cpu0, machineCpu());
    r.heal = heal;
    r.healMs = summarize(heal);
    r.downMs = summarize(down);
    r.upMs = summarize(up);
  }

  private async showPent(): Promise<string> {
    const child = spawn(procsafe.padmin, ['-f', this.sut.pfile, '-c', 'show pent'], { env: { ...process.env, PROCSAFE_RUN_DIR: this.ws.runDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((res) => child.once('close', (c) => res(c)));
    if (code !== 0) throw new Error(`padmin show pent exited ${code}: ${err}`);
    return out;
  }
}
