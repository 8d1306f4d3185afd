// Runs a monitor's command (an argv, no shell) in its own process group. runScript in
// src/exec takes a bare path without arguments, so this is the thin argv version for
// probes; it borrows runScript's sanitised environment (fixed PATH, LANG/LC_ALL/TZ).
// A probe's command is part of its check, so whatever it leaves in its process group
// (a backgrounded helper) is killed when it exits: checks every few seconds must not
// pile up strays.
import type { ChildProcess } from 'node:child_process';
import { spawnScriptProcess } from '../exec/run-script';
import type { Deadline } from './util';

export interface CommandResult {
  /** exit code, or null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** why it could not be started (ENOENT, EACCES, …), or null. */
  spawnError: string | null;
  /** the last non-empty line of its stdout+stderr, cut to LAST_LINE_MAX; '' if none. */
  lastLine: string;
  durationMs: number;
}

export interface RunningCommand {
  /** pid and process group id; null if it could not be started. */
  readonly pid: number | null;
  /** resolves once it has exited (or failed to start); never rejects. */
  readonly exited: Promise<CommandResult>;
  /** true once `exited` has resolved. */
  hasExited(): boolean;
  /** SIGKILL to its whole process group; nothing once it has exited. */
  kill(): void;
}

const LAST_LINE_MAX = 200;
/** Output kept to find the last line: enough for one long line. */
const TAIL_MAX = 4096;
/** After the exit, how long to wait for output still in the pipes. */
const DRAIN_MS = 100;

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group
  }
}

function lastLineOf(tail: string): string {
  const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.length > 0 ? lines[lines.length - 1] : '';
  return last.length > LAST_LINE_MAX ? `${last.slice(0, LAST_LINE_MAX)}…` : last;
}

/** Starts argv detached (its own process group) with the script environment plus `env`. */
export function startCommand(argv: readonly string[], env: Record<string, string> = {}): RunningCommand {
  const started = performance.now();
  const result = (r: Partial<CommandResult>): CommandResult => ({
    code: null,
    signal: null,
    spawnError: null,
    lastLine: '',
    durationMs: performance.now() - started,
    ...r,
  });
  let exited = false;
  const settled = (p: Promise<CommandResult>): Promise<CommandResult> =>
    p.then((r) => {
      exited = true;
      return r;
    });
  const failed = (why: string): RunningCommand => ({
    pid: null,
    exited: settled(Promise.resolve(result({ spawnError: why }))),
    hasExited: () => exited,
    kill: () => {},
  });

  if (argv.length === 0 || argv[0] === '') return failed('empty command');
  let child: ChildProcess;
  try {
    child = spawnScriptProcess(argv[0], argv.slice(1), env);
  } catch (e) {
    return failed(e instanceof Error ? e.message : String(e));
  }
  const pid = child.pid ?? null;
  let tail = '';
  for (const s of [child.stdout, child.stderr]) {
    s?.setEncoding('utf8');
    s?.on('data', (d: string) => {
      tail = (tail + d).slice(-TAIL_MAX);
    });
    s?.on('error', () => {});
  }
  const done = new Promise<CommandResult>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only a failed spawn ends here: after a successful one, 'error' is a failed kill.
      if (pid === null) resolve(result({ spawnError: `cannot execute ${argv[0]}: ${err.code ?? err.message}` }));
    });
    child.once('exit', (code, signal) => {
      const durationMs = performance.now() - started;
      if (pid !== null) killGroup(pid); // its leftovers (see the file comment)
      const finish = (): void => resolve(result({ code, signal, lastLine: lastLineOf(tail), durationMs }));
      if (child.stdout?.closed !== false && child.stderr?.closed !== false) finish();
      else {
        const t = setTimeout(finish, DRAIN_MS);
        child.once('close', () => {
          clearTimeout(t);
          finish();
        });
      }
    });
  });
  return {
    pid,
    exited: settled(done),
    hasExited: () => exited,
    kill: () => {
      if (pid !== null && !exited) killGroup(pid);
    },
  };
}

/** "exit code 3", "killed by SIGTERM", or why it did not start. */
export function describeExit(r: CommandResult): string {
  if (r.spawnError !== null) return r.spawnError;
  if (r.signal !== null) return `killed by ${r.signal}`;
  return `exit code ${r.code ?? '?'}`;
}

export type RunOutcome =
  | { kind: 'exited'; result: CommandResult }
  /** the deadline fired first; the command's group has been killed. */
  | { kind: 'deadline'; pid: number | null }
  /** the run before this one was killed but has not exited (stuck in D state): no new one. */
  | { kind: 'stuck'; pid: number | null };

/**
 * Runs a command to completion for each check, one at a time. A command killed at its
 * deadline normally exits at once; one that does not (stuck in the kernel on a hung
 * mount or device) is not joined by another copy on every later check.
 */
export class CommandRunner {
  private last: RunningCommand | null = null;

  async run(argv: readonly string[], env: Record<string, string>, dl: Deadline): Promise<RunOutcome> {
    if (this.last !== null && !this.last.hasExited()) return { kind: 'stuck', pid: this.last.pid };
    const cmd = startCommand(argv, env);
    this.last = cmd;
    const result = await new Promise<CommandResult | null>((resolve) => {
      const onAbort = (): void => resolve(null);
      if (dl.signal.aborted) return resolve(null);
      dl.signal.addEventListener('abort', onAbort, { once: true });
      void cmd.exited.then((r) => {
        dl.signal.removeEventListener('abort', onAbort);
        resolve(r);
      });
    });
    if (result !== null) return { kind: 'exited', result };
    cmd.kill();
    return { kind: 'deadline', pid: cmd.pid };
  }

  close(): void {
    this.last?.kill();
  }
}
