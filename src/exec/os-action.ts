// OS actions of a retry-over or a final action: shutdown, reboot, panic. Real ones end the
// machine; `--rehearse` records what would have run instead.
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { ExitCode, ProcsafeError } from '../errors';
import type { OsAction } from '../core/states';

export interface OsActionOptions {
  rehearse: boolean;
  /** in rehearse mode, a file to append one line per action to. */
  rehearseLog?: string;
}

export interface OsActionResult {
  rehearsed: boolean;
  /** the command, as a human would type it (for the log and the rehearse line). */
  command: string;
}

type Step =
  | { kind: 'exec'; file: string; args: string[] }
  /** optional: a failure does not stop the attempt. */
  | { kind: 'write'; file: string; data: string; optional?: true };

interface Plan {
  command: string;
  /** alternatives, tried in order until one succeeds. */
  attempts: Step[][];
}

const SYSRQ_ENABLE = '/proc/sys/kernel/sysrq';
const SYSRQ_TRIGGER = '/proc/sysrq-trigger';

/** What each action does. Pure, so tests can check it without ending the machine. */
export function osActionPlan(action: OsAction): Plan {
  switch (action) {
    case 'shutdown':
      return {
        command: '/sbin/shutdown -h now',
        attempts: [
          [{ kind: 'exec', file: '/sbin/shutdown', args: ['-h', 'now'] }],
          [{ kind: 'exec', file: 'systemctl', args: ['poweroff'] }],
        ],
      };
    case 'reboot':
      return {
        command: '/sbin/shutdown -r now',
        attempts: [
          [{ kind: 'exec', file: '/sbin/shutdown', args: ['-r', 'now'] }],
          [{ kind: 'exec', file: 'systemctl', args: ['reboot'] }],
        ],
      };
    case 'panic':
      return {
        command: `echo 1 > ${SYSRQ_ENABLE}; echo c > ${SYSRQ_TRIGGER}`,
        attempts: [
          [
            // Enabling sysrq first: distributions restrict it by default (e.g. 176, 438).
            // Optional, since root's writes to sysrq-trigger work whatever that setting says.
            { kind: 'write', file: SYSRQ_ENABLE, data: '1', optional: true },
            { kind: 'write', file: SYSRQ_TRIGGER, data: 'c' },
          ],
        ],
      };
  }
}

/** Runs one step; returns null on success, else why it failed. */
function runStep(step: Step): string | null {
  if (step.kind === 'write') {
    try {
      writeFileSync(step.file, step.data);
      return null;
    } catch (e) {
      return `write ${step.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }
  const r = spawnSync(step.file, step.args, { stdio: 'ignore', timeout: 30_000 });
  const what = [step.file, ...step.args].join(' ');
  if (r.error) return `${what}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  if (r.status !== 0) return `${what}: exit ${r.status ?? r.signal}`;
  return null;
}

/**
 * Does `action` (or, rehearsing, records it). The caller has logged FATAL, written its
 * state and flushed its logs; this function syncs the disks first. Returns when a real
 * shutdown/reboot was accepted (the machine goes down soon after); throws ProcsafeError if
 * every way of doing it failed.
 */
export async function runOsAction(action: OsAction, opts: OsActionOptions): Promise<OsActionResult> {
  const plan = osActionPlan(action);
  if (opts.rehearse) {
    if (opts.rehearseLog !== undefined) {
      const line = `${new Date().toISOString()} REHEARSE ${action}: would run ${plan.command}\n`;
      try {
        appendFileSync(opts.rehearseLog, line, { mode: 0o600 });
      } catch (e) {
        throw new ProcsafeError(
          `cannot record rehearsed ${action} in ${opts.rehearseLog}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          ExitCode.FAILURE,
        );
      }
    }
    return { rehearsed: true, command: plan.command };
  }

  spawnSync('sync', { stdio: 'ignore', timeout: 60_000 }); // a panic loses whatever is not on disk
  const failures: string[] = [];
  for (const steps of plan.attempts) {
    let why: string | null = null;
    for (const step of steps) {
      const w = runStep(step);
      if (w !== null && !(step.kind === 'write' && step.optional)) {
        why = w;
        break;
      }
    }
    if (why === null) return { rehearsed: false, command: plan.command };
    failures.push(why);
  }
  throw new ProcsafeError(`${action} failed: ${failures.join('; ')}`, ExitCode.FAILURE);
}
