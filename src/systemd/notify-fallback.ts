// sd_notify without the native addon: systemd-notify(1), one run per notification, sending as
// pcheck's pid (`--pid`; see notify.ts for why that satisfies NotifyAccess=main). A run costs
// a fork and exec (p50 14 ms on a loaded 2-core VM, 100 ms at worst), so only READY=1 and STOPPING=1 wait for it
// (they must arrive, and in order); STATUS= and WATCHDOG=1 go in the background, one run at a
// time, and what comes in meanwhile is merged into the next run (the latest STATUS= wins), so
// a burst of state changes during a mass death never blocks the loop nor forks a crowd.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface FallbackSender {
  /** Runs systemd-notify and waits for it: the error, or null. */
  now(lines: readonly string[]): string | null;
  /** Queues the lines; `report` gets each run's error (or null) when it ends. */
  soon(lines: readonly string[]): void;
}

const ENV_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export function systemdNotifySender(tool: string, socket: string, report: (err: string | null) => void): FallbackSender {
  const args = (lines: readonly string[]) => ['--no-block', `--pid=${process.pid}`, ...lines];
  const env = { NOTIFY_SOCKET: socket, PATH: ENV_PATH };
  /** pending lines by their key (STATUS, WATCHDOG), sent by the next run */
  const pending = new Map<string, string>();
  let running = false;

  const outcome = (status: number | null, signal: string | null, stderr: string): string | null =>
    status === 0 ? null : `${tool} exited with ${status ?? signal}: ${stderr.trim().split('\n')[0]}`;

  const next = (): void => {
    if (running || pending.size === 0) return;
    const lines = [...pending.values()];
    pending.clear();
    running = true;
    let stderr = '';
    const done = (err: string | null) => {
      running = false;
      report(err);
      next();
    };
    try {
      const child = spawn(tool, args(lines), { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', (e: NodeJS.ErrnoException) => done(`${tool}: ${e.code ?? e.message}`));
      child.once('close', (status, signal) => done(outcome(status, signal, stderr)));
    } catch (e) {
      done(`${tool}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return {
    now(lines) {
      const r = spawnSync(tool, args(lines), { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 5000 });
      if (r.error) return `${tool}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
      return outcome(r.status, r.signal, r.stderr ?? '');
    },
    soon(lines) {
      for (const l of lines) pending.set(l.slice(0, l.indexOf('=')), l);
      next();
    },
  };
}

/** systemd-notify on $PATH (then /usr/bin, /bin), or null. */
export function findSystemdNotify(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/')), '/usr/bin', '/bin'];
  for (const d of dirs) {
    const file = join(d, 'systemd-notify');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}
