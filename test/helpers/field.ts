// The field suite's view of a server: processes read from /proc (not through procsafe's own
// reader), what serves on a loopback port, padmin's entries as JSON, and ending a daemon with
// every process it left behind, by PID. test/helpers/field-daemon.ts builds the common
// "adopt, kill twice, stop pcheck" scenario on top of it.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { PADMIN, kill, sleep, type Sandbox } from './harness';
import type { PentView } from '../../src/views/pent-view';

export interface ProcRow {
  pid: number;
  ppid: number;
  /** one letter of /proc/PID/stat: R S D T Z … */
  state: string;
  /** field 22 of /proc/PID/stat: with the pid, names one process for good */
  startTime: number;
  uid: number;
  /** /proc/PID/exe without a trailing " (deleted)"; '' for kernel threads or when unreadable */
  exe: string;
  argv: string[];
  /** argv joined by spaces (what include_strings search) */
  cmdline: string;
}

function readRow(pid: number): ProcRow | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    } catch {
      // kernel thread, or gone
    }
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? -1);
    return { pid, ppid: Number(rest[1]), state: rest[0], startTime: Number(rest[19]), uid, exe, argv, cmdline: argv.join(' ') };
  } catch {
    return null; // ended while we looked
  }
}

/** Every process on the machine that is not a zombie (a zombie is dead; its parent has not reaped it yet). */
export function liveProcs(): ProcRow[] {
  const out: ProcRow[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const r = readRow(Number(d));
    if (r && r.state !== 'Z' && r.state !== 'X') out.push(r);
  }
  return out;
}

/** True while the process `id` names (pid and start time) runs and is not a zombie. */
export function alive(id: Pick<ProcRow, 'pid' | 'startTime'>): boolean {
  const r = readRow(id.pid);
  return r !== null && r.startTime === id.startTime && r.state !== 'Z' && r.state !== 'X';
}

/**
 * The processes of one program instance: `all` that `isMine` selects, and its `mains` — those
 * whose parent is not one of them. One healthy daemon has exactly one main process; a worker
 * orphaned by the death of its master is re-parented elsewhere and counts as a second main.
 */
export function programTree(isMine: (p: ProcRow) => boolean): { all: ProcRow[]; mains: ProcRow[] } {
  const all = liveProcs().filter(isMine);
  const pids = new Set(all.map((p) => p.pid));
  return { all, mains: all.filter((p) => !pids.has(p.ppid)) };
}

/** `roots` and every live descendant of them (by ppid, read from /proc). */
export function withDescendants(roots: readonly number[]): number[] {
  const procs = liveProcs();
  const set = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (set.has(p.ppid) && !set.has(p.pid)) {
        set.add(p.pid);
        grew = true;
      }
    }
  }
  return [...set];
}

/**
 * Ends every process `isMine` selects, with its descendants, by PID (SIGKILL), until none is
 * left (a master may fork a new worker between two reads). Never pkill/killall.
 */
export async function endProgram(isMine: (p: ProcRow) => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = withDescendants(programTree(isMine).all.map((p) => p.pid));
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`could not end pids ${pids.join(' ')}`);
    for (const pid of pids) kill(pid, 'SIGKILL');
    await sleep(50);
  }
}

/** Pids of the processes that hold a listening TCP socket on 127.0.0.1:port (/proc/net/tcp and fds). */
export function listeners(port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, state 0A is LISTEN, inode is the tenth field
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  const out: number[] = [];
  if (inodes.size === 0) return out;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      for (const fd of readdirSync(`/proc/${d}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1])) {
          out.push(Number(d));
          break;
        }
      }
    } catch {
      // gone, or no access
    }
  }
  return out;
}

/** The HTTP status of GET http://127.0.0.1:port/path, or null when nothing answers in time. */
export function httpGet(port: number, path = '/', timeoutMs = 1000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** A GET answered 200, after which the server's access log `file` grew (within 1 s). */
export async function getIsLogged(port: number, path: string, file: string): Promise<boolean> {
  const size = () => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  const before = size();
  if ((await httpGet(port, path)) !== 200) return false;
  for (let i = 0; i < 20 && size() <= before; i++) await sleep(50);
  return size() > before;
}

/**
 * The first port from `base` (within 50) that nothing listens on. Each field file has its own
 * base, below Linux's ephemeral range (32768+), so files running in parallel never collide.
 */
export async function freePort(base: number): Promise<number> {
  for (let port = base; port < base + 50; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${base}..${base + 49}`);
}

export type { PentView };

/** `padmin -f PFILE -c 'show pent' --json`, parsed. */
export function showPentJson(sb: Sandbox, pfile: string): PentView[] {
  const r = spawnSync(process.execPath, [PADMIN, '-f', pfile, '-c', 'show pent', '--json'], { env: sb.env(), encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`padmin show pent --json exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as PentView[];
}

/** One line for a failure message: the pids, parents and command lines of a set of processes. */
export function describeProcs(procs: readonly ProcRow[]): string {
  return procs.map((p) => `${p.pid}(ppid ${p.ppid}, ${p.state}) ${p.cmdline}`).join('; ') || 'none';
}

/**
 * Whether what a process writes to descriptor `fd` can land somewhere: a file or a character
 * device (/dev/null counts: the daemon chose it), a socket, or a pipe that some process still
 * holds open for reading. A pipe whose reader has gone (pcheck stopped) answers a write with
 * SIGPIPE or EPIPE: the line is lost.
 */
export function fdHasReader(pid: number, fd: number): { ok: boolean; target: string } {
  let target: string;
  try {
    target = readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return { ok: false, target: 'closed' };
  }
  if (!target.startsWith('pipe:')) return { ok: true, target };
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      for (const other of readdirSync(`/proc/${d}/fd`)) {
        if (readlinkSync(`/proc/${d}/fd/${other}`) !== target) continue;
        const flags = parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/fdinfo/${other}`, 'latin1'))?.[1] ?? '1', 8);
        if ((flags & 3) === 0) return { ok: true, target: `${target} read by pid ${d}` };
      }
    } catch {
      // gone, or no access
    }
  }
  return { ok: false, target: `${target} with no reader left` };
}

/** Sources of the field fixtures (tests run from dist/, the C sources stay in test/). */
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'field');

/**
 * Compiles test/fixtures/field/NAME.c (a tiny program that misbehaves on purpose) with the
 * system's cc into DIR/OUT and returns its path; throws with the compiler's message.
 */
export function buildFieldFixture(name: string, dir: string, out: string = name): string {
  const bin = join(dir, out);
  const r = spawnSync('cc', ['-O', '-o', bin, join(FIXTURES, `${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${name}.c failed: ${r.error?.message ?? r.stderr}`);
  return bin;
}

/** How many non-empty lines a file has (0 when it does not exist): a script that appends a line
 *  per run is counted this way. */
export function countLines(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Sends `text` to 127.0.0.1:port and resolves with what came back once it contains `until`
 *  (null on error, close or a 1 s timeout): a line protocol's request and answer. */
export function tcpAsk(port: number, text: string, until: string): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string | null) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(null));
    s.on('error', () => done(null));
    s.on('close', () => done(null));
    s.on('connect', () => s.write(text));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes(until)) done(buf);
    });
  });
}
