// sd_notify(3) without libsystemd: one datagram per notification to $NOTIFY_SOCKET.
//
// With the native addon: sent synchronously by its syslogSend() (a plain sendto() on an
// AF_UNIX SOCK_DGRAM socket; "@name" is the abstract namespace). The kernel attaches our
// pid (SO_PASSCRED on systemd's side), which is what NotifyAccess=main checks.
//
// Without it (Node's dgram has no unix sockets): systemd-notify(1) sends it, as
// `systemd-notify --no-block --pid=OUR_PID VAR=VALUE...`. With --pid, systemd-notify puts our
// pid, not its own, in the datagram's credentials (SCM_CREDENTIALS; the kernel allows that
// to root, i.e. CAP_SYS_ADMIN), so NotifyAccess=main accepts it as from the main process,
// and systemd never has to look up a sender that has already exited. It also adds
// MAINPID=OUR_PID, which changes nothing. --no-block skips the BARRIER=1 that systemd-notify
// would otherwise send from its own pid (refused, and logged, under NotifyAccess=main).
// Each notification then costs a fork (notify-fallback.ts: READY and STOPPING wait for it,
// STATUS and WATCHDOG go in the background, merged).
// Not root: systemd-notify sends with its own pid; the unit needs NotifyAccess=all
// (docs/systemd.md). Neither the addon nor systemd-notify: the notifier is a no-op that
// says why (disabledReason), and a Type=notify unit times out waiting for READY=1.
import { findSystemdNotify, systemdNotifySender } from './notify-fallback';
import { loadNative, nativeLoadError, type NativeBinding } from '../native';

export interface Notifier {
  /** READY=1 (with STATUS= when given): start-up is complete. */
  ready(status?: string): void;
  /** STATUS=text: one line for `systemctl status`. */
  status(text: string): void;
  /** WATCHDOG=1: keep-alive for WatchdogSec=. */
  watchdog(): void;
  /** STOPPING=1 (with STATUS= when given): we are shutting down. */
  stopping(status?: string): void;
  /** How often to send WATCHDOG=1: WATCHDOG_USEC / 2 in ms, or null when systemd does not
   *  watch this process (WATCHDOG_USEC unset or invalid, or WATCHDOG_PID names another). */
  readonly watchdogIntervalMs: number | null;
  /** $NOTIFY_SOCKET as given. */
  readonly socket: string;
  /** Why nothing is sent (neither the addon nor systemd-notify, an address we cannot use), or null. */
  readonly disabledReason: string | null;
  /** How it sends: the addon's sendto(), or one systemd-notify(1) per notification. */
  readonly via: 'addon' | 'systemd-notify' | null;
}

export { findSystemdNotify };

export interface NotifierOptions {
  /** Told once per distinct send error (e.g. `sd_notify to /run/systemd/notify failed:
   *  ECONNREFUSED`), and once when sending works again. Never called from a throw. */
  onError?: (message: string) => void;
  /** systemd-notify(1) to use without the addon; default: found on $PATH, /usr/bin, /bin. */
  systemdNotify?: string | null;
}

/** systemd drops a notification larger than this (NOTIFY_BUFFER_MAX = PIPE_BUF). */
const MAX_STATUS_CHARS = 1000;

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  11: 'EAGAIN',
  13: 'EACCES',
  22: 'EINVAL',
  36: 'ENAMETOOLONG',
  90: 'EMSGSIZE',
  111: 'ECONNREFUSED',
};

/** A notifier for $NOTIFY_SOCKET, or null when it is unset (not started by systemd with
 *  Type=notify). Never throws, and neither do its methods. */
export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  native: NativeBinding | null = loadNative(),
  opts: NotifierOptions = {},
): Notifier | null {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return null;
  const watchdogIntervalMs = watchdogInterval(env);
  let lastError: string | null = null;
  /** Says once per distinct error, and once when sending works again. */
  const report = (err: string | null): void => {
    if (err === lastError) return;
    const was = lastError;
    lastError = err;
    try {
      if (err !== null) opts.onError?.(`sd_notify to ${socket} failed: ${err}`);
      else if (was !== null) opts.onError?.(`sd_notify to ${socket} works again`);
    } catch {
      // a broken log sink must not break the monitoring loop
    }
  };

  let disabledReason: string | null = null;
  /** `urgent`: READY and STOPPING, which must be sent before we go on. */
  let send: ((text: string, urgent: boolean) => void) | null = null;
  if (!socket.startsWith('/') && !socket.startsWith('@')) {
    disabledReason = `NOTIFY_SOCKET=${socket} is not a unix socket path or @abstract name`;
  } else if (Buffer.byteLength(socket) > 108 || (socket.startsWith('/') && Buffer.byteLength(socket) > 107)) {
    disabledReason = `NOTIFY_SOCKET=${socket} is too long for a unix socket address`;
  } else if (native !== null) {
    send = (text) => {
      let err: string | null;
      try {
        const rc = native.syslogSend(socket, text);
        err = rc === 0 ? null : (ERRNO[rc] ?? `errno ${rc}`);
      } catch (e) {
        err = e instanceof Error ? e.message : String(e);
      }
      report(err);
    };
  } else {
    const tool = opts.systemdNotify === undefined ? findSystemdNotify(env) : opts.systemdNotify;
    if (tool === null) {
      disabledReason = `the native addon is not loaded (${nativeLoadError() ?? 'not given'}) and systemd-notify(1) was not found`;
    } else {
      const fallback = systemdNotifySender(tool, socket, report);
      send = (text, urgent) => {
        try {
          const lines = text.split('\n');
          const err = urgent ? fallback.now(lines) : null;
          if (urgent) report(err);
          // not sent (a run that timed out on a loaded host): once more, in the background
          if (!urgent || err !== null) fallback.soon(lines);
        } catch (e) {
          report(e instanceof Error ? e.message : String(e));
        }
      };
    }
  }
  const notify = (text: string, urgent = false): void => send?.(text, urgent);

  return {
    socket,
    watchdogIntervalMs,
    disabledReason,
    via: send === null ? null : native !== null ? 'addon' : 'systemd-notify',
    ready: (status) => notify(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${statusText(status)}`, true),
    status: (text) => notify(`STATUS=${statusText(text)}`),
    watchdog: () => notify('WATCHDOG=1'),
    stopping: (status) => notify(status === undefined ? 'STOPPING=1' : `STOPPING=1\nSTATUS=${statusText(status)}`, true),
  };
}

/** sd_watchdog_enabled(3): WATCHDOG_USEC / 2 in ms when it applies to this process. */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^[1-9][0-9]*$/.test(usec)) return null;
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== '' && wpid !== String(pid)) return null;
  const ms = Number(usec) / 2000;
  return Number.isFinite(ms) ? Math.max(1, Math.floor(ms)) : null;
}

/** One line (a newline would start a new KEY=VALUE assignment), short enough for systemd. */
export function statusText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const one = text.replace(/[\r\n]+/g, ' ').replace(/\u0000/g, '');
  return one.length > MAX_STATUS_CHARS ? `${one.slice(0, MAX_STATUS_CHARS - 3)}...` : one;
}

