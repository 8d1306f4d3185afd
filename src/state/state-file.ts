// The state file (SHM_DUMP_FILE): a JSON snapshot of every entry, replaced atomically on
// each state change so that a restarted pcheck, or padmin with no pcheck, can read it.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import type { ProcId } from '../core/proc-id';
import { dirname } from 'node:path';
import { ExitCode, ProcsafeError } from '../errors';
import { MONITOR_STATES, PROC_STATES } from '../core/states';
import type { EntryState } from '../core/entry-model';

export const STATE_FILE_VERSION = 1;

/** One entry as persisted: the counters and identity of its EntryState, plus who it is. */
export type EntrySnapshot = Pick<
  EntryState,
  'procSts' | 'monitorSts' | 'pid' | 'startTime' | 'retryCount' | 'restartCount' | 'rerunTime' | 'upSinceMono'
> & {
  pentId: number;
  /** identity of the entry across reloads (see pentSignature). */
  signature: string;
  pname: string;
  restartPhase?: string | null;
  /** RESTARTING only: where the restart was, so that a pcheck started after this one was killed
   *  neither runs a second script nor forgets RESTART_WAIT. Absent in files of older versions. */
  restart?: RestartRecord | null;
};

/** A running restart script: pid (= its process group), start time (field 22 of
 *  /proc/PID/stat, so a reused pid is not taken for it) and when it started (monotonic ms,
 *  for its timeout). */
export interface RunningScriptId extends ProcId {
  startedMono: number;
}

/** An entry caught mid-restart. */
export interface RestartRecord {
  /** the script had not ended (or was queued to start). */
  scriptRunning: boolean;
  /** that script, once started. */
  script: RunningScriptId | null;
  /** the end of RESTART_WAIT once the script had ended (monotonic ms). */
  deadlineMono: number | null;
}

export interface StateSnapshot {
  version: 1;
  pfile: string;
  pcheckPid: number;
  /** epoch ms. */
  writtenAt: number;
  /** /proc/sys/kernel/random/boot_id: pids and monotonic times from another boot mean nothing. */
  bootId: string;
  /** how that pcheck ended (PcheckEnd), written in its last write; null while it runs, so a
   *  pcheck that was killed leaves null. Absent in files of older versions (read as null). */
  ended?: string | null;
  entries: EntrySnapshot[];
}

export type ReadStateResult =
  | { snapshot: StateSnapshot }
  | { missing: true }
  | { corrupt: string; movedTo: string | null };

/** A state file that cannot be written or read; names the path and the errno. */
export class StateFileError extends ProcsafeError {
  constructor(
    readonly path: string,
    readonly errno: string,
    message: string,
  ) {
    super(message, ExitCode.FAILURE);
  }
}

function errnoOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/**
 * Creates `tmp` afresh, mode 0600, and opens it for writing. O_EXCL, never O_TRUNC: whatever
 * is already there (our own leftover after a crash, or a file or link planted by another user
 * in a shared directory, who guessed the name from our pid) is removed, never written
 * through; otherwise the state file would end up as the other user's inode.
 */
function createOwnFile(tmp: string): number {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(tmp, flags, 0o600);
      fchmodSync(fd, 0o600); // the umask may have taken bits away; 0600 exactly
      return fd;
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST' || attempt >= 2) throw e;
      unlinkSync(tmp);
    }
  }
}

/**
 * Replaces the file at `path` with `snapshot`, atomically: a crash leaves either the old
 * or the new file, never a torn one. Synchronous so the caller can write the state right
 * before exiting (retry-over `exit`, OS actions). With `sync: false` the file and directory
 * are not fsynced: the new file is what any process reads at once (a pcheck that is killed
 * leaves it in the page cache), and only a power loss before the caller's later fsync
 * (syncStateFileLater) can lose it.
 */
export function writeStateFile(path: string, snapshot: StateSnapshot, opts: { sync?: boolean } = {}): void {
  writeJsonFile(path, snapshot, opts);
}

/** Replaces the file at `path` with `value` as one line of JSON, atomically (temporary file,
 *  fsync, rename, fsync of the directory; without `sync`, see writeStateFile): the state files
 *  of both modes. */
export function writeJsonFile(path: string, value: unknown, opts: { sync?: boolean } = {}): void {
  // one line, not indented: half the size and the time of JSON.stringify(…, null, 2)
  writeStateText(path, [JSON.stringify(value), '\n'], opts.sync ?? true);
}

/**
 * writeStateFile for a daemon that keeps each entry's JSON while the entry is unchanged:
 * `entries` are JSON.stringify() of each EntrySnapshot, and the file is the same text as
 * writeStateFile's. At 1,000 entries, serializing every entry for every write cost ~2 ms and
 * ~1.5 MB of garbage between a death and its restart script, for one or two changed entries.
 */
export function writeStateEntries(path: string, head: Omit<StateSnapshot, 'entries'>, entries: readonly string[], opts: { sync?: boolean } = {}): void {
  const open = JSON.stringify({ ...head, entries: [] });
  if (!open.endsWith('"entries":[]}')) throw new Error('state file head: entries must be its last key');
  // three pieces, each written as it is: `a + b` of long strings would be copied when written
  writeStateText(path, [open.slice(0, -2), entries.join(','), ']}\n'], opts.sync ?? true);
}

function writeStateText(path: string, pieces: readonly string[], sync: boolean): void {
  const dir = dirname(path);
  const tmp = `${path}.tmp-${process.pid}`;
  let step = 'create directory';
  let fd: number | null = null;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    step = 'create temporary file';
    fd = createOwnFile(tmp);
    step = 'write';
    // each string as it is (Node encodes it outside the JS heap); a Buffer only for the rest
    // of a short write
    for (const data of pieces) {
      let off = writeSync(fd, data);
      if (off < Buffer.byteLength(data)) {
        const buf = Buffer.from(data, 'utf8');
        while (off < buf.length) off += writeSync(fd, buf, off);
      }
    }
    step = 'fsync';
    if (sync) fsyncSync(fd);
    closeSync(fd);
    fd = null;
    step = 'rename';
    renameSync(tmp, path);
    if (!sync) return;
    step = 'fsync directory';
    // The rename is durable only once the directory itself is on disk.
    const dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(dfd);
    } catch (e) {
      // Some filesystems cannot fsync a directory; the rename is done, so do not fail for that.
      if (errnoOf(e) !== 'EINVAL' && errnoOf(e) !== 'ENOTSUP') throw e;
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // the error that matters is the one below
      }
    }
    if (step !== 'fsync directory') {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was created, or it is gone already
      }
    }
    const errno = errnoOf(e);
    throw new StateFileError(path, errno, `cannot write state file ${path} (${step}): ${errno}: ${(e as Error).message}`);
  }
}

type Check = (v: unknown) => boolean;
const isInt: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const isCount: Check = (v) => isInt(v) && (v as number) >= 0;
const isFiniteNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isString: Check = (v) => typeof v === 'string';
const orNull =
  (c: Check): Check =>
  (v) =>
    v === null || c(v);
const oneOf =
  (set: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && set.includes(v);

const ENTRY_FIELDS: Record<keyof EntrySnapshot, { check: Check; optional?: true }> = {
  pentId: { check: isCount },
  signature: { check: isString },
  pname: { check: isString },
  procSts: { check: oneOf(PROC_STATES) },
  monitorSts: { check: oneOf(MONITOR_STATES) },
  pid: { check: orNull((v) => isInt(v) && (v as number) > 0) },
  startTime: { check: orNull(isCount) },
  retryCount: { check: isCount },
  restartCount: { check: isCount },
  rerunTime: { check: orNull(isFiniteNum) },
  upSinceMono: { check: orNull(isFiniteNum) },
  restartPhase: { check: orNull(isString), optional: true },
  restart: { check: orNull(isRestartRecord), optional: true },
};

function isRestartRecord(v: unknown): boolean {
  if (!isObject(v) || typeof v.scriptRunning !== 'boolean' || !orNull(isFiniteNum)(v.deadlineMono)) return false;
  const sc = v.script;
  return sc === null || (isObject(sc) && isInt(sc.pid) && (sc.pid as number) > 0 && isCount(sc.startTime) && isFiniteNum(sc.startedMono));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value for a log line: JSON (so control bytes are escaped), cut short. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Returns null if `v` is a valid snapshot, else what is wrong with it. Unknown extra
 *  fields are tolerated, so that a newer pcheck's additions do not void the file. */
export function snapshotProblem(v: unknown): string | null {
  if (!isObject(v)) return 'not a JSON object';
  if (v.version !== STATE_FILE_VERSION) return `unsupported version ${shown(v.version)} (expected ${STATE_FILE_VERSION})`;
  if (!isString(v.pfile)) return '"pfile" must be a string';
  if (!isInt(v.pcheckPid) || (v.pcheckPid as number) <= 0) return '"pcheckPid" must be a positive integer';
  if (!isFiniteNum(v.writtenAt)) return '"writtenAt" must be a number (epoch ms)';
  if (!isString(v.bootId)) return '"bootId" must be a string';
  if ('ended' in v && !orNull(isString)(v.ended)) return '"ended" must be a string or null';
  if (!Array.isArray(v.entries)) return '"entries" must be an array';
  for (const [i, e] of (v.entries as unknown[]).entries()) {
    if (!isObject(e)) return `entries[${i}] is not an object`;
    for (const [key, spec] of Object.entries(ENTRY_FIELDS)) {
      if (!(key in e)) {
        if (spec.optional) continue;
        return `entries[${i}].${key} is missing`;
      }
      if (!spec.check(e[key])) return `entries[${i}].${key} has a bad value ${shown(e[key])}`;
    }
  }
  return null;
}

/** Bigger than any real state file (a few hundred bytes an entry): refused, not read into memory. */
const MAX_STATE_BYTES = 64 * 1024 * 1024;

/**
 * Reads the state file. A corrupt file (torn, hand-edited, wrong shape), or anything that is
 * not a regular file (directory, FIFO, symlink: never followed, root must not be led to read
 * or write elsewhere) is renamed aside to `PATH.corrupt-<epochms>` so that it is kept for
 * inspection and not read again. Problems never quote the file's bytes (they go to the log).
 * Throws StateFileError when the file exists but cannot be read at all (e.g. EACCES, EIO).
 */
export function readStateFile(path: string): ReadStateResult {
  const r = readJsonFile(path, snapshotProblem);
  return 'value' in r ? { snapshot: r.value as StateSnapshot } : r;
}

/** A JSON state file whose shape `problemOf` checks (null: fine), read as readStateFile reads one:
 *  a corrupt or irregular file is set aside as PATH.corrupt-<epochms>. */
export function readJsonFile(
  path: string,
  problemOf: (v: unknown) => string | null,
): { value: unknown } | { missing: true } | { corrupt: string; movedTo: string | null; parsed?: unknown } {
  const raw = readRegularFile(path);
  if ('missing' in raw) return raw;
  let problem: string | null;
  let value: unknown;
  let parsed = false;
  if ('problem' in raw) problem = raw.problem;
  else {
    try {
      value = JSON.parse(raw.text);
      parsed = true;
      problem = problemOf(value);
    } catch (e) {
      problem = raw.text.length === 0 ? 'empty file' : `not JSON (${jsonErrorWhere(e)})`;
    }
  }
  if (problem === null) return { value };

  // `parsed`: the JSON of a regular file of the wrong shape, for what a reader may still salvage
  const more = parsed ? { parsed: value } : {};
  const movedTo = `${path}.corrupt-${Date.now()}`;
  try {
    renameSync(path, movedTo);
    return { corrupt: problem, movedTo, ...more };
  } catch {
    return { corrupt: problem, movedTo: null, ...more };
  }
}

function notRegular(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link, not followed';
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';
  return `${kind}, not a regular file`;
}

/** The text of the regular file at `path`; never follows a symlink, never opens a device,
 *  never blocks on a FIFO. */
function readRegularFile(path: string): { text: string } | { problem: string } | { missing: true } {
  const fail = (e: unknown) => {
    const errno = errnoOf(e);
    // Node's message already starts with the errno ("EACCES: permission denied, lstat '…'")
    const hint = errno === 'EACCES' || errno === 'EPERM' ? '; run as the user that runs pcheck (usually root)' : '';
    return new StateFileError(path, errno, `cannot read state file ${path}: ${(e as Error).message}${hint}`);
  };
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return { missing: true };
    throw fail(e);
  }
  if (!st.isFile()) return { problem: notRegular(st) };
  let fd: number;
  try {
    // NOFOLLOW and NONBLOCK: it may have been swapped for a symlink or a FIFO since lstat
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return { missing: true };
    if (errnoOf(e) === 'ELOOP') return { problem: 'a symbolic link, not followed' };
    throw fail(e);
  }
  try {
    st = fstatSync(fd);
    if (!st.isFile()) return { problem: notRegular(st) };
    // what it says decides what pcheck starts, stops and reboots: only its own user may have
    // written it (as sshd's StrictModes trusts a file)
    const me = process.getuid?.();
    if (me !== undefined && st.uid !== me) return { problem: `owned by uid ${st.uid}, not by pcheck's user (uid ${me}): not trusted` };
    if (st.mode & 0o022) return { problem: `writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode 0${(st.mode & 0o7777).toString(8)}): not trusted` };
    if (st.size > MAX_STATE_BYTES) return { problem: `${st.size} bytes, more than any state file` };
    return { text: readFileSync(fd, 'utf8') };
  } catch (e) {
    throw fail(e);
  } finally {
    closeSync(fd);
  }
}

/** Where JSON.parse failed, without the excerpt of the text that V8 puts in its message. */
function jsonErrorWhere(e: unknown): string {
  const m = e instanceof Error ? e.message : '';
  const at = /at position (\d+)/.exec(m)?.[1];
  const where = at === undefined ? '' : ` at position ${at}`;
  return /Unexpected end of JSON input|Unterminated string/.test(m) ? `ends early${where}` : `unexpected content${where}`;
}

/** This boot's id, or '' if it cannot be read (then no two boots are ever taken as the same:
 *  callers must treat '' as "unknown", never compare it as equal). */
export function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
