// /proc helpers for the benchmark: process lookup by command line, process trees, CPU
// ticks and RSS. Everything here reads /proc directly (no ps), so the numbers are exact.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** CLOCK_MONOTONIC in ms; the same clock in every thread of this process. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const CLK_TCK = ((): number => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

export function isPidName(name: string): boolean {
  const c = name.charCodeAt(0);
  return c >= 0x30 && c <= 0x39;
}

export function allPids(): number[] {
  return readdirSync('/proc').filter(isPidName).map(Number);
}

/** argv joined by NUL (no trailing NUL): the identity of a service. '' for zombies and kernel threads. */
export function argvKey(argv: readonly string[]): string {
  return argv.join('\0');
}

/** The command line of pid as an argvKey, or null when it is gone. */
export function cmdlineKey(pid: number | string): string | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    return raw.endsWith('\0') ? raw.slice(0, -1) : raw;
  } catch {
    return null;
  }
}

export interface Stat {
  pid: number;
  ppid: number;
  state: string;
  /** utime + stime, clock ticks (all threads, live and exited). */
  ticks: number;
  /** cutime + cstime: children that were waited for. */
  childTicks: number;
  startTime: number;
}

export function readStat(pid: number): Stat | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const close = raw.lastIndexOf(')');
  if (close < 0) return null;
  const f = raw.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const n = (field: number) => Number(f[field - 3]);
  return {
    pid,
    ppid: n(4),
    state: f[0],
    ticks: n(14) + n(15),
    childTicks: n(16) + n(17),
    startTime: n(22),
  };
}

export function statAll(): Map<number, Stat> {
  const out = new Map<number, Stat>();
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (s) out.set(pid, s);
  }
  return out;
}

/** root and all its descendants (by ppid), from one snapshot. */
export function treeOf(root: number, stats: Map<number, Stat>): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out: number[] = [];
  if (!stats.has(root)) return out;
  const todo = [root];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    out.push(p);
    for (const c of children.get(p) ?? []) todo.push(c);
  }
  return out;
}

/** VmRSS in kB (0 for a zombie or a process that is gone). */
export function vmRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Live (non-zombie) processes whose command line is one of `keys`, oldest first. */
export function findByKeys(keys: ReadonlySet<string>): Map<string, number[]> {
  const found = new Map<string, { pid: number; start: number }[]>();
  for (const pid of allPids()) {
    const k = cmdlineKey(pid);
    if (k === null || !keys.has(k)) continue;
    const st = readStat(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    const list = found.get(k) ?? [];
    list.push({ pid, start: st.startTime });
    found.set(k, list);
  }
  const out = new Map<string, number[]>();
  for (const [k, list] of found) out.set(k, list.sort((a, b) => a.start - b.start || a.pid - b.pid).map((e) => e.pid));
  return out;
}

/** Per-process CPU ticks of a tree, to diff two samples. */
export interface TreeSample {
  at: number;
  /** pid -> {startTime, ticks} */
  procs: Map<number, { start: number; ticks: number }>;
  rootChildTicks: number;
  rssKb: number;
  count: number;
}

/** Samples root's tree, leaving out the processes `exclude` says are watched services. */
export function sampleTree(root: number, exclude: (pid: number) => boolean): TreeSample {
  const stats = statAll();
  const procs = new Map<number, { start: number; ticks: number }>();
  let rss = 0;
  for (const pid of treeOf(root, stats)) {
    if (pid !== root && exclude(pid)) continue;
    const s = stats.get(pid) as Stat;
    procs.set(pid, { start: s.startTime, ticks: s.ticks });
    rss += vmRssKb(pid);
  }
  return { at: nowMs(), procs, rootChildTicks: stats.get(root)?.childTicks ?? 0, rssKb: rss, count: procs.size };
}

/** CPU used between two samples, in % of one core. */
export function cpuPercent(a: TreeSample, b: TreeSample): number {
  let ticks = b.rootChildTicks - a.rootChildTicks;
  for (const [pid, p] of b.procs) {
    const q = a.procs.get(pid);
    ticks += q && q.start === p.start ? p.ticks - q.ticks : p.ticks;
  }
  const seconds = (b.at - a.at) / 1000;
  return ((ticks / CLK_TCK) / seconds) * 100;
}

/** Whole-machine CPU counters (/proc/stat "cpu" line), to tell how busy the host was. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export function machineCpu(): CpuTimes {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3] + v[4];
  return { busy: total - idle, total };
}

/** Busy share of ALL cores between two samples, in % (100 = every core busy). */
export function machineBusyPercent(a: CpuTimes, b: CpuTimes): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * 100 : 0;
}
