// Chooses how deaths are noticed: a pidfd through the native addon (an event from the
// kernel, no polling), else the portable /proc/PID/stat poll. PROCSAFE_DEATH_WATCH=poll
// forces the fallback (CI runs the integration tests in both modes).
import { loadNative, type NativeBinding } from '../native/index';
import { createPidfdDeathWatcher } from '../proc/pidfd-watch';
import { createPollDeathWatcher } from '../proc/death-watch';
import type { DeathWatcher, ProcessTable } from '../proc/types';

export function createDeathWatcher(table: ProcessTable, env = process.env): DeathWatcher {
  const native = env.PROCSAFE_DEATH_WATCH === 'poll' ? null : loadNative();
  if (native === null || !pidfdWorks(native)) return createPollDeathWatcher();
  const pidfd = createPidfdDeathWatcher(native, table);
  let poll: DeathWatcher | null = null;
  return {
    mode: 'pidfd',
    watch(id, onDeath) {
      try {
        return pidfd.watch(id, onDeath);
      } catch {
        // out of descriptors (EMFILE) or refused for this one process: poll it instead
        poll ??= createPollDeathWatcher();
        return poll.watch(id, onDeath);
      }
    },
    close() {
      pidfd.close();
      poll?.close();
    },
  };
}

/** The kernel may lack pidfd_open (Linux < 5.3) or a seccomp filter may refuse it. */
function pidfdWorks(native: NativeBinding): boolean {
  try {
    const fd = native.pidfdOpen(process.pid);
    native.pidfdUnwatch(native.pidfdWatch(fd, () => undefined)); // closes fd
    return true;
  } catch {
    return false;
  }
}
