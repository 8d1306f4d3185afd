// Runs a restart (or start/stop) script: no shell, a clean environment, a umask of at least
// 022, its output as log lines, and a timeout that kills its whole process group.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import { FileCapture } from './file-capture';
import { Forwarder, LineSplitter, type ScriptStream } from './script-lines';
import type { RunFiles, ScriptOutputDir } from './script-output-dir';

export type { ScriptStream } from './script-lines';

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
  /** the script's stdout and stderr go to this pair of files (ScriptOutputDir.pairName) instead
   *  of pipes, so that a program it starts in the background survives pcheck. Without it, or when
   *  the files cannot be opened (then `onFallback` says why), pipes. */
  output?: { dir: ScriptOutputDir; name: string; onFallback?: (why: string) => void };
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
export function spawnScriptProcess(file: string, args: readonly string[], env: Record<string, string>, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return withScriptUmask(() => spawn(file, args, { detached: true, env: scriptEnv(env), stdio }));
}

export function scriptEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: SCRIPT_PATH };
  for (const k of PASSED_THROUGH) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
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
  const files = openOutput(opts);
  let child: ChildProcess;
  try {
    child = spawnScriptProcess(opts.path, opts.args ?? [], opts.env, files ? ['ignore', ...files.child] : undefined);
  } catch (e) {
    // Invalid arguments (e.g. a NUL byte in the environment) throw instead of emitting.
    if (files) releaseUnused(opts, files);
    return failed(opts.path, (e as Error).message, started);
  } finally {
    // the child has its own copies
    for (const fd of files?.child ?? []) closeSync(fd);
  }
  const pid = child.pid ?? null;
  if (pid === null) {
    if (files) releaseUnused(opts, files);
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
  return { pid, done: supervise(child, pid, opts, started, files) };
}

/** The output files of this run, or null: pipes (none asked for, or they cannot be opened). */
function openOutput(opts: RunScriptOptions): RunFiles | null {
  if (!opts.output) return null;
  try {
    return opts.output.dir.openRun(opts.output.name);
  } catch (e) {
    opts.output.onFallback?.(e instanceof Error ? e.message : String(e));
    return null;
  }
}

function releaseUnused(opts: RunScriptOptions, files: RunFiles): void {
  closeSync(files.read.stdout);
  closeSync(files.read.stderr);
  opts.output?.dir.release(files.name);
}

/** Where the script's output is read from; finish() is called at its exit. */
interface Capture {
  /** resolves once the output written up to the exit has been passed on */
  finish(): Promise<void>;
}

/** Files: read up to where they stood at the exit; a program left behind writes on into them. */
function captureFiles(dir: ScriptOutputDir, files: RunFiles, splitters: Record<ScriptStream, LineSplitter>, out: Forwarder): Capture {
  const sink = (s: ScriptStream) => ({
    push: (chunk: Buffer) => splitters[s].push(chunk),
    skipped(bytes: number) {
      splitters[s].resync();
      if (bytes > 0) out.note(s, `... ${bytes} bytes of output skipped (written faster than pcheck reads)`);
    },
  });
  const cap = new FileCapture(dir, files, { stdout: sink('stdout'), stderr: sink('stderr') });
  return { finish: () => cap.finish() };
}

/** Pipes: read until the script exits, then (after a short drain) no more; a background child
 *  still holding a pipe is drained, unreferenced, rather than closed — a daemon writing to a
 *  closed pipe would die of SIGPIPE. The pipe closes by itself when the last holder exits. */
function capturePipes(child: ChildProcess, splitters: Record<ScriptStream, LineSplitter>): Capture {
  const streams: [ScriptStream, Readable][] = [
    ['stdout', child.stdout as Readable],
    ['stderr', child.stderr as Readable],
  ];
  let forwarding = true;
  let open = streams.length;
  let onAllEnded: (() => void) | null = null;
  for (const [name, s] of streams) {
    s.on('data', (chunk: Buffer) => {
      if (forwarding) splitters[name].push(chunk);
    });
    s.on('error', () => {}); // EPIPE/ECONNRESET on a pipe: nothing to do
    s.once('close', () => {
      if (--open === 0) onAllEnded?.();
    });
  }
  return {
    finish: () =>
      new Promise<void>((resolve) => {
        const stop = (): void => {
          if (!forwarding) return;
          forwarding = false;
          for (const [, s] of streams) {
            if (!s.destroyed) {
              (s as Readable & { unref?: () => void }).unref?.();
              s.resume();
            }
          }
          resolve();
        };
        if (open === 0) return stop();
        const drainTimer = setTimeout(stop, EXIT_DRAIN_MS);
        onAllEnded = () => {
          clearTimeout(drainTimer);
          stop();
        };
      }),
  };
}

function supervise(child: ChildProcess, pid: number, opts: RunScriptOptions, started: number, files: RunFiles | null): Promise<ScriptResult> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
  const out = new Forwarder(opts.onLine, opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const splitters = { stdout: new LineSplitter('stdout', maxLine, out), stderr: new LineSplitter('stderr', maxLine, out) };
  const capture = files && opts.output ? captureFiles(opts.output.dir, files, splitters, out) : capturePipes(child, splitters);

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
      void capture.finish().then(() => {
        splitters.stdout.flush();
        splitters.stderr.flush();
        resolve({ code, signal, timedOut, spawnError: null, durationMs });
      });
    };

    child.once('exit', (code, signal) => settle(code, signal));
    // After a successful spawn, 'error' only reports a failed kill/send: not an outcome.
    child.on('error', () => {});
  });
}
