// Runs a restart (or start/stop) script: no shell, a clean environment, a umask of at least
// 022, its output as log lines, and a timeout that kills its whole process group.
import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';

export type ScriptStream = 'stdout' | 'stderr';

export interface RunScriptOptions {
  /** absolute path of an executable; run as is, without a shell. */
  path: string;
  /** its arguments (group start/stop commands from the ini file have some; restart scripts none). */
  args?: readonly string[];
  /** added to the sanitised environment (PS_PNAME, PS_PENT_ID, …). */
  env: Record<string, string>;
  /** the script's process group is killed (SIGKILL) after this long; Infinity = never. */
  timeoutMs: number;
  /** one call per output line, without its newline. */
  onLine: (stream: ScriptStream, line: string) => void;
  /** longest line forwarded (bytes, default 4096); the rest of a longer line is dropped. */
  maxLineBytes?: number;
  /** total bytes forwarded per run (default 1 MiB), then one "... output truncated" line. */
  maxOutputBytes?: number;
  /** how the timeout ends the script (its pid, also its group and session id); default: SIGKILL
   *  to its process group. pcheck passes one that spares the program the script started. */
  kill?: (pid: number) => void;
}

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** why the script could not be started (ENOENT, EACCES, …), or null. */
  spawnError: string | null;
  durationMs: number;
}

export interface RunningScript {
  /** the script's pid, which is also its process group id; null if it could not start.
   *  (Never 0 or -1 in its place: `kill(-pid)` with those would hit our own group or all.) */
  pid: number | null;
  /** resolves when the script has exited; never rejects. */
  done: Promise<ScriptResult>;
}

/** A fixed PATH: the script must not depend on, or be hijacked through, pcheck's own. */
export const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PASSED_THROUGH = ['LANG', 'LC_ALL', 'TZ'] as const;
const DEFAULT_MAX_LINE = 4096;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** After the script exits, how long to collect output still in the pipes. */
const EXIT_DRAIN_MS = 50;
/** After SIGKILL, how long to wait for 'exit' before giving up on it (a process stuck in D state). */
const KILL_GRACE_MS = 5000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The loosest umask a script gets: pcheck started with umask 000 (a careless init script or
 *  cluster agent) must not make every file a root restart script creates writable by all.
 *  A stricter umask of pcheck's own (e.g. 027) is kept. */
export const SCRIPT_UMASK_FLOOR = 0o022;

/**
 * Calls `spawnIt` (a synchronous spawn: fork copies the umask) with the process umask raised
 * to at least SCRIPT_UMASK_FLOOR, then restores it. (The umask briefly reads 022 even when
 * pcheck's is stricter: harmless, pcheck creates its own files with explicit 0600/0700.)
 */
function withScriptUmask<T>(spawnIt: () => T): T {
  const old = process.umask(SCRIPT_UMASK_FLOOR);
  if ((old | SCRIPT_UMASK_FLOOR) !== SCRIPT_UMASK_FLOOR) process.umask(old | SCRIPT_UMASK_FLOOR);
  try {
    return spawnIt();
  } finally {
    process.umask(old);
  }
}

/**
 * How procsafe starts anything it runs for the operator (restart, group and monitor scripts):
 * without a shell, in its own process group (a timeout kills everything it started), with the
 * sanitised environment plus `env`, a umask of at least 022, output on pipes. A PATH lookup
 * of `file` uses that environment's fixed PATH. Throws on invalid arguments.
 */
export function spawnScriptProcess(file: string, args: readonly string[], env: Record<string, string>): ChildProcess {
  return withScriptUmask(() => spawn(file, args, { detached: true, env: scriptEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

export function scriptEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: SCRIPT_PATH };
  for (const k of PASSED_THROUGH) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Forwards lines to onLine within a total budget. */
class Forwarder {
  private used = 0;
  private truncated = false;
  constructor(
    private readonly onLine: RunScriptOptions['onLine'],
    private readonly maxTotal: number,
  ) {}

  line(stream: ScriptStream, buf: Buffer, cut: boolean): void {
    if (this.truncated) return;
    if (this.used + buf.length > this.maxTotal) {
      this.truncated = true;
      this.call(stream, '... output truncated');
      return;
    }
    this.used += buf.length + 1;
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.call(stream, cut ? `${text} ...[line truncated]` : text);
  }

  private call(stream: ScriptStream, text: string): void {
    try {
      this.onLine(stream, text);
    } catch {
      // A faulty log sink must not become an uncaught exception in a stream callback.
    }
  }
}

/** Splits one stream into lines, holding at most maxLine bytes of an unfinished line. */
class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** inside a line already forwarded cut: drop bytes up to its newline. */
  private skipping = false;

  constructor(
    private readonly stream: ScriptStream,
    private readonly maxLine: number,
    private readonly out: Forwarder,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, nl));
      if (this.skipping) this.skipping = false;
      else this.emit(false);
      start = nl + 1;
    }
  }

  /** The last line, if it had no newline. */
  flush(): void {
    if (!this.skipping && this.pendingLen > 0) this.emit(false);
  }

  private append(seg: Buffer): void {
    if (this.skipping || seg.length === 0) return;
    this.pending.push(seg);
    this.pendingLen += seg.length;
    if (this.pendingLen > this.maxLine) {
      this.emit(true);
      this.skipping = true;
    }
  }

  private emit(cut: boolean): void {
    let line = Buffer.concat(this.pending, this.pendingLen);
    if (line.length > this.maxLine) line = line.subarray(0, this.maxLine);
    this.pending = [];
    this.pendingLen = 0;
    this.out.line(this.stream, line, cut);
  }
}

/** The errno, with what it usually means for a script. */
function describeSpawnError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'ENOENT (no such file, or the interpreter on its #! line is missing)';
    case 'EACCES':
      return 'EACCES (permission denied: is it executable, and its directories searchable?)';
    default:
      return err.code ?? err.message;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

function failed(path: string, why: string, started: number): RunningScript {
  return {
    pid: null,
    done: Promise.resolve({
      code: null,
      signal: null,
      timedOut: false,
      spawnError: `cannot execute ${path}: ${why}`,
      durationMs: performance.now() - started,
    }),
  };
}

/**
 * Starts the script and returns at once. `done` resolves at the script's own exit, not
 * when its pipes close: a restart script normally leaves a daemon in the background that
 * inherited its stdout, and that daemon must neither keep us waiting nor be killed.
 */
export function runScript(opts: RunScriptOptions): RunningScript {
  const started = performance.now();
  if (!isAbsolute(opts.path)) return failed(opts.path, 'not an absolute path', started);
  let child: ChildProcess;
  try {
    child = spawnScriptProcess(opts.path, opts.args ?? [], opts.env);
  } catch (e) {
    // Invalid arguments (e.g. a NUL byte in the environment) throw instead of emitting.
    return failed(opts.path, (e as Error).message, started);
  }
  const pid = child.pid ?? null;
  if (pid === null) {
    const done = new Promise<ScriptResult>((resolve) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        resolve({
          code: null,
          signal: null,
          timedOut: false,
          spawnError: `cannot execute ${opts.path}: ${describeSpawnError(err)}`,
          durationMs: performance.now() - started,
        });
      });
    });
    return { pid, done };
  }
  return { pid, done: supervise(child, pid, opts, started) };
}

function supervise(child: ChildProcess, pid: number, opts: RunScriptOptions, started: number): Promise<ScriptResult> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
  const out = new Forwarder(opts.onLine, opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const streams: [ScriptStream, Readable][] = [
    ['stdout', child.stdout as Readable],
    ['stderr', child.stderr as Readable],
  ];
  let forwarding = true;
  let open = streams.length;
  let onAllEnded: (() => void) | null = null;
  const splitters = streams.map(([name, s]) => {
    const sp = new LineSplitter(name, maxLine, out);
    s.on('data', (chunk: Buffer) => {
      if (forwarding) sp.push(chunk);
    });
    s.on('error', () => {}); // EPIPE/ECONNRESET on a pipe: nothing to do
    s.once('close', () => {
      if (--open === 0) onAllEnded?.();
    });
    return sp;
  });

  return new Promise<ScriptResult>((resolve) => {
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    const timer = Number.isFinite(opts.timeoutMs)
      ? setTimeout(
          () => {
            timedOut = true;
            (opts.kill ?? killGroup)(pid);
            killTimer = setTimeout(() => settle(null, null), KILL_GRACE_MS);
          },
          Math.min(Math.max(opts.timeoutMs, 1), MAX_TIMER_MS),
        )
      : null;

    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const durationMs = performance.now() - started;
      const finish = (): void => {
        if (!forwarding) return;
        forwarding = false;
        for (const sp of splitters) sp.flush();
        // A background child still holding a pipe: keep draining it, unreferenced, rather
        // than closing it — a daemon writing to a closed pipe would die of SIGPIPE. The
        // pipe closes by itself when the last holder exits.
        for (const [, s] of streams) {
          if (!s.destroyed) {
            (s as Readable & { unref?: () => void }).unref?.();
            s.resume();
          }
        }
        resolve({ code, signal, timedOut, spawnError: null, durationMs });
      };
      if (open === 0) finish();
      else {
        const drainTimer = setTimeout(finish, EXIT_DRAIN_MS);
        onAllEnded = () => {
          clearTimeout(drainTimer);
          finish();
        };
      }
    };

    child.once('exit', (code, signal) => settle(code, signal));
    // After a successful spawn, 'error' only reports a failed kill/send: not an outcome.
    child.on('error', () => {});
  });
}
