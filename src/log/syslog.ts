// Syslog sink: the same datagrams glibc's syslog(3) sends to a local socket, so rsyslog and
// journald file them as `pcheck[PID]: message` like ProcessSaver's lines.
// With the addon each line is sent at once, never waiting (MSG_DONTWAIT); without it one
// long-running logger(1) child gets the lines on its stdin. Either way, a syslog daemon that
// stops reading (its queue full) never blocks pcheck: lines wait in a bounded queue
// (write-queue.ts), the oldest dropped and counted beyond it, and close() delivers what is
// queued (bounded) before pcheck exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { loadNative, type NativeBinding } from '../native';
import type { LogSink, Severity } from './types';
import { WriteQueue, type Report, type WriteQueueOptions } from './write-queue';

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

const EAGAIN = 11;

/** The queue of a syslog sink; its reports go to the Logger once attached. `marker` makes the
 *  line that says where lines were dropped, in the sink's format. */
function syslogQueue(opts: SyslogSinkOptions, tryWrite: WriteQueueOptions['tryWrite'], marker: (text: string) => Buffer, datagrams: boolean) {
  let report: Report = () => undefined;
  const queue = new WriteQueue({
    name: `syslog (${opts.socketPath})`,
    tryWrite,
    datagrams,
    marker: (n) => marker(`... ${n} line(s) dropped here: syslog was not reading (pcheck's other logs have them)`),
    report: (severity, message, alsoHere) => report(severity, message, alsoHere),
  });
  return { queue, attach: (r: Report) => void (report = r) };
}

function nativeSink(native: NativeBinding, facility: number, opts: SyslogSinkOptions): SyslogSink {
  let closed = false;
  const datagram = (severity: number, rec: string, at = new Date()) => Buffer.from(formatSyslogDatagram(facility * 8 + severity, opts.tag, opts.pid, rec, at));
  const { queue, attach } = syslogQueue(
    opts,
    (d) => {
      const err = native.syslogSend(opts.socketPath, d.toString('utf8'), true);
      if (err === EAGAIN) return 'full';
      // sent; or no daemon (yet): dropped, the other sinks have it, sending resumes when one
      // appears; or a fault of this line alone (EMSGSIZE)
      return d.length;
    },
    (text) => datagram(4, text),
    true,
  );
  return {
    mode: 'native',
    write(severity: Severity, message: string) {
      if (closed) return;
      const now = new Date();
      for (const rec of records(message)) queue.write(datagram(severity, rec, now));
    },
    attach,
    async close() {
      closed = true;
      await queue.flush();
      queue.close();
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
/** Bytes handed to logger(1)'s stdin and not yet taken: beyond, lines wait in the queue. */
const LOGGER_BUFFER_BYTES = 64 * 1024;

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
  let closed = false;

  function start(force: boolean): ChildProcess | null {
    if (child) return child;
    const now = performance.now();
    if (!force && now - lastSpawn < RESPAWN_INTERVAL_MS) return null; // the queue retries
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
      return null; // e.g. EAGAIN from fork: the lines wait in the queue for the next try
    }
    c.stdin?.on('error', () => undefined); // EPIPE when logger died: 'exit' below restarts it
    c.stdin?.on('drain', () => queue.pump());
    c.on('error', () => {
      if (child === c) child = null;
    });
    c.on('exit', () => {
      if (child !== c) return;
      child = null;
      if (!closed) queue.pump(); // lines that found it dying
    });
    // A log sink must not keep the process alive.
    c.unref();
    (c.stdin as Socket | null)?.unref();
    child = c;
    return c;
  }

  const { queue, attach } = syslogQueue(
    opts,
    (line) => {
      const c = start(closed);
      // Pipe writes go to the kernel at once (when the pipe has room), so they survive our exit;
      // what logger has not taken waits in Node's buffer, bounded here.
      if (!c?.stdin?.writable || c.stdin.writableLength > LOGGER_BUFFER_BYTES) return 'full';
      c.stdin.write(line);
      return line.length;
    },
    (text) => Buffer.from(`<${facility * 8 + 4}>${text}\n`),
    false,
  );

  return {
    mode: 'logger',
    write(severity: Severity, message: string) {
      if (closed) return;
      const pri = facility * 8 + severity;
      for (const rec of records(message)) queue.write(Buffer.from(`<${pri}>${rec}\n`));
    },
    attach,
    async close() {
      if (closed) return;
      closed = true;
      await queue.flush();
      queue.close();
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
