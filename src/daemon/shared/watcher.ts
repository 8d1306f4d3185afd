// Chooses how deaths are noticed: a pidfd through the native addon (an event from the
// kernel, no polling), else the portable /proc/PID/stat poll. PROCSAFE_DEATH_WATCH=poll
// forces the fallback (CI runs the integration tests in both modes). The choice and its
// reason are shown wherever an operator looks: pcheck's start lines, `padmin show param`,
// `padmin -c list`, their --json, and systemd's STATUS= (deathWatchStatus()).
import { loadNative, nativeLoadError, type NativeBinding } from '../../native/index';
import { createPidfdDeathWatcher } from '../../proc/pidfd-watch';
import { createPollDeathWatcher } from '../../proc/death-watch';
import type { DeathWatcher, ProcessTable } from '../../proc/types';

export interface DeathWatchMode {
  mode: 'pidfd' | 'poll';
  /** why not pidfd (null when pidfd) */
  reason: string | null;
}

let chosen: DeathWatchMode | undefined;

/** The death watch this process uses, decided once (the addon and the kernel do not change). */
export function deathWatchMode(env = process.env): DeathWatchMode {
  if (env !== process.env) return choose(env);
  chosen ??= choose(env);
  return chosen;
}

function choose(env: NodeJS.ProcessEnv): DeathWatchMode {
  if (env.PROCSAFE_DEATH_WATCH === 'poll') return { mode: 'poll', reason: 'forced by PROCSAFE_DEATH_WATCH=poll' };
  const native = loadNative();
  if (native === null) return { mode: 'poll', reason: `native addon not loaded: ${nativeLoadError() ?? 'unknown'}` };
  const refused = pidfdRefused(native);
  if (refused !== null) return { mode: 'poll', reason: `pidfd_open refused: ${refused}` };
  return { mode: 'pidfd', reason: null };
}

/** The mode of a watcher made by createDeathWatcher() (tests may pass in another). */
export function deathWatchOf(w: DeathWatcher): DeathWatchMode {
  const m = deathWatchMode();
  return w.mode === m.mode ? m : { mode: w.mode, reason: null };
}

/** `pidfd`, or `poll (why)`: for `padmin show param`. */
export function deathWatchText(m: DeathWatchMode = deathWatchMode()): string {
  return m.reason === null ? m.mode : `${m.mode} (${m.reason})`;
}

/** What systemd's STATUS= line adds: nothing in the usual case, `; death watch: poll` when
 *  deaths are polled, so that `systemctl status` shows a degraded install. */
export function deathWatchStatus(m: DeathWatchMode = deathWatchMode()): string {
  return m.mode === 'poll' ? '; death watch: poll' : '';
}

export function createDeathWatcher(table: ProcessTable, env = process.env): DeathWatcher {
  const native = deathWatchMode(env).mode === 'pidfd' ? loadNative() : null;
  if (native === null) return createPollDeathWatcher();
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

/** The kernel may lack pidfd_open (Linux < 5.3) or a seccomp filter may refuse it: the
 *  error code (ENOSYS, EPERM), or null when a pidfd can be opened and watched. */
function pidfdRefused(native: NativeBinding): string | null {
  try {
    const fd = native.pidfdOpen(process.pid);
    native.pidfdUnwatch(native.pidfdWatch(fd, () => undefined)); // closes fd
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
  }
}
