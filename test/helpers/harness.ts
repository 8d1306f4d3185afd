// Runs the real pcheck and padmin against real processes in a private temp dir.
// Every process started here is ended by PID in cleanup(); never pkill/killall.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
export const PCHECK = join(ROOT, 'bin', 'pcheck');
export const PADMIN = join(ROOT, 'bin', 'padmin');

let keySeq = 0;

export interface Service {
  /** the pname: argv[0] of the service's processes (a unique path that needs no file). */
  pname: string;
  /** the restart script that starts one detached copy. */
  script: string;
}

/** Sandboxes made on demand by the tests of one describe(); `cleanup` (for after()) ends them all. */
export function sandboxes(): { box: () => Sandbox; cleanup: () => void } {
  const all: Sandbox[] = [];
  return {
    box: () => {
      const sb = new Sandbox();
      all.push(sb);
      return sb;
    },
    cleanup: () => all.forEach((b) => b.cleanup()),
  };
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'procsafe-test-'));
  readonly runDir = join(this.dir, 'run');
  /** a distinct IPCKEY per sandbox, so parallel test files never share a socket. */
  readonly ipckey = 0x70000000 + ((process.pid * 64 + keySeq++) % 0x0fffffff);
  /** pid → its start time when first tracked: a pid reused since (by another test's process) is never killed */
  private readonly pids = new Map<number, number | null>();
  private readonly children: ChildProcess[] = [];

  /** A restart script that starts `sleep infinity` under the argv[0] `pname`, detached (setsid), and exits. */
  service(name = 'svc', opts: { scriptBody?: string } = {}): Service {
    const pname = join(this.dir, name);
    const script = join(this.dir, `start-${name}.sh`);
    const body =
      opts.scriptBody ??
      `echo "starting ${name} retry=$PS_RETRY_COUNT restart=$PS_RESTART_COUNT old=$PS_OLD_PID"\n` +
        `setsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &\n`;
    writeFileSync(script, `#!/bin/bash\n${body}`);
    chmodSync(script, 0o755);
    return { pname, script };
  }

  /** Starts the service by running its restart script once; returns the new pid. */
  async startService(s: Service): Promise<number> {
    spawnSync(s.script, { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const pid = await waitFor(() => this.pidsOf(s)[0], 3000, `${s.pname} to start`);
    return pid;
  }

  /** Pids whose argv[0] is the service's pname (read from /proc, oldest first by pid order). */
  pidsOf(s: Service): number[] {
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const argv0 = readFileSync(`/proc/${d}/cmdline`, 'latin1').split('\0')[0];
        const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${d}/status`, 'latin1'))?.[1];
        if (argv0 === s.pname && state !== 'Z') out.push(Number(d));
      } catch {
        /* gone */
      }
    }
    out.forEach((p) => this.track(p));
    return out;
  }

  private pidsUnder(): number[] {
    return pidsWhere((cmdline) => cmdline.startsWith(this.dir + '/'));
  }

  pfile(body: { param?: Record<string, string | number>; pents: string[] }): string {
    const param: Record<string, string | number> = {
      IPCKEY: `0x${this.ipckey.toString(16)}`,
      MONITOR_INTERVAL: 10,
      SHM_DUMP_FILE: join(this.dir, 'state.dmp'),
      LOG_FILE: join(this.dir, 'pcheck.log'),
      SYSLOG: 'off',
      RESTART_WAIT: 5,
      ...body.param,
    };
    const text =
      '##### PARAM #####\n' +
      Object.entries(param)
        .map(([k, v]) => `${k} ${v}`)
        .join('\n') +
      '\n##### PENT #####\n' +
      body.pents.join('\n') +
      '\n';
    const path = join(this.dir, 'test.pfile');
    writeFileSync(path, text);
    return path;
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, PROCSAFE_RUN_DIR: this.runDir, PROCSAFE_STATE_DIR: join(this.dir, 'state'), ...extra };
  }

  /** Starts pcheck -f PFILE in the foreground as a child; its stdout lines are collected. */
  pcheck(pfile: string, args: string[] = [], env: Record<string, string> = {}): Pcheck {
    return this.spawnPcheck(['-f', pfile, ...args], env);
  }

  spawnPcheck(args: string[], env: Record<string, string> = {}): Pcheck {
    const child = spawn(process.execPath, [PCHECK, ...args], { env: this.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return new Pcheck(child);
  }

  /** An executable bash script in the sandbox. */
  script(name: string, body: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, `#!/bin/bash\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  padmin(pfile: string | null, command: string, extra: string[] = []): { code: number; stdout: string; stderr: string } {
    const args = [PADMIN, ...(pfile ? ['-f', pfile] : []), '-c', command, ...extra];
    const r = spawnSync(process.execPath, args, { env: this.env(), encoding: 'utf8', timeout: 10_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** `show pent` parsed into key → value maps, one per entry. */
  showPent(pfile: string): Record<string, string>[] {
    const r = this.padmin(pfile, 'show pent');
    if (r.code !== 0) throw new Error(`padmin show pent exited ${r.code}: ${r.stderr}`);
    return parseBlocks(r.stdout);
  }

  track(pid: number): void {
    if (!this.pids.has(pid)) this.pids.set(pid, startTimeOf(pid));
  }

  cleanup(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null && c.pid) kill(c.pid, 'SIGKILL');
    for (const [p, start] of this.pids) if (start !== null && startTimeOf(p) === start) kill(p, 'SIGKILL');
    // services restarted by pcheck: every process whose argv[0] lies in this sandbox, by PID
    for (const p of this.pidsUnder()) kill(p, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class Pcheck {
  readonly lines: { at: number; text: string }[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push({ at: performance.now(), text: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
      this.waiters.forEach((w) => w());
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for a stdout line that contains `text` (after `from` lines); returns it with its arrival time. */
  async waitLine(text: string | RegExp, timeoutMs = 10_000, from = 0): Promise<{ at: number; text: string; index: number }> {
    const find = () => {
      for (let i = from; i < this.lines.length; i++) {
        const l = this.lines[i];
        if (typeof text === 'string' ? l.text.includes(text) : text.test(l.text)) return { ...l, index: i };
      }
      return undefined;
    };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = find();
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no line matching ${String(text)} within ${timeoutMs} ms; output:\n${this.lines.map((l) => l.text).join('\n')}\nstderr: ${this.stderr}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
      this.waiters = [];
    }
  }

  count(text: string): number {
    return this.lines.filter((l) => l.text.includes(text)).length;
  }
}

export function parseBlocks(text: string): Record<string, string>[] {
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((b) =>
      Object.fromEntries(
        b
          .split('\n')
          .filter((l) => l.includes(' = '))
          .map((l) => {
            const i = l.indexOf(' = ');
            return [l.slice(0, i).trim(), l.slice(i + 3)];
          }),
      ),
    );
}

/** Field 22 of /proc/PID/stat (clock ticks since boot), or null when the process is gone. */
export function startTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

export function kill(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs: number, what: string, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function fileHas(path: string, text: string): boolean {
  return existsSync(path) && readFileSync(path, 'utf8').includes(text);
}

/** A loopback TCP port nobody listens on right now (for a test's own service). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Pids whose /proc/PID/cmdline (NUL-separated) satisfies `test`. */
export function pidsWhere(test: (cmdline: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (test(readFileSync(`/proc/${d}/cmdline`, 'latin1'))) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}
