// Sinks that write text lines: stdout (for humans, or for journald under systemd) and LOG_FILE.
import { closeSync, constants, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { NativeBinding } from '../native';
import type { LogSink, Severity } from './types';
import { WriteQueue, type Report, type WriteResult } from './write-queue';
import { startWriterThread, type WriterThread } from './writer-thread';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `2026-11-23 17:32:01.123`, local time. */
export function timestamp(d = new Date()): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** Under systemd, stdout goes to the journal (JOURNAL_STREAM is set), which adds its own time and tag. */
export function underSystemd(env = process.env): boolean {
  return typeof env.JOURNAL_STREAM === 'string' && env.JOURNAL_STREAM !== '';
}

/**
 * stdout. A regular file (or /dev/null) is written synchronously, as LOG_FILE is. A pipe, a
 * terminal or a socket is a reader that may stop reading (`pcheck | less`, a hung journald):
 * written without ever blocking — a pipe or terminal reopened non-blocking through
 * /proc/self/fd (a new open file description: the flags the parent shares are untouched), a
 * socket with the addon's send(MSG_DONTWAIT), else by a writer thread — and what it does not
 * take now waits in memory, bounded (write-queue.ts).
 */
export function createFdSink(fd: number, opts: { tag: string; pid: number; systemd: boolean; native?: NativeBinding | null }): LogSink {
  const format = (severity: Severity, message: string): string =>
    opts.systemd ? `<${severity}>${message}\n` : `${timestamp()} ${opts.tag}[${opts.pid}]: ${message}\n`;
  const how = nonBlockingWriter(fd, opts.native ?? null);
  if (how === null) return { write: (severity, message) => writeAll(fd, format(severity, message)) };
  const thread = typeof how === 'function' ? null : how;
  let report: Report = () => undefined;
  const queue = new WriteQueue({
    name: 'stdout',
    tryWrite: thread ? (b) => thread.tryWrite(b) : (how as (b: Buffer) => WriteResult),
    marker: (n) => Buffer.from(format(4, `... ${n} line(s) dropped here: stdout was not read (pcheck's other logs have them)`)),
    report: (severity, message, alsoHere) => report(severity, message, alsoHere),
  });
  if (thread) thread.onProgress = () => void queue.pump();
  return {
    write: (severity, message) => queue.write(Buffer.from(format(severity, message))),
    attach(r: Report) {
      report = r;
    },
    async close() {
      // the last lines (FATAL, Stop pcheck!!) still reach a reader that reads, a little late
      await queue.flush();
      await thread?.drained(2000);
      queue.close();
    },
  };
}

/** How to write to `fd` without blocking: a function that never blocks, a writer thread, or
 *  null for synchronous writes (a regular file, which does not block on a stopped reader). */
function nonBlockingWriter(fd: number, native: NativeBinding | null): ((b: Buffer) => WriteResult) | WriterThread | null {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return null;
  }
  if (st.isFile()) return null;
  if (st.isFIFO() || st.isCharacterDevice()) {
    let own: number | null = null;
    try {
      own = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch {
      // e.g. no /proc, or a pipe whose reader is gone (ENXIO): the thread finds out
    }
    if (own !== null) {
      const w = own;
      return (b) => {
        try {
          return writeSync(w, b);
        } catch (e) {
          return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? 'full' : 'gone';
        }
      };
    }
  } else if (st.isSocket() && native) {
    return (b) => {
      const n = native.sendDontWait(fd, b);
      return n >= 0 ? n : n === -EAGAIN ? 'full' : 'gone';
    };
  }
  try {
    return startWriterThread(fd);
  } catch {
    return null;
  }
}

const EAGAIN = 11;

/** How often, at most, the file sink looks whether its path still names its file. */
const ROTATION_CHECK_MS = 1000;

/**
 * LOG_FILE: appended synchronously. When logrotate (or an operator) has moved or removed the
 * file, the next line reopens (creates) it at its path, as `tail -F` follows a name: no
 * postrotate signal and no copytruncate are needed. The path is looked at before a write, at
 * most once a second by the monotonic clock (a wall clock stepped back must not stop the look
 * for as long as it was stepped); lines in between go to the moved file, so none is lost. A path
 * that cannot be opened again (its directory removed or read-only) is said once, to the other
 * sinks and to the file it goes on writing to.
 */
export function createFileSink(path: string, opts: { tag: string; pid: number; key?: string; monoNow?: () => number }): LogSink & { path: string } {
  const monoNow = opts.monoNow ?? (() => performance.now());
  const key = opts.key ?? 'LOG_FILE';
  // 0600: the log holds script output and command lines; group or others have no business in it
  const open = () => openSync(path, 'a', 0o600);
  /** Opened again after a rotation: only a regular file, and never a wait (a FIFO made at the
   *  path by someone else would block the daemon in open(2) until a reader came). */
  const reopen = (): number => {
    const next = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NONBLOCK | constants.O_NOCTTY, 0o600);
    if (fstatSync(next).isFile()) return next;
    closeSync(next);
    throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
  };
  let fd = open();
  let closed = false;
  let checkedAt = monoNow();
  let report: Report = () => undefined;
  let stuck: string | null = null;
  const moved = (): boolean => {
    try {
      const now = statSync(path);
      const mine = fstatSync(fd);
      return now.ino !== mine.ino || now.dev !== mine.dev;
    } catch {
      return true; // removed (or unreadable): write to the path again
    }
  };
  const follow = () => {
    const now = monoNow();
    if (now - checkedAt < ROTATION_CHECK_MS) return;
    checkedAt = now;
    if (!moved()) return;
    try {
      const next = reopen();
      closeSync(fd);
      fd = next;
      if (stuck !== null) report('notice', `${key} ${path}: opened again at its path`, true);
      stuck = null;
    } catch (e) {
      // the directory is gone or not writable: keep the open file rather than lose lines
      const why = (e as NodeJS.ErrnoException).code ?? String(e);
      if (stuck === why) return;
      stuck = why;
      report('warning', `${key} ${path} was moved or removed and cannot be opened again (${why}): writing on to the file pcheck has open (moved or deleted) until it can; fix its directory, or what is at the path now`, true);
    }
  };
  return {
    path,
    write(_severity: Severity, message: string) {
      if (closed) return;
      follow();
      writeAll(fd, `${timestamp()} ${opts.tag}[${opts.pid}]: ${message}\n`);
    },
    attach(r: Report) {
      report = r;
    },
    async close() {
      if (!closed) closeSync(fd);
      closed = true;
    },
  };
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      // a non-blocking pipe that is full: wait for it rather than drop the line
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
