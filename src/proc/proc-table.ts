// The process table, read straight from /proc.
//
// Why not `ps`: /proc gives the exact start time in clock ticks (field 22 of stat), which
// is half of a process's identity (ProcId), while `ps` prints it rounded to a clock time;
// reading /proc costs no fork/exec every MONITOR_INTERVAL and no text to re-parse; and the
// output format cannot change under us with the procps version.
//
// Cost: a scan is one readdir of /proc plus, per process, one open+read+close of `stat` and
// one stat() of its directory (uid); argv and exe are read only for processes not seen
// before or that have exec'd since (see ImmutableParts).
import * as fs from 'node:fs';
import { programPath } from './program-path';
import { PF_KTHREAD, STAT_BUFFER_SIZE, isDead, isUnreadableError, readStatWith, type ProcStat } from './proc-stat';
import type { ProcId, ProcInfo, ProcessTable, ScanOptions } from './types';

/**
 * The real path of a pent's pname, to compare with /proc/PID/exe (which the kernel gives
 * already resolved); null if it does not exist or cannot be resolved. Lives here, not in
 * match.ts, so that matching stays free of I/O. Resolve once per (re)load, not per scan.
 */
export function resolvePname(pname: string): string | null {
  try {
    return fs.realpathSync.native(pname);
  } catch {
    return null;
  }
}

/**
 * The parts of a process that the table does not re-read on every scan: argv and exe.
 * They are kept per pid, valid while start time, comm and arg_start stay the same:
 * - start time: a reused pid is another process;
 * - execve() keeps both pid and start time but replaces argv and exe. It also gives the
 *   process a new memory map, so arg_start (field 48) changes, and sets comm to the new
 *   program's basename. arg_start catches an exec of a program with the same basename (a
 *   shell forking and exec'ing another shell, a binary re-executing itself); comm is the
 *   fallback where the kernel shows arg_start as 0 (processes we may not ptrace: another
 *   user's, when pcheck does not run as root).
 * Trade-offs, accepted for a scan that reads one file per process:
 * - a process that rewrites its argv in place (setproctitle: postgres, sshd, nginx, redis)
 *   keeps the argv it had when first seen, unless it is a candidate of the scan (its argv[0]
 *   or program file is a looked-for name): a candidate's argv is always read afresh
 *   (setproctitle through prctl(PR_SET_MM), as systemd does, moves arg_start and is seen);
 * - without ptrace rights, an exec keeping the basename goes unseen until the pid or
 *   start time changes;
 * - uid (the effective uid, see readUid) is re-read on every scan, because a daemon
 *   started as root commonly drops privileges after exec without changing comm, and
 *   caching uid 0 would make a `user=` entry miss it for ever.
 * Not reading cmdline on each scan also keeps the scan from blocking on a process whose
 * memory map lock is held (reading cmdline takes it; stat does not).
 */
interface ImmutableParts {
  startTime: number;
  comm: string;
  argStart: number;
  argv: string[];
  exe: string | null;
}

/** The buffer every cmdline is read into; grown for a longer one, and given back after it
 *  (a java command line can be 100 KB; most are under 200 bytes). */
const ARGV_BUFFER_SIZE = 4096;
const ARGV_BUFFER_KEPT = 64 * 1024;
let argvBuf = Buffer.allocUnsafe(ARGV_BUFFER_SIZE);

/** Reads a whole /proc file into argvBuf; returns its length. Not fs.readFileSync: procfs
 *  files have no size, so it allocates 64 KiB per read, and a scan that reads thousands of new
 *  processes (a mass restart) left tens of MB in the allocator for good (measured: 30 MB). */
function readIntoArgvBuf(path: string): number {
  const fd = fs.openSync(path, 'r');
  try {
    let len = 0;
    for (;;) {
      if (len === argvBuf.length) {
        const bigger = Buffer.allocUnsafe(argvBuf.length * 2);
        argvBuf.copy(bigger, 0, 0, len);
        argvBuf = bigger;
      }
      const n = fs.readSync(fd, argvBuf, len, argvBuf.length - len, null);
      if (n === 0) return len;
      len += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** argv from /proc/PID/cmdline: NUL-separated, with one trailing NUL. Frozen because the
 *  array is shared between scans through the cache. Null if the process is gone. */
function readArgv(dir: string): string[] | null {
  let len: number;
  try {
    len = readIntoArgvBuf(`${dir}/cmdline`);
  } catch (err) {
    if (isUnreadableError(err)) return null;
    throw err;
  }
  const end = len > 0 && argvBuf[len - 1] === 0 ? len - 1 : len;
  const argv = Object.freeze(end === 0 ? [] : argvBuf.toString('utf8', 0, end).split('\0')) as string[];
  if (argvBuf.length > ARGV_BUFFER_KEPT) argvBuf = Buffer.allocUnsafe(ARGV_BUFFER_SIZE);
  return argv;
}

/** Target of /proc/PID/exe; null when unreadable (another user's process without root,
 *  a kernel thread, a process exiting). */
function readExe(dir: string): string | null {
  try {
    return fs.readlinkSync(`${dir}/exe`);
  } catch {
    return null;
  }
}

/** The environment of a process (its NUL-separated entries), or null when it cannot be read. */
export function readEnviron(pid: number, procRoot = '/proc'): string[] | null {
  try {
    return fs.readFileSync(`${procRoot}/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** The effective uid: the owner of the /proc/PID directory. The kernel reports the
 *  task's euid for that directory even when the process is not dumpable (files inside
 *  it are then shown as root), and a stat() is cheaper than parsing /proc/PID/status. */
function readUid(dir: string): number | null {
  try {
    return fs.statSync(dir).uid;
  } catch (err) {
    if (isUnreadableError(err)) return null;
    throw err;
  }
}

/**
 * The directory to read argv, exe and uid from. Normally the process's own; but a leader
 * that is a zombie while other threads run (see isDead) has no memory map left, so its
 * cmdline reads empty and its exe fails: read them through one of its live threads.
 */
function liveDir(dir: string, pid: number, stat: ProcStat): string {
  if (stat.state !== 'Z') return dir;
  try {
    const tid = fs.readdirSync(`${dir}/task`).find((t) => t !== String(pid));
    return tid === undefined ? dir : `${dir}/task/${tid}`;
  } catch {
    return dir; // gone meanwhile: the reads that follow will say so
  }
}

/** Beyond this many pids allocated since the last scan, a quick scan (one readdir) is cheaper. */
const MAX_NEW_PIDS = 2048;
/** Where pid allocation starts again after pid_max (RESERVED_PIDS in kernel/pid.c). */
const RESERVED_PIDS = 300;

/** The last pid allocated in this pid namespace, or null when the kernel does not say. */
function readLastPid(procRoot: string): number | null {
  try {
    const n = Number(fs.readFileSync(`${procRoot}/sys/kernel/ns_last_pid`, 'latin1'));
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function readPidMax(procRoot: string): number {
  try {
    const n = Number(fs.readFileSync(`${procRoot}/sys/kernel/pid_max`, 'latin1'));
    return Number.isSafeInteger(n) && n > RESERVED_PIDS ? n : 4194304;
  } catch {
    return 4194304;
  }
}

interface Seen {
  info: ProcInfo | null;
  since: number;
  /** the scan that last saw it (entries not seen by a scan are dropped at its end) */
  gen: number;
}

/** A process a scan looks for: its argv[0] or program file is a looked-for name. */
function isCandidate(parts: ImmutableParts, names: ReadonlySet<string>): boolean {
  return names.has(parts.argv[0]) || (parts.exe !== null && names.has(programPath(parts.exe)));
}

export function createProcTable(procRoot = '/proc'): ProcessTable {
  const buf = Buffer.allocUnsafe(STAT_BUFFER_SIZE);
  // Both maps are updated in place, not rebuilt by each scan: with thousands of processes,
  // two new maps per scan (several per restart) were promoted by V8 and piled up as old-space
  // garbage, ~0.35 MB per restart (docs/PERFORMANCE.md).
  const cache = new Map<number, ImmutableParts>();
  /** what the last scan reported of each pid (null: a kernel thread) and when it was first
   *  seen (performance.now()), for quick scans. */
  const seen = new Map<number, Seen>();
  let gen = 0;

  function readParts(dir: string, stat: ProcStat): ImmutableParts | null {
    const argv = readArgv(dir);
    if (argv === null) return null;
    const { startTime, comm, argStart } = stat;
    return { startTime, comm, argStart, argv, exe: readExe(dir) };
  }

  /** The cached parts if still valid, else freshly read ones. */
  function partsFor(pid: number, dir: string, stat: ProcStat): ImmutableParts | null {
    const known = cache.get(pid);
    if (
      known &&
      known.startTime === stat.startTime &&
      known.argStart === stat.argStart &&
      known.comm === stat.comm
    ) {
      return known;
    }
    return readParts(dir, stat);
  }

  function toInfo(pid: number, stat: ProcStat, parts: ImmutableParts, uid: number): ProcInfo {
    return { pid, startTime: stat.startTime, argv: parts.argv, exe: parts.exe, uid, state: stat.state };
  }

  /** The last scan's ProcInfo when nothing in it changed (callers never modify one), else a new one. */
  function infoFor(prev: ProcInfo | null | undefined, pid: number, stat: ProcStat, parts: ImmutableParts, uid: number): ProcInfo {
    const same = prev && prev.startTime === stat.startTime && prev.argv === parts.argv && prev.exe === parts.exe && prev.uid === uid && prev.state === stat.state;
    return same ? prev : toInfo(pid, stat, parts, uid);
  }

  function remember(pid: number, prev: Seen | undefined, info: ProcInfo | null, since: number): void {
    if (prev === undefined) {
      seen.set(pid, { info, since, gen });
      return;
    }
    prev.info = info;
    prev.since = since;
    prev.gen = gen;
  }

  /** Known to the last scan, old enough and not a name being looked for: reuse it. */
  function reusable(pid: number, opts: ScanOptions): Seen | undefined {
    const known = seen.get(pid);
    if (known === undefined) return undefined;
    if (known.info === null) return known; // a kernel thread
    if (known.since >= opts.recheckSince) return undefined;
    // by what the last scan reported (what a match would see), not by the cache, which read()
    // may have refreshed since (an exiting process reads as an empty argv)
    const { argv, exe } = known.info;
    if (opts.recheck.has(argv[0]) || (exe !== null && opts.recheck.has(programPath(exe)))) return undefined;
    return known;
  }

  function scan(opts?: ScanOptions): ProcInfo[] {
    lastPid = readLastPid(procRoot);
    const now = performance.now();
    gen++;
    const out: ProcInfo[] = [];
    for (const name of fs.readdirSync(procRoot)) {
      const c = name.charCodeAt(0);
      if (c < 0x30 || c > 0x39) continue; // not a pid directory (self, sys, meminfo, ...)
      const pid = Number(name);
      const known = opts ? reusable(pid, opts) : undefined;
      if (known !== undefined) {
        known.gen = gen;
        if (known.info) out.push(known.info);
        continue;
      }
      const prev = seen.get(pid);
      const stat = readStatWith(buf, `${procRoot}/${name}/stat`);
      // Kernel threads are recognised by their flag, so their cmdline is never read, and quick
      // scans skip them. Nothing else is remembered as "nothing": a zombie's pid or one caught
      // mid-exec may be the restarted process by the next look.
      if (stat !== null && stat.flags & PF_KTHREAD) remember(pid, prev, null, prev?.since ?? now);
      if (stat === null || isDead(stat) || stat.flags & PF_KTHREAD) continue;
      const dir = liveDir(`${procRoot}/${name}`, pid, stat);
      let parts = partsFor(pid, dir, stat);
      if (parts === null) continue; // vanished mid-scan
      if (opts && parts === cache.get(pid) && isCandidate(parts, opts.recheck)) {
        // a candidate's argv is read afresh: setproctitle (redis, nginx, postgres) rewrites it in
        // place, with no exec: the same arg_start and comm, so the cache cannot tell
        const argv = readArgv(dir);
        if (argv === null) continue;
        if (argv.length > 0 && argv.join('\0') !== parts.argv.join('\0')) parts = { ...parts, argv };
      }
      // An empty argv is never cached: during execve the kernel sets comm and arg_start before
      // the new argv is readable, so a cached empty argv would hide the process for ever.
      if (parts.argv.length === 0) continue; // exiting, mid-exec, or a kernel thread without the flag
      cache.set(pid, parts);
      const uid = readUid(dir);
      if (uid === null) continue;
      const info = infoFor(prev?.info, pid, stat, parts, uid);
      // a pid reused since (another start time) is a new process: first seen now
      remember(pid, prev, info, prev?.info?.startTime === stat.startTime ? prev.since : now);
      out.push(info);
    }
    // drop the processes that are gone (deleting while iterating a Map is safe; forEach, unlike
    // for-of, makes no [key, value] array per entry)
    seen.forEach((s, pid) => {
      if (s.gen !== gen) seen.delete(pid);
    });
    cache.forEach((_, pid) => {
      if (seen.get(pid)?.gen !== gen) cache.delete(pid);
    });
    return out;
  }

  /** Reads one process afresh (argv and exe too) and refreshes its cache entry: a single
   *  process is cheap, and callers of read() want the truth now, not the last scan's. */
  function read(id: ProcId): ProcInfo | null {
    const stat = readStatWith(buf, `${procRoot}/${id.pid}/stat`);
    if (stat === null || isDead(stat) || stat.startTime !== id.startTime) return null;
    const dir = liveDir(`${procRoot}/${id.pid}`, id.pid, stat);
    const parts = readParts(dir, stat);
    const uid = readUid(dir);
    if (parts === null || uid === null) return null;
    // an exiting process (no memory map left) or one mid-exec reads as an empty argv: not kept
    if (parts.argv.length > 0) cache.set(id.pid, parts);
    return toInfo(id.pid, stat, parts, uid);
  }

  /** The pid allocated last when the last scan began (null: unknown, e.g. no scan yet). */
  let lastPid: number | null = null;

  /**
   * The processes that may carry one of `names` (argv[0] or program file): those the last scan
   * saw with such a name, read afresh, and every pid allocated since that scan (from
   * ns_last_pid: no readdir of /proc). Null when that cannot be told or would cost more than a
   * quick scan (too many pids allocated since): the caller scans instead.
   */
  function newPids(): number | null {
    const last = lastPid;
    const nowPid = readLastPid(procRoot);
    if (last === null || nowPid === null) return null;
    return nowPid >= last ? nowPid - last : readPidMax(procRoot) - last + nowPid;
  }

  function candidates(names: ReadonlySet<string>): ProcInfo[] | null {
    const last = lastPid;
    const span = newPids();
    if (last === null || span === null || span > MAX_NEW_PIDS) return null;
    const max = readPidMax(procRoot);
    const out: ProcInfo[] = [];
    for (const [pid, s] of seen) {
      if (s.info === null || !(names.has(s.info.argv[0]) || (s.info.exe !== null && names.has(programPath(s.info.exe))))) continue;
      const p = read({ pid, startTime: s.info.startTime });
      if (p !== null) out.push(p);
    }
    for (let i = 0, pid = last; i < span; i++) {
      pid = pid + 1 >= max ? RESERVED_PIDS : pid + 1; // the kernel wraps to 300
      if (seen.has(pid)) continue;
      const stat = readStatWith(buf, `${procRoot}/${pid}/stat`);
      if (stat === null || isDead(stat) || stat.flags & PF_KTHREAD) continue;
      const p = read({ pid, startTime: stat.startTime });
      if (p !== null && p.argv.length > 0) out.push(p);
    }
    return out;
  }

  return { scan, read, candidates, newPids };
}
