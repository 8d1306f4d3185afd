// Sinks that write text lines: stdout (for humans, or for journald under systemd) and LOG_FILE.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogSink, Severity } from './types';

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

/** Writes to a file descriptor synchronously (stdout pipes and files are synchronous on Linux). */
export function createFdSink(fd: number, opts: { tag: string; pid: number; systemd: boolean }): LogSink {
  return {
    write(severity: Severity, message: string) {
      const line = opts.systemd ? `<${severity}>${message}\n` : `${timestamp()} ${opts.tag}[${opts.pid}]: ${message}\n`;
      writeAll(fd, line);
    },
  };
}

/** LOG_FILE: appended synchronously, opened once (reopened by reload). */
export function createFileSink(path: string, opts: { tag: string; pid: number }): LogSink & { path: string } {
  // 0600: the log holds script output and command lines; group or others have no business in it
  const fd = openSync(path, 'a', 0o600);
  let open = true;
  return {
    path,
    write(_severity: Severity, message: string) {
      if (open) writeAll(fd, `${timestamp()} ${opts.tag}[${opts.pid}]: ${message}\n`);
    },
    async close() {
      if (open) closeSync(fd);
      open = false;
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
