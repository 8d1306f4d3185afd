// /proc/PID/stat: its fields (parsed from bytes, counted from the last `)` of comm), what
// counts as dead (SPEC §4: Z and X, but not a zombie leader whose threads run on), and the
// errors that mean "gone". Shared by the process table, the death watcher and padmin.
import * as fs from 'node:fs';

/** USER_HZ, the unit of /proc start times. It is 100 on every architecture Linux servers
 *  run on (x86, arm64, ppc64, s390x); `getconf CLK_TCK` would cost a fork to confirm it. */
export const CLK_TCK = 100;

/** PF_KTHREAD from include/linux/sched.h, in the flags field (9) of stat. */
export const PF_KTHREAD = 0x00200000;

/** The fields of /proc/PID/stat that procsafe uses. */
export interface ProcStat {
  /** field 2, without the parentheses; may contain spaces and parentheses. */
  comm: string;
  /** field 3: R, S, D, T, t, Z, X, I, ... */
  state: string;
  /** field 4. */
  ppid: number;
  /** field 5, the process group. */
  pgrp: number;
  /** field 6, the session (the pid of its leader). */
  session: number;
  /** field 9, the kernel's PF_* flags. */
  flags: number;
  /** field 20, threads in the process. */
  numThreads: number;
  /** field 22, clock ticks since boot. */
  startTime: number;
  /** field 48 (Linux 3.5+), address of argv in the process's memory: a new one after every
   *  execve. 0 when the kernel hides it (we may not ptrace the process) or is older. */
  argStart: number;
}

const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;
const ZERO = 0x30;

/** Big enough for a whole stat line: 52 numeric fields of at most 20 digits plus comm. */
export const STAT_BUFFER_SIZE = 2048;

/**
 * Parses the first `len` bytes of a /proc/PID/stat line, or returns null if they are not one.
 * comm (field 2) may contain spaces and `)`, so the fields are counted from the LAST `)`.
 * Works on the bytes so that a scan creates no string per field.
 */
export function parseStat(buf: Buffer, len: number): ProcStat | null {
  const close = len > 0 ? buf.lastIndexOf(CLOSE_PAREN, len - 1) : -1;
  const open = buf.indexOf(OPEN_PAREN);
  if (open < 0 || close < open || close + 2 >= len) return null;
  const stat: ProcStat = {
    comm: buf.toString('utf8', open + 1, close),
    state: String.fromCharCode(buf[close + 2]),
    ppid: 0,
    pgrp: 0,
    session: 0,
    flags: 0,
    numThreads: 0,
    startTime: -1,
    argStart: 0,
  };
  // Fields after the state are space-separated integers; only 4-6, 9, 20, 22 and 48 are kept.
  // Negative fields (priority, nice) produce garbage values that are never stored.
  let field = 3;
  let value = 0;
  for (let i = close + 3; i < len && field <= 48; i++) {
    const c = buf[i];
    if (c !== SPACE) {
      value = value * 10 + (c - ZERO);
      continue;
    }
    if (field === 4) stat.ppid = value;
    else if (field === 5) stat.pgrp = value;
    else if (field === 6) stat.session = value;
    else if (field === 9) stat.flags = value;
    else if (field === 20) stat.numThreads = value;
    else if (field === 22) stat.startTime = value;
    else if (field === 48) stat.argStart = value;
    field++;
    value = 0;
  }
  return stat.startTime >= 0 ? stat : null;
}

/**
 * Zombies (Z) and dead tasks (X) count as gone (SPEC §4). One exception: stat shows the
 * thread-group leader, and a main thread that called pthread_exit() leaves the leader a
 * zombie while the other threads run on; such a process has more than one thread and is
 * alive. (A really dead multi-threaded process drops to one thread, its leader, once its
 * other threads are released; a poll that catches it in between sees it dead next time.)
 */
export function isDead(stat: Pick<ProcStat, 'state' | 'numThreads'>): boolean {
  return stat.state === 'X' || (stat.state === 'Z' && stat.numThreads <= 1);
}

/** True for errors that mean "this process is no longer there": reads of an open /proc
 *  file fail with ESRCH once the task is reaped, lookups of its directory with ENOENT. */
export function isGoneError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** Gone, or hidden from us (hidepid=, another user's process under a security module):
 *  either way it is not in the table we can supervise. */
export function isUnreadableError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return isGoneError(err) || code === 'EACCES' || code === 'EPERM';
}

/** Reads a stat file into `buf` and parses it; null when the process is gone or hidden. */
export function readStatWith(buf: Buffer, path: string): ProcStat | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    if (isUnreadableError(err)) return null;
    throw err;
  }
  try {
    return parseStat(buf, fs.readSync(fd, buf, 0, buf.length, 0));
  } catch (err) {
    if (isUnreadableError(err)) return null;
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** One process's stat fields, or null if it does not exist (or is not readable).
 *  Convenience for one-off reads; the table and the death watcher reuse their buffers. */
export function readStat(pid: number, procRoot = '/proc'): ProcStat | null {
  return readStatWith(Buffer.allocUnsafe(STAT_BUFFER_SIZE), `${procRoot}/${pid}/stat`);
}

/** Seconds since the epoch at boot (`btime` in /proc/stat), to turn start times into dates. */
export function readBootTime(procRoot = '/proc'): number {
  const m = /^btime (\d+)$/m.exec(fs.readFileSync(`${procRoot}/stat`, 'latin1'));
  if (!m) throw new Error(`no btime line in ${procRoot}/stat`);
  return Number(m[1]);
}

/** Wall-clock start of a process, in ms since the epoch (precise to ~1 s: btime is whole seconds). */
export function startTimeToEpochMs(startTime: number, bootTimeSec: number): number {
  return bootTimeSec * 1000 + (startTime * 1000) / CLK_TCK;
}
