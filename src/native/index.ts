// Loader for the optional addon in native/ (built by scripts/build-native.js). Everything
// that uses it has a fallback, so a missing or broken build only costs precision.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Opaque handle returned by pidfdWatch(). */
export interface PidfdWatchHandle {
  readonly __pidfdWatchHandle?: never;
}

export interface NativeBinding {
  /** One datagram to an AF_UNIX SOCK_DGRAM socket: blocking (1 s send timeout), or with
   *  `dontWait` never (EAGAIN at once when the receiver's queue is full). Returns 0, or the
   *  errno (ENOENT: no such socket, ECONNREFUSED: nobody reads it, EAGAIN: full or timed out). */
  syslogSend(socketPath: string, message: string, dontWait?: boolean): number;
  /** send(fd, buffer, MSG_DONTWAIT | MSG_NOSIGNAL) on a stream socket: the bytes sent, or
   *  -errno (-EAGAIN: its buffer is full; -ENOTSOCK: not a socket; -EPIPE: the reader is gone). */
  sendDontWait(fd: number, data: Buffer): number;
  /** pidfd_open(pid, 0): a close-on-exec fd. Throws an Error whose `code` is the errno
   *  name (ESRCH: no such process; ENOSYS: kernel < 5.3; EMFILE...). */
  pidfdOpen(pid: number): number;
  /** Calls callback once, from the event loop, when fd becomes readable (the process
   *  exited), then closes fd. The fd belongs to the watch from here on (if this throws,
   *  it is still the caller's). Keeps the loop alive while watching. */
  pidfdWatch(fd: number, callback: () => void): PidfdWatchHandle;
  /** Stops the watch and closes its fd. Returns true if the callback had not fired yet;
   *  safe to call again or after the callback. */
  pidfdUnwatch(handle: PidfdWatchHandle): boolean;
}

/** dist/src/native/index.js -> <repo>/native/build/Release/procsafe_native.node */
export const NATIVE_ADDON_PATH = resolve(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'procsafe_native.node');

let cached: { binding: NativeBinding | null; error: string | null } | undefined;

/** The addon, or null when PROCSAFE_NATIVE=off or it can't be loaded. Cached. */
export function loadNative(): NativeBinding | null {
  cached ??= load();
  return cached.binding;
}

/** Why loadNative() returned null (for a log line), or null if it did not. */
export function nativeLoadError(): string | null {
  cached ??= load();
  return cached.error;
}

function load(): { binding: NativeBinding | null; error: string | null } {
  if (process.env['PROCSAFE_NATIVE'] === 'off') return { binding: null, error: 'disabled by PROCSAFE_NATIVE=off' };
  if (!existsSync(NATIVE_ADDON_PATH)) return { binding: null, error: `not built (${NATIVE_ADDON_PATH})` };
  try {
    const mod = { exports: {} as Record<string, unknown> };
    process.dlopen(mod, NATIVE_ADDON_PATH);
    for (const fn of ['syslogSend', 'sendDontWait', 'pidfdOpen', 'pidfdWatch', 'pidfdUnwatch']) {
      if (typeof mod.exports[fn] !== 'function') return { binding: null, error: `addon lacks ${fn}()` };
    }
    return { binding: mod.exports as unknown as NativeBinding, error: null };
  } catch (e) {
    return { binding: null, error: e instanceof Error ? e.message : String(e) };
  }
}
