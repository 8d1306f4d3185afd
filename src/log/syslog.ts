// Syslog sink: the same datagrams glibc's syslog(3) sends to a local socket, so rsyslog and
// journald file them as `pcheck[PID]: message` like ProcessSaver's lines.
// With the addon each line is sent synchronously (a FATAL line is out before exit); without
// it one long-running logger(1) child gets the lines on its stdin.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { loadNative, type NativeBinding } from '../native';
import type { LogSink, Severity } from './types';

/** Facility numbers of syslog(3) (LOG_DAEMON is 3<<3, and so on). 'kern' is left out: user
 *  space can't log as the kernel (glibc and logger(1) turn facility 0 into 'user'). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  security: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** 'daemon', 'LOG_DAEMON', 'Local0' -> facility number; throws on anything else. */
export function syslogFacility(name: string): number {
  const key = name.trim().toLowerCase().replace(/^log_/, '');
  const n = Object.hasOwn(SYSLOG_FACILITIES, key) ? SYSLOG_FACILITIES[key] : undefined;
  if (n === undefined) {
    throw new Error(`unknown syslog facility '${name}' (use one of: ${Object.keys(SYSLOG_FACILITIES).join(', ')})`);
  }
  return n;
}

/** Longest message body sent; rsyslog's default maxMessageSize is 8k for the whole line. */
export const MAX_MESSAGE_BYTES = 8000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** `Mmm dd hh:mm:ss` in local time, the day space-padded (strftime `%b %e %T`, C locale). */
export function syslogTimestamp(d = new Date()): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `<PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE`, as glibc sends it to /dev/log. */
export function formatSyslogDatagram(pri: number, tag: string, pid: number, message: string, d = new Date()): string {
  return `<${pri}>${syslogTimestamp(d)} ${tag}[${pid}]: ${message}`;
}

/** Cuts at MAX_MESSAGE_BYTES without splitting a UTF-8 sequence. */
function truncate(message: string): string {
  if (message.length * 3 <= MAX_MESSAGE_BYTES) return message;
  const buf = Buffer.from(message, 'utf8');
  if (buf.length <= MAX_MESSAGE_BYTES) return message;
  let end = MAX_MESSAGE_BYTES;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** One syslog record per non-empty line: logger(1) would split a multi-line message anyway,
 *  and rsyslog shows an embedded newline as #012. */
function records(message: string): string[] {
  return message
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map(truncate);
}

export interface SyslogSinkOptions {
  /** '/dev/log' on every current Linux. */
  socketPath: string;
  facility: string;
  tag: string;
  pid: number;
  /** The addon to use; undefined: loadNative(); null: force the logger(1) fallback. */
  native?: NativeBinding | null;
}

export type SyslogSink = LogSink & { readonly mode: 'native' | 'logger' };

export function createSyslogSink(opts: SyslogSinkOptions): SyslogSink {
  const facility = syslogFacility(opts.facility);
  const native = opts.native === undefined ? loadNative() : opts.native;
  return native ? nativeSink(native, facility, opts) : loggerSink(facility, opts);
}

const ENOENT = 2;
const EAGAIN = 11;
const ECONNREFUSED = 111;
/** After a send timed out (a wedged daemon), skip syslog this long instead of stalling
 *  the supervisor one second per line. */
const WEDGED_PAUSE_MS = 10_000;

function nativeSink(native: NativeBinding, facility: number, opts: SyslogSinkOptions): SyslogSink {
  let closed = false;
  let pausedUntil = 0;
  return {
    mode: 'native',
    write(severity: Severity, message: string) {
      if (closed || performance.now() < pausedUntil) return;
      const pri = facility * 8 + severity;
      const now = new Date();
      for (const rec of records(message)) {
        const err = native.syslogSend(opts.socketPath, formatSyslogDatagram(pri, opts.tag, opts.pid, rec, now));
        // No daemon (yet): drop the line, the other sinks have it; try again next line.
        if (err === ENOENT || err === ECONNREFUSED) return;
        if (err === EAGAIN) {
          pausedUntil = performance.now() + WEDGED_PAUSE_MS;
          return;
        }
      }
    },
    async close() {
      closed = true;
    },
  };
}

function findInPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir || '.', name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  for (const p of ['/usr/bin/logger', '/bin/logger']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const RESPAWN_INTERVAL_MS = 1000;
const CLOSE_TIMEOUT_MS = 2000;
/** Lines kept while logger(1) is being restarted; older ones are dropped first. */
const MAX_PENDING = 1000;

function loggerSink(facility: number, opts: SyslogSinkOptions): SyslogSink {
  const found = findInPath('logger');
  if (!found) throw new Error('logger(1) not found: install util-linux (bsdutils on Debian), or build the native addon');
  const logger: string = found;
  // --prio-prefix: each stdin line starts with its own <PRI>. -S: the whole body fits in one
  // record (logger would split a long line and give the rest its default priority).
  const args = [
    '--socket-errors=off',
    '-u',
    opts.socketPath,
    '--prio-prefix',
    '-t',
    opts.tag,
    `--id=${opts.pid}`,
    '-S',
    String(MAX_MESSAGE_BYTES + 16),
  ];
  let child: ChildProcess | null = null;
  let lastSpawn = -Infinity;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;
  const pending: string[] = [];

  function start(force: boolean): ChildProcess | null {
    if (child) return child;
    const now = performance.now();
    if (!force && now - lastSpawn < RESPAWN_INTERVAL_MS) {
      retry ??= setTimeout(() => {
        retry = null;
        if (!closed) flush(start(false));
      }, RESPAWN_INTERVAL_MS - (now - lastSpawn)).unref();
      return null;
    }
    lastSpawn = now;
    // logger ignores SIGHUP/INT/TERM (an ignored signal stays ignored across exec): when
    // systemd or a terminal signals the whole group, it still writes our last lines, and it
    // ends when its stdin does, i.e. when we close() or exit.
    let c: ChildProcess;
    try {
      c = spawn('/bin/sh', ['-c', 'trap "" HUP INT TERM; exec "$0" "$@"', logger, ...args], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
    } catch {
      return null; // e.g. EAGAIN from fork: the lines wait in `pending` for the next try
    }
    c.stdin?.on('error', () => undefined); // EPIPE when logger died: 'exit' below restarts it
    c.on('error', () => {
      if (child === c) child = null;
    });
    c.on('exit', () => {
      if (child !== c) return;
      child = null;
      if (!closed && pending.length > 0) flush(start(false)); // lines that found it dying
    });
    // A log sink must not keep the process alive.
    c.unref();
    (c.stdin as Socket | null)?.unref();
    child = c;
    return c;
  }

  function flush(c: ChildProcess | null): void {
    if (!c?.stdin?.writable) return;
    // Pipe writes go to the kernel at once (when the pipe has room), so they survive our exit.
    if (pending.length > 0) c.stdin.write(pending.splice(0).join(''));
  }

  return {
    mode: 'logger',
    write(severity: Severity, message: string) {
      if (closed) return;
      const pri = facility * 8 + severity;
      for (const rec of records(message)) pending.push(`<${pri}>${rec}\n`);
      if (pending.length > MAX_PENDING) pending.splice(0, pending.length - MAX_PENDING);
      flush(start(false));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (retry) clearTimeout(retry);
      retry = null;
      if (pending.length > 0) flush(start(true));
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.ref();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          c.kill('SIGKILL'); // wedged on a full syslog socket: give up after 2 s
          resolve();
        }, CLOSE_TIMEOUT_MS);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        c.stdin?.end();
      });
    },
  };
}
