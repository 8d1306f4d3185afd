// Where restart and group start/stop scripts write their stdout and stderr: regular files in a
// 0700 directory under the run directory, one pair per entry (or group), not pipes to pcheck.
// A program that a script starts without redirecting its output (`nohup app &`) inherits them:
// on a pipe it would die of SIGPIPE (or block) once pcheck stops or dies; a file never does.
// pcheck reads a pair while the script runs (file-capture.ts). What programs write after their
// script ended is not logged, but every file here is kept under OUTPUT_CAP_BYTES — also the
// files an earlier pcheck left, and those of entries that were removed — by a sweep that runs
// a second after a write was seen (inotify on the directory; nothing runs while nobody writes).
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file grown beyond this is emptied (writers opened it O_APPEND: they go on at the new end). */
export const OUTPUT_CAP_BYTES = 1024 * 1024;
/** How long after a write the sweep looks at the file (and how long the watch rests meanwhile). */
const SWEEP_DELAY_MS = 1000;
/** Without inotify (no watches left): every file is looked at this often. */
const FALLBACK_SWEEP_MS = 5000;

/** The pair of one run, opened and emptied: `read` for pcheck (pread, ftruncate), `child` for the
 *  script's stdout and stderr (O_APPEND; pcheck closes its copies once the script is spawned). */
export interface RunFiles {
  name: string;
  read: { stdout: number; stderr: number };
  child: [number, number];
}

/** A run reading its pair: polled when its files change (and by its own timer meanwhile). */
export interface ActiveRun {
  poll(): void;
}

export class ScriptOutputDir {
  private watcher: FSWatcher | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private fallbackTimer: NodeJS.Timeout | null = null;
  private readonly dirty = new Set<string>();
  private readonly runs = new Map<string, ActiveRun>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly warn: (m: string) => void,
  ) {}

  /**
   * Creates (or checks) the directory: 0700, owned by us, not a symlink; its parent too (one
   * level, e.g. RUN_DIR/script-output). Throws an Error that names the path and what is wrong.
   */
  static open(path: string, warn: (m: string) => void): ScriptOutputDir {
    for (const dir of [dirname(path), path]) ensurePrivateDir(dir);
    return new ScriptOutputDir(path, warn);
  }

  /** The base name of the pair of `key` (what identifies the entry or group across restarts of
   *  pcheck): `label-HASH`, the label readable (the pname's or group's name), the hash unique. */
  static pairName(key: string, label: string): string {
    const readable = basename(label).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'script';
    return `${readable}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
  }

  /** Bounds what earlier pchecks left, then watches for writes. */
  start(): void {
    this.sweep(this.allFiles());
    this.arm();
  }

  /** Opens and empties the pair `name` for a run. Throws (the caller falls back to pipes). */
  openRun(name: string): RunFiles {
    const opened: number[] = [];
    try {
      const one = (ext: 'out' | 'err'): [number, number] => {
        // O_RDWR does not block on a FIFO, so nothing planted here can hang pcheck; fstat checks it
        const r = openSync(join(this.path, `${name}.${ext}`), constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
        opened.push(r);
        const st = fstatSync(r);
        if (!st.isFile() || st.uid !== process.getuid?.()) throw new Error(`${join(this.path, `${name}.${ext}`)} is not a regular file of ours`);
        if ((st.mode & 0o077) !== 0) fchmodSync(r, 0o600);
        ftruncateSync(r, 0);
        // the same file (not the path again), in a new open file description with O_APPEND
        const w = openSync(`/proc/self/fd/${r}`, constants.O_WRONLY | constants.O_APPEND);
        opened.push(w);
        return [r, w];
      };
      const [outR, outW] = one('out');
      const [errR, errW] = one('err');
      return { name, read: { stdout: outR, stderr: errR }, child: [outW, errW] };
    } catch (e) {
      for (const fd of opened) closeQuietly(fd);
      throw e;
    }
  }

  /** While a run reads its pair, the sweep leaves it alone and changes to it poll the run. */
  claim(name: string, run: ActiveRun): void {
    this.runs.set(name, run);
    this.arm();
  }

  release(name: string): void {
    this.runs.delete(name);
    this.dirty.add(`${name}.out`);
    this.dirty.add(`${name}.err`);
    this.scheduleSweep();
  }

  close(): void {
    this.closed = true;
    this.disarm();
    for (const t of [this.sweepTimer, this.fallbackTimer]) if (t) clearTimeout(t);
    this.sweepTimer = this.fallbackTimer = null;
  }

  private onChange(file: string | null): void {
    if (file === null) {
      // the kernel's event queue overflowed: anything may have changed
      for (const r of this.runs.values()) r.poll();
      for (const f of this.allFiles()) this.dirty.add(f);
    } else {
      const run = this.runs.get(file.replace(/\.(out|err)$/, ''));
      if (run) {
        run.poll();
        return;
      }
      this.dirty.add(file);
    }
    this.scheduleSweep();
    // A program writing without pause would wake pcheck at every write: the watch rests until
    // the sweep (unless a run needs it for its own files).
    if (this.runs.size === 0) this.disarm();
  }

  private scheduleSweep(): void {
    if (this.sweepTimer || this.closed) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      const files = [...this.dirty];
      this.dirty.clear();
      this.sweep(files);
      this.arm();
    }, SWEEP_DELAY_MS);
    this.sweepTimer.unref();
  }

  /** Empties the files beyond the cap that no run is reading (a run bounds its own). */
  private sweep(files: string[]): void {
    for (const f of files) {
      if (!/\.(out|err)$/.test(f) || this.runs.has(f.slice(0, -4))) continue;
      let fd: number;
      try {
        // O_NONBLOCK: opening a FIFO for writing must not wait for a reader
        fd = openSync(join(this.path, f), constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch {
        continue; // removed meanwhile, or not ours to open
      }
      try {
        const st = fstatSync(fd);
        if (st.isFile() && st.size > OUTPUT_CAP_BYTES) ftruncateSync(fd, 0);
      } catch {
        // a file that cannot be truncated is left as it is
      } finally {
        closeQuietly(fd);
      }
    }
  }

  private allFiles(): string[] {
    try {
      return readdirSync(this.path);
    } catch {
      return [];
    }
  }

  private arm(): void {
    if (this.watcher || this.closed || this.fallbackTimer) return;
    try {
      const w = watch(this.path, { persistent: false }, (_event, file) => this.onChange(typeof file === 'string' ? file : null));
      w.on('error', () => {
        if (this.watcher === w) this.disarm();
        this.scheduleSweep();
      });
      this.watcher = w;
    } catch (e) {
      // no inotify watch left (fs.inotify.max_user_watches): look at every file now and then
      this.warn(`cannot watch ${this.path} (${(e as NodeJS.ErrnoException).code ?? String(e)}): script output files are checked every ${FALLBACK_SWEEP_MS / 1000} s instead`);
      this.fallbackTimer = setInterval(() => {
        this.sweep(this.allFiles());
        for (const r of this.runs.values()) r.poll();
      }, FALLBACK_SWEEP_MS);
      this.fallbackTimer.unref();
    }
  }

  private disarm(): void {
    const w = this.watcher;
    this.watcher = null;
    w?.close();
  }
}

/**
 * The directory of one pcheck instance (`pcheck-0x1a2b3c4d` for a pfile, `failsafe` for the
 * groups) under RUN_DIR/script-output, started; or null, said in a warning, when it cannot be
 * used: scripts then write to pipes as before.
 */
export function openScriptOutputDir(runDir: string, instance: string, warn: (m: string) => void): ScriptOutputDir | null {
  const path = join(runDir, 'script-output', instance);
  try {
    const dir = ScriptOutputDir.open(path, warn);
    dir.start();
    return dir;
  } catch (e) {
    warn(`script output cannot go to files (${(e as Error).message}): scripts write to pipes, and a program a script starts without redirecting its output dies of SIGPIPE once pcheck stops`);
    return null;
  }
}

function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} exists and is not a directory; remove it`);
  if (st.uid !== process.getuid?.()) throw new Error(`${dir} is owned by uid ${st.uid}, not by pcheck's; remove it`);
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
