// Loader for the optional addon in native/. node-gyp-build picks, in this order, a local
// build (native/build/Release: `npm ci` in a checkout, or procsafe-build-native) and the
// prebuild shipped in the package (native/prebuilds/<platform>-<arch>/, made by
// scripts/prebuild.js at `npm pack`). Everything that uses the addon has a fallback, so a
// platform without either only costs precision; nativeLoadError() says why, for pcheck's
// start-up warning and for padmin.
import { resolve } from 'node:path';
import nodeGypBuild from 'node-gyp-build';

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
  /** flock(fd, LOCK_EX | LOCK_NB): 0, or the errno (11, EAGAIN: another open file holds the
   *  lock). Absent from addons built before it (then the caller falls back). */
  flockExclusive?(fd: number): number;
}

/** dist/src/native/index.js -> <package>/native */
export const NATIVE_DIR = resolve(__dirname, '..', '..', '..', 'native');

interface Loaded {
  binding: NativeBinding | null;
  error: string | null;
  /** the .node file chosen, when one was found */
  file: string | null;
}
let cached: Loaded | undefined;

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

/** The addon file that was loaded (or failed to load), or null if there is none. */
export function nativeAddonFile(): string | null {
  cached ??= load();
  return cached.file;
}

function load(): Loaded {
  if (process.env['PROCSAFE_NATIVE'] === 'off') return { binding: null, error: 'disabled by PROCSAFE_NATIVE=off', file: null };
  let file: string;
  try {
    file = nodeGypBuild.resolve(NATIVE_DIR);
  } catch (e) {
    // "No native build was found for platform=linux arch=arm64 runtime=node abi=115 ... libc=musl ..."
    const what = (e instanceof Error ? e.message : String(e)).split('\n')[0].replace(/^No native build was found for /, '');
    return { binding: null, error: `no build or prebuild for ${what}; compile one with procsafe-build-native`, file: null };
  }
  try {
    const mod = { exports: {} as Record<string, unknown> };
    process.dlopen(mod, file);
    for (const fn of ['syslogSend', 'sendDontWait', 'pidfdOpen', 'pidfdWatch', 'pidfdUnwatch']) {
      if (typeof mod.exports[fn] !== 'function') return { binding: null, error: `${file} lacks ${fn}()`, file };
    }
    return { binding: mod.exports as unknown as NativeBinding, error: null, file };
  } catch (e) {
    return { binding: null, error: `${file} does not load: ${e instanceof Error ? e.message : String(e)}`, file };
  }
}
