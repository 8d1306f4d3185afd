// One state file per pcheck (SPEC §10): two pchecks that shared a SHM_DUMP_FILE overwrote each
// other's entries, and padmin showed one pfile's entry under the other. A pcheck claims its state
// file at start, before reading it, with an exclusive flock(2) on `PATH.lock`, which also records
// who holds it (pid, start time, boot, pfile, IPCKEY) so that a refused pcheck can name the
// other pfile. The kernel drops the lock when its holder ends, however it ends (SIGKILL too), so
// a stale lock never blocks a restart. Without the native addon there is no flock: the record
// alone is checked, and its holder counts as alive when a process with its pid and start time
// runs in this boot (two pchecks started in the same millisecond are then not told apart).
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors';

/** Who holds a state file. */
export interface Holder {
  pid: number;
  /** field 22 of /proc/PID/stat: with pid and boot, one process. */
  startTime: number;
  bootId: string;
  /** absolute path of its pfile. */
  pfile: string;
  ipckey: string;
}

export interface ClaimDeps {
  /** flock(fd, LOCK_EX|LOCK_NB) → 0 or errno; null without the native addon. */
  lock: ((fd: number) => number) | null;
  /** whether the process of a record still runs (same pid and start time, this boot). */
  isAlive: (h: Holder) => boolean;
}

export interface StateClaim {
  /** null when the claim could not be made at all (read-only directory...): why, for the log. */
  warning: string | null;
  /** drops the claim (pcheck stops; reload moved to another state file). */
  release(): void;
}

const EAGAIN = 11;
const MAX_RECORD = 64 * 1024;

export function lockPathOf(stateFile: string): string {
  return `${stateFile}.lock`;
}

/**
 * Claims `stateFile` for `me`. Throws a ConfigError (exit 2) naming the other pfile when another
 * live pcheck holds it. A lock file that cannot be made (read-only or foreign directory, a planted
 * symlink) does not stop monitoring: the claim is then empty and says why in `warning`.
 */
export function claimStateFile(stateFile: string, me: Holder, deps: ClaimDeps): StateClaim {
  const path = lockPathOf(stateFile);
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // read-only (flock needs no more; a file held open for writing would keep the filesystem
    // from being remounted read-only); never through a symlink; a FIFO must not hang the start
    fd = openSync(path, constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (e) {
    return unclaimed(`cannot open ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      return unclaimed(`${path} is not a regular file`);
    }
    const other = holderOf(fd, me, deps);
    if (other !== undefined) throw refusal(stateFile, me, other);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  // who holds it, for the message of a pcheck refused later (best effort: a full disk must not stop us)
  writeRecord(path, `${JSON.stringify(me)}\n`);
  let held = true;
  return {
    warning: null,
    release() {
      if (!held) return;
      held = false;
      writeRecord(path, ''); // no stale record of ours (the fallback reads records)
      closeSync(fd);
    },
  };
}

function writeRecord(path: string, text: string): void {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch {
    // read-only or full: the lock itself holds; only the name of the holder is missing
  }
}

/** The pcheck that holds the lock (null: one we cannot name), or undefined when none does. */
function holderOf(fd: number, me: Holder, deps: ClaimDeps): Holder | null | undefined {
  const errno = deps.lock?.(fd) ?? null;
  if (errno === 0) return undefined;
  const record = readRecord(fd);
  if (errno === EAGAIN) return record;
  // no flock (no addon, or a filesystem without locks): the record's process, if it still runs
  if (record === null || (record.pid === me.pid && record.pfile === me.pfile)) return undefined;
  return deps.isAlive(record) ? record : undefined;
}

function readRecord(fd: number): Holder | null {
  const buf = Buffer.alloc(MAX_RECORD);
  let n: number;
  try {
    n = readSync(fd, buf, 0, MAX_RECORD, 0);
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(buf.toString('utf8', 0, n)) as Partial<Holder>;
    const ok = typeof v.pid === 'number' && typeof v.startTime === 'number' && typeof v.bootId === 'string' && typeof v.pfile === 'string';
    return ok ? { pid: v.pid!, startTime: v.startTime!, bootId: v.bootId!, pfile: v.pfile!, ipckey: String(v.ipckey ?? '?') } : null;
  } catch {
    return null; // empty (the holder has just locked it) or not ours
  }
}

function refusal(stateFile: string, me: Holder, other: Holder | null): ConfigError {
  if (other === null) return new ConfigError(me.pfile, null, `SHM_DUMP_FILE ${stateFile} is held by another pcheck; give each pfile its own SHM_DUMP_FILE`);
  if (other.pfile === me.pfile) {
    return new ConfigError(
      me.pfile,
      null,
      `this pfile is already watched by the pcheck pid ${other.pid} (IPCKEY ${other.ipckey}, which holds its SHM_DUMP_FILE ${stateFile}); stop that pcheck first (an edited IPCKEY takes effect at its restart)`,
    );
  }
  return new ConfigError(
    me.pfile,
    null,
    `SHM_DUMP_FILE ${stateFile} is used by the pcheck pid ${other.pid} of pfile ${other.pfile}; two pchecks cannot share a state file: give each pfile its own SHM_DUMP_FILE`,
  );
}

function unclaimed(why: string): StateClaim {
  return { warning: `${why}; pcheck cannot tell whether another pcheck uses the same SHM_DUMP_FILE`, release: () => undefined };
}
