// FailSafe mode in a sandbox: an ini file, pcheck --config, and padmin status as JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PADMIN, Sandbox, waitFor, type Pcheck } from './harness';
import type { StatusView } from '../../src/views/status-view';

/** The pids listed in `file` (one a line, as start scripts append `$!`) that still run (a
 *  zombie, killed and not yet reaped, does not). */
export function livePids(file: string): number[] {
  return (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => existsSync(`/proc/${p}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8')));
}

export class FailsafeSandbox extends Sandbox {
  readonly iniPath = join(this.dir, 'procsafe.ini');

  /** A FailSafe state file in the sandbox, for `[daemon] state_file` (ini()'s `daemonKeys`). */
  readonly stateFile = join(this.dir, 'state', 'failsafe.state');

  /** Writes the ini file: a [daemon] section for the sandbox (plus `daemonKeys` lines), then `body`. */
  ini(body: string, daemonKeys = ''): string {
    const daemon = `[daemon]\nname = testhost\nsyslog = off\nlog_file = ${join(this.dir, 'procsafe.log')}\n${daemonKeys}`;
    writeFileSync(this.iniPath, `${daemon}\n${body}\n`);
    return this.iniPath;
  }

  failsafe(args: string[] = ['--rehearse'], env: Record<string, string> = {}): Pcheck {
    return this.spawnPcheck(['--config', this.iniPath, ...args], env);
  }

  admin(...words: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [PADMIN, ...words], { env: this.env(), encoding: 'utf8', timeout: 10_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  status(): StatusView {
    const r = this.admin('status', '--json');
    if (r.code !== 0) throw new Error(`padmin status exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as StatusView;
  }

  monitor(name: string): StatusView['monitors'][number] {
    const m = this.status().monitors.find((x) => x.name === name);
    if (!m) throw new Error(`no monitor ${name}`);
    return m;
  }

  group(name: string): StatusView['groups'][number] {
    const g = this.status().groups.find((x) => x.name === name);
    if (!g) throw new Error(`no group ${name}`);
    return g;
  }

  /** Waits until the status satisfies `ok`; returns it. */
  async until(what: string, ok: (s: StatusView) => boolean, timeoutMs = 15_000): Promise<StatusView> {
    return waitFor(
      () => {
        try {
          const s = this.status();
          return ok(s) ? s : null;
        } catch {
          return null; // not answering yet
        }
      },
      timeoutMs,
      what,
      50,
    );
  }
}
