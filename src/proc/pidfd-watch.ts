// Death watcher on pidfds (Linux >= 5.3): the kernel makes the pidfd readable the moment
// the process exits (a zombie counts), so the event costs nothing while we wait and comes
// within a loop turn, whatever MONITOR_INTERVAL is.
import { closeSync } from 'node:fs';
import type { NativeBinding, PidfdWatchHandle } from '../native';
import type { DeathInfo, DeathWatcher, ProcId } from './types';

/** Throws (with err.code, e.g. ENOSYS on an old kernel, EPERM under a seccomp filter) when
 *  pidfds can't be used at all, so the caller can pick the polling watcher instead. */
export function createPidfdDeathWatcher(
  native: NativeBinding,
  table: { read(id: ProcId): unknown },
): DeathWatcher {
  const stops = new Set<() => void>();
  let closed = false;

  return {
    mode: 'pidfd',

    watch(id: ProcId, onDeath: (info: DeathInfo) => void): () => void {
      if (closed) throw new Error('pidfd death watcher is closed');
      let done = false;
      let handle: PidfdWatchHandle | null = null;
      let immediate: NodeJS.Immediate | null = null;

      const stop = () => {
        if (done) return;
        done = true;
        stops.delete(stop);
        if (immediate) clearImmediate(immediate);
        if (handle) native.pidfdUnwatch(handle);
      };
      const fire = () => {
        if (done) return;
        stop();
        onDeath({ detectedWithinMs: null }); // a kernel event: late only by the loop's lag
      };
      // Already dead: still call back asynchronously, as for any other death.
      const fireSoon = () => {
        if (handle) native.pidfdUnwatch(handle);
        handle = null;
        immediate = setImmediate(fire);
      };
      stops.add(stop);

      let fd: number;
      try {
        fd = native.pidfdOpen(id.pid);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') {
          stops.delete(stop);
          throw e;
        }
        fireSoon();
        return stop;
      }
      try {
        handle = native.pidfdWatch(fd, fire);
      } catch (e) {
        closeSync(fd); // pidfdWatch leaves the fd to us when it fails
        stops.delete(stop);
        throw e;
      }
      // The pid may have been reused before pidfd_open: only now that the pidfd pins a
      // process, check that it is ours (same start time, not a zombie).
      let gone: boolean;
      try {
        gone = table.read(id) === null;
      } catch (e) {
        stop();
        throw e;
      }
      if (gone) fireSoon();
      return stop;
    },

    close(): void {
      closed = true;
      for (const stop of [...stops]) stop();
    },
  };
}
