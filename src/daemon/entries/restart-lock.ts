// One restart at a time per program, host-wide (docs/decisions.md "Field rules"): two pchecks
// whose pfiles name the same program (a PENT line copied into a second pfile, two teams' pfiles
// on one server) both see its death; each alone would run the restart script, and two copies
// start. Before its restart script runs, an entry takes an exclusive flock(2) on a lock file
// named by the program's identity; while another pcheck holds it, the script is held back, and
// runs once the lock is ours only if still wanted (the other pcheck's copy was not found
// meanwhile: then it is adopted, and the script is not run). The lock is held until the
// entry's restart is decided (the program found Up, or the attempt failed), not only while the
// script runs: the program it starts may not have exec'd yet when the script exits.
//
// The kernel drops a flock when its holder ends, however it ends, so a killed pcheck never
// leaves a stale lock. flock is non-blocking here: one timer polls every waiting lock. The holder
// removes the file as it lets go (no file per program left behind in a small /run/lock tmpfs);
// a locker checks that the file it locked is still the one at the path, else it locks again.
// Without the native addon (no flock) there is no lock: each pcheck restarts on its own.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the lock files are: /run/lock is a tmpfs (emptied at boot) on every systemd host. */
export const LOCK_DIRS = ['/run/lock/procsafe', join(tmpdir(), 'procsafe-lock')];
/** How often a held-back restart tries the lock again. */
export const LOCK_POLL_MS = 50;
const EAGAIN = 11;

/** What makes two entries watch the same processes (src/proc/match.ts compileMatcher). */
export interface ProgramIdentity {
  /** the program's real path (symlinks resolved), or pname as written when it is not installed */
  program: string;
  includeStrings: readonly string[];
  excludeStrings: readonly string[];
  uid: number | null;
}

/** The lock file's name: a hash of the identity (include/exclude strings in any order match alike). */
export function lockName(id: ProgramIdentity): string {
  const text = JSON.stringify([id.program, [...id.includeStrings].sort(), [...id.excludeStrings].sort(), id.uid]);
  return `${createHash('sha256').update(text).digest('hex').slice(0, 32)}.lock`;
}

export interface RestartLockDeps {
  /** flock(fd, LOCK_EX|LOCK_NB) → 0 or errno; null without the native addon (no lock at all). */
  lock: ((fd: number) => number) | null;
  /** who we are, written into a lock we hold and named by a pcheck held back by it */
  me: string;
  warn: (message: string) => void;
  /** lock directories to try in order (tests); default LOCK_DIRS */
  dirs?: readonly string[];
  pollMs?: number;
}

interface Waiter {
  path: string;
  wanted: () => boolean;
  resolve: (waited: boolean) => void;
}

export class RestartLock<K extends object> {
  private readonly held = new Map<K, { fd: number; path: string }>();
  private readonly waiting = new Map<K, Waiter>();
  private timer: NodeJS.Timeout | null = null;
  private dir: string | null | undefined;
  private closed = false;
  private readonly told = new Set<string>();

  constructor(private readonly deps: RestartLockDeps) {}

  /** A warning is told once: a lock that cannot be had at all must not repeat at every restart. */
  private warn(message: string): void {
    if (this.told.has(message)) return;
    this.told.add(message);
    this.deps.warn(message);
  }

  /**
   * Takes `key`'s lock on `id` before its restart script. null: nothing to wait for (taken at
   * once, already ours, or no lock can be had). Otherwise another pcheck holds it: `held(holder)`
   * is called once (for the log) and the promise resolves when the lock is ours (true: look
   * again for the program before running the script) or `wanted()` turned false, or on close.
   */
  before(key: K, id: ProgramIdentity, wanted: () => boolean, held: (holder: string) => void): Promise<boolean> | null {
    if (this.closed || this.held.has(key) || this.deps.lock === null) return null;
    const path = this.path(id);
    if (path === null || this.tryTake(key, path)) return null;
    this.waiting.get(key)?.resolve(false); // a restart of an earlier attempt still waits: it is this one now
    held(readHolder(path));
    return new Promise<boolean>((resolve) => {
      this.waiting.set(key, { path, wanted, resolve });
      this.timer ??= setInterval(() => this.poll(), this.deps.pollMs ?? LOCK_POLL_MS);
    });
  }

  /** `key`'s restart is decided (or its entry is gone): its lock, or its wait, ends. */
  release(key: K): void {
    const h = this.held.get(key);
    if (h !== undefined) {
      this.held.delete(key);
      try {
        unlinkSync(h.path); // while locked: nobody else can have made a new file there
      } catch {
        // gone or read-only: the lock still ends
      }
      closeSync(h.fd); // the last reference to its open file: the flock ends
    }
    const w = this.waiting.get(key);
    if (w !== undefined) {
      this.waiting.delete(key);
      w.resolve(false);
      this.idle();
    }
  }

  /** Whether `key` holds its lock (tests, padmin). */
  holds(key: K): boolean {
    return this.held.has(key);
  }

  /** pcheck stops: every lock and wait ends. */
  close(): void {
    this.closed = true;
    for (const key of [...this.held.keys(), ...this.waiting.keys()]) this.release(key);
  }

  private poll(): void {
    for (const [key, w] of this.waiting) {
      if (!w.wanted()) {
        this.waiting.delete(key);
        w.resolve(false);
      } else if (this.tryTake(key, w.path)) {
        this.waiting.delete(key);
        w.resolve(true);
      }
    }
    this.idle();
  }

  private idle(): void {
    if (this.waiting.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Takes the lock at `path` for `key`: true when ours; false when another holds it. A lock
   *  file that cannot be opened or locked (no locks on that filesystem) counts as ours. */
  private tryTake(key: K, path: string, tries = 3): boolean {
    let fd: number;
    try {
      // close-on-exec (libuv): a restart script and the program it starts never inherit it
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
    } catch (e) {
      this.warn(`cannot open the restart lock ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}): restarting without it`);
      return true;
    }
    const errno = fstatSync(fd).isFile() ? this.deps.lock!(fd) : -1;
    if (errno === 0) {
      // the holder before us removed the file as it let go: this one is no longer the lock
      const now = statSync(path, { throwIfNoEntry: false });
      const st = fstatSync(fd);
      if (tries > 1 && (now === undefined || now.ino !== st.ino || now.dev !== st.dev)) {
        closeSync(fd);
        return this.tryTake(key, path, tries - 1);
      }
      this.held.set(key, { fd, path });
      try {
        ftruncateSync(fd, 0);
        writeSync(fd, `${this.deps.me}\n`, 0);
      } catch {
        // full disk: the lock holds; only the holder's name is missing
      }
      return true;
    }
    closeSync(fd);
    if (errno === EAGAIN) return false;
    this.warn(`cannot lock ${path} (${errno === -1 ? 'not a regular file' : `errno ${errno}`}): restarting without it`);
    return true;
  }

  private path(id: ProgramIdentity): string | null {
    if (this.dir === undefined) {
      this.dir = null;
      for (const d of this.deps.dirs ?? LOCK_DIRS) {
        try {
          mkdirSync(d, { recursive: true, mode: 0o700 });
          // /run/lock is world-writable: a directory another user made (or a symlink) would let
          // that user hold our locks, and so every restart of the program, back for good
          const st = lstatSync(d);
          if (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0) {
            this.warn(`${d} is not a directory of this user's that only it can write: not used for restart locks`);
            continue;
          }
          this.dir = d;
          break;
        } catch {
          // read-only: the next one
        }
      }
      if (this.dir === null) this.warn(`no directory for restart locks (${(this.deps.dirs ?? LOCK_DIRS).join(', ')}): two pchecks watching one program may both restart it`);
    }
    return this.dir === null ? null : join(this.dir, lockName(id));
  }
}

/** The holder's record in a lock file ('another pcheck' when unreadable). */
function readHolder(path: string): string {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(256);
      const n = readSync(fd, buf, 0, 256, 0);
      return buf.toString('utf8', 0, n).trim() || 'another pcheck';
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'another pcheck';
  }
}
