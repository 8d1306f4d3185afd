// The supervisors under test: procsafe's pcheck (pidfd or poll death watch), monit 5.33 and
// supervisord 4.2.5, each started in the foreground with a private configuration in the
// bench's work directory, and the services they watch.
//
// procsafe and monit watch "adopted" services: `sleep infinity` run as argv[0] = <work>/svc/svcK
// by a detached (setsid) bash, started by the bench or by a restart/start script, so that
// nobody but the bench's subreaper is their parent. supervisord can only watch its own
// children: its programs are `sleep infinity`, which it forks itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { argvKey, cmdlineKey, findByKeys, nowMs, readStat, statAll } from './proc';

export const ROOT = join(__dirname, '..', '..');

/** The procsafe under test: bin/pcheck and bin/padmin of a snapshot (see snapshotProcsafe). */
export const procsafe = { pcheck: join(ROOT, 'bin', 'pcheck'), padmin: join(ROOT, 'bin', 'padmin') };

/**
 * Copies the built procsafe (bin/, dist/src/, the native addon, package.json; node_modules is
 * linked) into `dest` and
 * runs it from there: others may rebuild dist/ while the bench runs (npm test builds), and every
 * pcheck of one run must be the same code.
 */
export function snapshotProcsafe(dest: string): void {
  cpSync(join(ROOT, 'bin'), join(dest, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist', 'src'), join(dest, 'dist', 'src'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(dest, 'package.json'));
  const addon = join('native', 'build', 'Release', 'procsafe_native.node');
  if (existsSync(join(ROOT, addon))) {
    mkdirSync(join(dest, 'native', 'build', 'Release'), { recursive: true });
    copyFileSync(join(ROOT, addon), join(dest, addon));
  }
  // runtime dependencies (e.g. ini) resolve through the repository's node_modules
  symlinkSync(join(ROOT, 'node_modules'), join(dest, 'node_modules'));
  procsafe.pcheck = join(dest, 'bin', 'pcheck');
  procsafe.padmin = join(dest, 'bin', 'padmin');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil<T>(probe: () => T | null | undefined | false, timeoutMs: number, what: string, everyMs = 20): Promise<T> {
  const end = nowMs() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (nowMs() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- the work directory and its scripts -------------------------------------------------

export class Workspace {
  readonly restartScript: string;
  readonly monitStartScript: string;
  readonly startServicesScript: string;
  readonly startBackgroundScript: string;
  readonly runDir: string;

  constructor(readonly dir: string) {
    this.runDir = join(dir, 'run');
    mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    // The restart script of every procsafe entry: PS_PNAME names the entry's program.
    this.restartScript = this.script(
      'restart.sh',
      `setsid bash -c 'exec -a "$0" sleep infinity' "$PS_PNAME" </dev/null >/dev/null 2>&1 &\n`,
    );
    // monit sets no PS_PNAME: the program is the first argument.
    this.monitStartScript = this.script('monit-start.sh', `setsid bash -c 'exec -a "$0" sleep infinity' "$1" </dev/null >/dev/null 2>&1 &\n`);
    this.startServicesScript = this.script(
      'start-services.sh',
      `for p in "$@"; do setsid bash -c 'exec -a "$0" sleep infinity' "$p" </dev/null >/dev/null 2>&1 & done\n`,
    );
    // Unrelated background processes: argv[0] "psbench-bg", printed pid by pid.
    this.startBackgroundScript = this.script(
      'start-background.sh',
      `for ((i = 0; i < $1; i++)); do (exec -a psbench-bg sleep infinity) </dev/null >/dev/null 2>&1 & echo $!; done\n`,
    );
  }

  script(name: string, body: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, `#!/bin/bash\n${body}`);
    chmodSync(p, 0o755);
    return p;
  }
}

/** Unrelated processes, to see what a larger process table costs an idle supervisor. */
export class Background {
  pids: number[] = [];
  constructor(private readonly ws: Workspace) {}

  async start(count: number): Promise<number> {
    const t = nowMs();
    const r = spawnSync(this.ws.startBackgroundScript, [String(count)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    this.pids = r.stdout.split('\n').filter(Boolean).map(Number);
    const key = argvKey(['psbench-bg', 'infinity']);
    await waitUntil(() => (findByKeys(new Set([key])).get(key)?.length ?? 0) >= count, 30000, `${count} background processes`, 100);
    return nowMs() - t;
  }

  stop(): void {
    for (const pid of this.pids) killPid(pid);
    this.pids = [];
  }

  /** Kills them and waits until the kernel has torn them all down (and they are reaped). */
  async stopAndSettle(): Promise<void> {
    const pids = this.pids;
    this.stop();
    await waitUntil(() => pids.every((p) => !existsSync(`/proc/${p}`)), 30000, 'background processes to be reaped', 50).catch(() => undefined);
  }
}

export function killPid(pid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already */
  }
}

// ---- adopted services -------------------------------------------------------------------

export class AdoptedServices {
  readonly dir: string;
  private pids: (number | null)[] = [];

  constructor(ws: Workspace, sub: string) {
    this.dir = join(ws.dir, sub);
    mkdirSync(this.dir, { recursive: true });
  }

  pname(i: number): string {
    return join(this.dir, `svc${i + 1}`);
  }

  key(i: number): string {
    return argvKey([this.pname(i), 'infinity']);
  }

  /** Exactly one live process for each of services 0..n-1 (missing ones are started, extra copies killed). */
  async ensure(n: number, script: string): Promise<void> {
    const keys = Array.from({ length: n }, (_, i) => this.key(i));
    const scan = () => findByKeys(new Set(keys));
    let found = scan();
    const missing: string[] = [];
    for (let i = 0; i < n; i++) {
      const pids = found.get(keys[i]) ?? [];
      for (const extra of pids.slice(1)) killPid(extra);
      if (pids.length === 0) missing.push(this.pname(i));
    }
    for (let at = 0; at < missing.length; at += 200) {
      spawnSync(script, missing.slice(at, at + 200), { stdio: 'ignore' });
    }
    found = await waitUntil(
      () => {
        const f = scan();
        return keys.every((k) => (f.get(k)?.length ?? 0) >= 1) ? f : null;
      },
      60000,
      `${n} services to run`,
      50,
    );
    this.pids = keys.map((k) => (found.get(k) as number[])[0]);
  }

  pid(i: number): number {
    const p = this.pids[i];
    if (p === null || p === undefined) throw new Error(`service ${i + 1} has no known pid`);
    return p;
  }

  setPid(i: number, pid: number): void {
    this.pids[i] = pid;
  }

  /** Re-reads the pids of services 0..n-1 from /proc (after a heal that was not observed). */
  refresh(n: number): void {
    const keys = Array.from({ length: n }, (_, i) => this.key(i));
    const found = findByKeys(new Set(keys));
    this.pids = keys.map((k) => found.get(k)?.[0] ?? null);
  }

  /** Kills every process of these services (any number of them), by pid. */
  killAll(): number {
    const prefix = `${this.dir}/svc`;
    let n = 0;
    for (const [pid] of statAll()) {
      const k = cmdlineKey(pid);
      if (k !== null && k.startsWith(prefix)) {
        killPid(pid);
        n++;
      }
    }
    this.pids = [];
    return n;
  }

  isService(pid: number): boolean {
    return cmdlineKey(pid)?.startsWith(`${this.dir}/svc`) ?? false;
  }
}

// ---- pcheck's log lines, timestamped on arrival ------------------------------------------

export interface Line {
  at: number;
  text: string;
}

const DOWN_RE = /Process \[(.*) , pid=(\d+)\] Down$/;
const UP_RE = /\((.*) ,pid=(\d+)\) Up$/;

/** wall clock minus monotonic clock, ms (sampled once: the run is short). */
const WALL_MINUS_MONO = Date.now() - nowMs();
const STAMP_RE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) /;

/** The `YYYY-MM-DD HH:MM:SS.mmm` (local time) at the start of a pcheck line, on our monotonic clock. */
function stampToMono(line: string): number | null {
  const m = STAMP_RE.exec(line);
  if (!m) return null;
  const wall = new Date(`${m[1]}T${m[2]}`).getTime();
  return Number.isNaN(wall) ? null : wall - WALL_MINUS_MONO;
}

export class LineLog {
  readonly lines: Line[] = [];
  /** pid -> arrival of its Down line */
  readonly downByPid = new Map<number, number>();
  /** pid -> arrival of its Up line */
  readonly upByPid = new Map<number, number>();
  /** pid -> the time pcheck wrote on its Down line (wall clock, ms resolution) mapped to
   *  this process's monotonic clock: tells pcheck's own delay from the pipe's and ours. */
  readonly downStampByPid = new Map<number, number>();
  private partial = '';
  private waiters: (() => void)[] = [];

  constructor(stream: Readable, keep = 20000) {
    stream.on('data', (chunk: Buffer) => {
      const at = nowMs();
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) {
        if (this.lines.length < keep) this.lines.push({ at, text: line });
        let m = DOWN_RE.exec(line);
        if (m) {
          this.downByPid.set(Number(m[2]), at);
          const stamp = stampToMono(line);
          if (stamp !== null) this.downStampByPid.set(Number(m[2]), stamp);
        }
        else if ((m = UP_RE.exec(line))) this.upByPid.set(Number(m[2]), at);
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  /** Resolves when probe() is truthy (checked on each arrival), or null after timeoutMs. */
  async waitFor<T>(probe: () => T | null | undefined, timeoutMs: number): Promise<T | null> {
    const first = probe();
    if (first !== null && first !== undefined) return first;
    return new Promise<T | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(null);
      }, timeoutMs);
      const check = () => {
        const v = probe();
        if (v !== null && v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  grep(s: string): Line[] {
    return this.lines.filter((l) => l.text.includes(s));
  }
}

// ---- the supervisors ---------------------------------------------------------------------

export interface Victim {
  pid: number;
  key: string;
  /** procsafe's pname (for its log lines), or a name. */
  pname: string;
}

export interface Sut {
  readonly name: string;
  readonly label: string;
  /** the supervisor's own pid while it runs. */
  pid: number | null;
  /** pcheck's stdout (procsafe only). */
  log: LineLog | null;
  /** check period (monit), 0 for event-driven supervisors. */
  readonly cycleMs: number;
  readonly healTimeoutMs: number;
  readonly pfile?: string;
  start(n: number): Promise<void>;
  stop(): Promise<void>;
  victim(i: number): Victim;
  replaced(i: number, pid: number): void;
  /** re-reads the pids of its services (after a heal that was not observed). */
  refresh(): void;
  /** a watched service (left out of the supervisor's process tree for CPU and RSS). */
  isService(pid: number): boolean;
  /** SIGKILL at once, for an interrupted bench. */
  abort(): void;
  /** ms from spawning the supervisor until it had seen every service (set by start()). */
  startedIn: number;
}

async function stopChild(child: ChildProcess | null, graceMs: number): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (child.pid) killPid(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.pid && killPid(child.pid, 'SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(t);
  return code;
}

let ipcSeq = 0;

export class ProcsafeSut implements Sut {
  startedIn = NaN;
  readonly name: string;
  readonly label: string;
  readonly cycleMs = 0;
  readonly healTimeoutMs = 10000;
  pid: number | null = null;
  log: LineLog | null = null;
  pfile: string;
  private child: ChildProcess | null = null;
  private n = 0;
  readonly stderr: string[] = [];

  constructor(
    private readonly ws: Workspace,
    readonly mode: 'pidfd' | 'poll',
    private readonly services: AdoptedServices,
    private readonly opts: { stateFile: boolean; suffix?: string; logFile?: string } = { stateFile: true },
  ) {
    this.name = `procsafe-${mode}${opts.suffix ?? ''}`;
    this.label = `procsafe (${mode})`;
    this.pfile = join(ws.dir, `${this.name}.pfile`);
  }

  async start(n: number): Promise<void> {
    this.n = n;
    await this.services.ensure(n, this.ws.startServicesScript);
    const ipckey = 0x5b000000 + ((process.pid & 0xffff) << 8) + (ipcSeq++ & 0xff);
    const param = [
      '##### PARAM #####',
      `IPCKEY 0x${ipckey.toString(16)}`,
      'MONITOR_INTERVAL 10',
      'SYSLOG off',
      'RESTART_WAIT 30',
      'SCRIPT_TIMEOUT 60',
      ...(this.opts.stateFile ? [`SHM_DUMP_FILE ${join(this.ws.dir, `${this.name}.state`)}`] : []),
      ...(this.opts.logFile ? [`LOG_FILE ${this.opts.logFile}`] : []),
      '##### PENT #####',
    ];
    const pents = Array.from({ length: n }, (_, i) => `${this.services.pname(i)}:${this.ws.restartScript}:1:1000000:none`);
    writeFileSync(this.pfile, [...param, ...pents, ''].join('\n'));
    const env = { ...process.env, PROCSAFE_RUN_DIR: this.ws.runDir, PROCSAFE_DEATH_WATCH: this.mode === 'poll' ? 'poll' : 'auto' };
    const t0 = nowMs();
    const child = spawn(process.execPath, [procsafe.pcheck, '-f', this.pfile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.pid = child.pid ?? null;
    this.log = new LineLog(child.stdout);
    // a copy of pcheck's log in the work directory, for a post-mortem with --keep
    const copy = createWriteStream(join(this.ws.dir, `${this.name}-n${n}.log`));
    child.stdout.pipe(copy);
    child.stderr.setEncoding('utf8').on('data', (d: string) => this.stderr.push(d));
    const log = this.log;
    const up = await log.waitFor(() => (log.upByPid.size >= n ? true : null), 120000);
    if (!up) throw new Error(`${this.name}: only ${log.upByPid.size}/${n} Up lines after 120 s; stderr: ${this.stderr.join('')}`);
    const started = log.grep('Start pcheck')[0]?.text ?? '';
    if (!started.includes(`death watch: ${this.mode}`)) throw new Error(`${this.name}: expected death watch ${this.mode}: ${started}`);
    this.startedIn = nowMs() - t0;
  }

  victim(i: number): Victim {
    return { pid: this.services.pid(i), key: this.services.key(i), pname: this.services.pname(i) };
  }

  replaced(i: number, pid: number): void {
    this.services.setPid(i, pid);
  }

  refresh(): void {
    this.services.refresh(this.n);
  }

  isService(pid: number): boolean {
    return this.services.isService(pid);
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 10000);
    this.child = null;
    this.pid = null;
  }

  abort(): void {
    if (this.child?.pid && this.child.exitCode === null) killPid(this.child.pid);
  }
}

/** monit's first cycle over 1,000 `matching` checks is slow (it finds each process anew). */
export const MONIT_FIRST_CYCLE_TIMEOUT_MS = 900000;

export class MonitSut implements Sut {
  startedIn = NaN;
  readonly name: string;
  readonly label: string;
  readonly healTimeoutMs: number;
  pid: number | null = null;
  log: LineLog | null = null;
  private child: ChildProcess | null = null;
  private n = 0;
  private readonly dir: string;

  constructor(
    private readonly ws: Workspace,
    readonly cycleMs: number,
    private readonly services: AdoptedServices,
  ) {
    this.name = `monit-${cycleMs / 1000}s`;
    this.label = `monit 5.33, set daemon ${cycleMs / 1000}`;
    this.healTimeoutMs = cycleMs * 2 + 10000;
    this.dir = join(ws.dir, this.name);
    mkdirSync(this.dir, { recursive: true });
  }

  async start(n: number): Promise<void> {
    this.n = n;
    await this.services.ensure(n, this.ws.startServicesScript);
    const rc = join(this.dir, 'monitrc');
    const logfile = join(this.dir, 'monit.log');
    rmSync(logfile, { force: true });
    const lines = [
      `set daemon ${this.cycleMs / 1000}`,
      `set logfile ${logfile}`,
      `set pidfile ${join(this.dir, 'monit.pid')}`,
      `set idfile ${join(this.dir, 'monit.id')}`,
      `set statefile ${join(this.dir, 'monit.state')}`,
    ];
    for (let i = 0; i < n; i++) {
      const pname = this.services.pname(i);
      lines.push(`check process svc${i + 1} matching "^${pname}( |$)"`, `  start program = "${this.ws.monitStartScript} ${pname}"`);
    }
    // Checked last in each cycle (monit goes down the list in order): its one log line marks
    // the end of the first cycle, i.e. monit has seen every service. Costs one stat() a cycle.
    lines.push(`check file psbench-ready with path ${join(this.dir, 'no-such-file')}`, '  if does not exist then alert');
    writeFileSync(rc, lines.join('\n') + '\n', { mode: 0o600 });
    chmodSync(rc, 0o600);
    const t0 = nowMs();
    const child = spawn('monit', ['-I', '-c', rc], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.pid = child.pid ?? null;
    const err: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (d: string) => err.push(d));
    await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`monit exited ${child.exitCode}: ${err.join('')}`);
        return existsSync(logfile) && readFileSync(logfile, 'utf8').includes("'psbench-ready'");
      },
      MONIT_FIRST_CYCLE_TIMEOUT_MS,
      `monit's first cycle over ${n} services`,
      50,
    );
    this.startedIn = nowMs() - t0;
    const log = readFileSync(logfile, 'utf8');
    if (/'svc\d+' (process is not running|trying to restart)/.test(log)) throw new Error(`monit found a service not running at start: ${log.slice(0, 2000)}`);
  }

  victim(i: number): Victim {
    return { pid: this.services.pid(i), key: this.services.key(i), pname: this.services.pname(i) };
  }

  replaced(i: number, pid: number): void {
    this.services.setPid(i, pid);
  }

  refresh(): void {
    this.services.refresh(this.n);
  }

  isService(pid: number): boolean {
    return this.services.isService(pid);
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 10000);
    this.child = null;
    this.pid = null;
  }

  abort(): void {
    if (this.child?.pid && this.child.exitCode === null) killPid(this.child.pid);
  }
}

export const SLEEP_KEY = argvKey(['sleep', 'infinity']);

export class SupervisordSut implements Sut {
  startedIn = NaN;
  readonly name = 'supervisord';
  readonly label = 'supervisord 4.2.5';
  readonly cycleMs = 0;
  readonly healTimeoutMs = 10000;
  pid: number | null = null;
  log: LineLog | null = null;
  private child: ChildProcess | null = null;
  private slots: number[] = [];
  private readonly dir: string;

  constructor(ws: Workspace) {
    this.dir = join(ws.dir, 'supervisord');
    mkdirSync(this.dir, { recursive: true });
  }

  /** supervisord's live `sleep infinity` children. */
  private children(): number[] {
    const out: number[] = [];
    for (const s of statAll().values()) {
      if (s.ppid === this.pid && s.state !== 'Z' && cmdlineKey(s.pid) === SLEEP_KEY) out.push(s.pid);
    }
    return out;
  }

  async start(n: number): Promise<void> {
    const conf = join(this.dir, 'supervisord.conf');
    const lines = [
      '[supervisord]',
      'nodaemon=true',
      'user=root',
      `logfile=${join(this.dir, 'supervisord.log')}`,
      `pidfile=${join(this.dir, 'supervisord.pid')}`,
      `childlogdir=${this.dir}`,
      'minfds=16384',
      'minprocs=16384',
      '',
    ];
    for (let i = 0; i < n; i++) {
      lines.push(
        `[program:svc${i + 1}]`,
        'command=sleep infinity',
        'autorestart=true',
        'startsecs=0',
        'startretries=1000000',
        'stdout_logfile=NONE',
        'stderr_logfile=NONE',
        '',
      );
    }
    writeFileSync(conf, lines.join('\n'));
    const t0 = nowMs();
    const child = spawn('supervisord', ['-n', '-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
    this.child = child;
    this.pid = child.pid ?? null;
    this.slots = await waitUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`supervisord exited ${child.exitCode}`);
        const c = this.children();
        return c.length >= n ? c.slice(0, n) : null;
      },
      180000,
      `supervisord to start ${n} programs`,
      100,
    );
    this.startedIn = nowMs() - t0;
  }

  victim(i: number): Victim {
    return { pid: this.slots[i], key: SLEEP_KEY, pname: `svc-slot${i + 1}` };
  }

  replaced(i: number, pid: number): void {
    this.slots[i] = pid;
  }

  refresh(): void {
    const c = this.children();
    this.slots = this.slots.map((p, i) => (readStat(p)?.state === 'S' ? p : (c.find((q) => !this.slots.includes(q)) ?? c[i])));
  }

  isService(pid: number): boolean {
    return cmdlineKey(pid) === SLEEP_KEY;
  }

  /** SIGKILL, then its children by pid: a SIGTERM would stop 1,000 programs one by one. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const kids = this.children();
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      killPid(child.pid as number);
      await exited;
      for (const k of kids) killPid(k);
    }
    this.child = null;
    this.pid = null;
  }

  abort(): void {
    if (this.pid === null) return;
    const kids = this.children();
    killPid(this.pid);
    for (const k of kids) killPid(k);
  }
}
