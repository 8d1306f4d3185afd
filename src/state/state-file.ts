// The state file (SHM_DUMP_FILE): a JSON snapshot of every entry, replaced atomically on
// each state change so that a restarted pcheck, or padmin with no pcheck, can read it.
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, ProcsafeError } from '../errors';
import { MONITOR_STATES, PROC_STATES } from '../core/states';
import type { EntryState } from '../core/entry-machine';

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
};

export interface StateSnapshot {
  version: 1;
  pfile: string;
  pcheckPid: number;
  /** epoch ms. */
  writtenAt: number;
  /** /proc/sys/kernel/random/boot_id: pids and monotonic times from another boot mean nothing. */
  bootId: string;
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
 * Replaces the file at `path` with `snapshot`, atomically: a crash leaves either the old
 * or the new file, never a torn one. Synchronous so the caller can write the state right
 * before exiting (retry-over `exit`, OS actions).
 */
export function writeStateFile(path: string, snapshot: StateSnapshot): void {
  const dir = dirname(path);
  const tmp = `${path}.tmp-${process.pid}`;
  const data = JSON.stringify(snapshot, null, 2) + '\n';
  let step = 'create directory';
  let fd: number | null = null;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    step = 'create temporary file';
    // O_NOFOLLOW: root must not be tricked into writing through a planted symlink.
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    fchmodSync(fd, 0o600); // a leftover temporary file keeps its old mode through O_CREAT
    step = 'write';
    const buf = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    step = 'fsync';
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    step = 'rename';
    renameSync(tmp, path);
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
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns null if `v` is a valid snapshot, else what is wrong with it. Unknown extra
 *  fields are tolerated, so that a newer pcheck's additions do not void the file. */
export function snapshotProblem(v: unknown): string | null {
  if (!isObject(v)) return 'not a JSON object';
  if (v.version !== STATE_FILE_VERSION) return `unsupported version ${JSON.stringify(v.version)} (expected ${STATE_FILE_VERSION})`;
  if (!isString(v.pfile)) return '"pfile" must be a string';
  if (!isInt(v.pcheckPid) || (v.pcheckPid as number) <= 0) return '"pcheckPid" must be a positive integer';
  if (!isFiniteNum(v.writtenAt)) return '"writtenAt" must be a number (epoch ms)';
  if (!isString(v.bootId)) return '"bootId" must be a string';
  if (!Array.isArray(v.entries)) return '"entries" must be an array';
  for (const [i, e] of (v.entries as unknown[]).entries()) {
    if (!isObject(e)) return `entries[${i}] is not an object`;
    for (const [key, spec] of Object.entries(ENTRY_FIELDS)) {
      if (!(key in e)) {
        if (spec.optional) continue;
        return `entries[${i}].${key} is missing`;
      }
      if (!spec.check(e[key])) return `entries[${i}].${key} has a bad value ${JSON.stringify(e[key])}`;
    }
  }
  return null;
}

/**
 * Reads the state file. A corrupt file (torn, hand-edited, wrong shape) is renamed aside to
 * `PATH.corrupt-<epochms>` so that it is kept for inspection and not read again.
 * Throws StateFileError when the file exists but cannot be read at all (e.g. EACCES).
 */
export function readStateFile(path: string): ReadStateResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === 'ENOENT') return { missing: true };
    throw new StateFileError(path, errno, `cannot read state file ${path}: ${errno}: ${(e as Error).message}`);
  }
  let problem: string | null;
  let value: unknown;
  try {
    value = JSON.parse(text);
    problem = snapshotProblem(value);
  } catch (e) {
    problem = text.length === 0 ? 'empty file' : `not JSON (${(e as Error).message})`;
  }
  if (problem === null) return { snapshot: value as StateSnapshot };

  const movedTo = `${path}.corrupt-${Date.now()}`;
  try {
    renameSync(path, movedTo);
    return { corrupt: problem, movedTo };
  } catch {
    return { corrupt: problem, movedTo: null };
  }
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
