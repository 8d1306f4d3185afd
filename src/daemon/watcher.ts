// Chooses how deaths are noticed: a pidfd through the native addon (an event from the
// kernel, no polling), else the portable /proc/PID/stat poll. PROCSAFE_DEATH_WATCH=poll
// forces the fallback (CI runs the suite in both modes).
import { loadNative } from '../native/index';
import { createPidfdDeathWatcher } from '../proc/pidfd-watch';
import { createPollDeathWatcher } from '../proc/death-watch';
import type { DeathWatcher, ProcessTable } from '../proc/types';

export function createDeathWatcher(table: ProcessTable, env = process.env): DeathWatcher {
  const want = env.PROCSAFE_DEATH_WATCH ?? 'auto';
  if (want !== 'poll') {
    const native = loadNative();
    if (native) {
      try {
        native.pidfdOpen(process.pid); // probe: the kernel may lack pidfd_open (Linux < 5.3)
        return createPidfdDeathWatcher(native, table);
      } catch {
        /* fall through to polling */
      }
    }
  }
  return createPollDeathWatcher();
}
