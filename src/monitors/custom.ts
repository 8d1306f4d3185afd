// `custom` monitor: a command (argv, no shell), like CLUSTERPRO's genw.
// - sync: run it on each check; exit 0 = ok. At the timeout its whole process group is
//   killed (SIGKILL) and the check fails.
// - async: the command is started on the first check and keeps running; each check is ok
//   while it runs and fails once it has exited (the detail has its exit code and last
//   output line). That same failing check starts it again, so the next check judges the
//   new run: a command that keeps dying fails every check and the daemon's retries count
//   up, while one that died once is ok again on the next check. close() kills its group.
// The command gets the script environment (fixed PATH, LANG/LC_ALL/TZ) plus PS_MONITOR.
import { CommandRunner, describeExit, startCommand, type CommandResult, type RunningCommand } from './command';
import type { Probe, ProbeResult } from './types';
import { deadline, notInTime } from './util';

function withOutput(r: CommandResult): string {
  return r.lastLine !== '' ? `${describeExit(r)}: ${r.lastLine}` : describeExit(r);
}

export function createCustomSyncProbe(name: string, command: readonly string[]): Probe {
  const runner = new CommandRunner();
  const shown = command.join(' ');

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    const dl = deadline(signal, timeoutMs);
    try {
      const out = await runner.run(command, { PS_MONITOR: name }, dl);
      if (out.kind === 'stuck') return { ok: false, detail: `${shown}: the previous run (pid ${out.pid}) was killed but has not exited` };
      if (out.kind === 'deadline') return { ok: false, detail: `${shown}: ${notInTime(dl.why(), timeoutMs, 'waiting for it')} (process group killed)` };
      const r = out.result;
      const ms = Math.round(r.durationMs);
      if (r.code === 0) return { ok: true, detail: `${shown}: exit code 0 in ${ms} ms` };
      return { ok: false, detail: `${shown}: ${withOutput(r)}${r.spawnError === null ? ` after ${ms} ms` : ''}` };
    } finally {
      dl.dispose();
    }
  }

  return { check, close: () => runner.close() };
}

export function createCustomAsyncProbe(name: string, command: readonly string[]): Probe {
  const shown = command.join(' ');
  let current: RunningCommand | null = null;
  let startedAt = 0;
  let closed = false;

  function start(): RunningCommand {
    startedAt = performance.now();
    current = startCommand(command, { PS_MONITOR: name });
    return current;
  }

  // Instant: it only looks at the command's state, so there is nothing to time out.
  async function check(_signal: AbortSignal, _timeoutMs: number): Promise<ProbeResult> {
    if (closed) return { ok: false, detail: `${shown}: monitor closed` };
    if (current === null) {
      const cmd = start();
      if (cmd.pid === null) {
        // could not start: report why, and try again on the next check
        const r = await cmd.exited;
        current = null;
        return { ok: false, detail: `${shown}: ${describeExit(r)}` };
      }
      return { ok: true, detail: `${shown}: started, pid ${cmd.pid}` };
    }
    const cmd = current;
    if (!cmd.hasExited()) {
      return { ok: true, detail: `${shown}: pid ${cmd.pid} running for ${Math.round((performance.now() - startedAt) / 1000)} s` };
    }
    const r = await cmd.exited; // already settled
    const again = start(); // see the file comment: the next check judges this new run
    if (again.pid === null) current = null;
    const restarted = again.pid !== null ? `restarted as pid ${again.pid}` : 'restart failed';
    return { ok: false, detail: `${shown}: pid ${cmd.pid} exited after ${(r.durationMs / 1000).toFixed(1)} s, ${withOutput(r)}; ${restarted}` };
  }

  return {
    check,
    close: () => {
      closed = true;
      current?.kill();
      current = null;
    },
  };
}
