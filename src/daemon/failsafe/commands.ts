// padmin's FailSafe-mode subcommands (SPEC §8), parsed from the words after `padmin`.
import { CommandError } from '../shared/requests';

export type FailsafeCommand =
  | { kind: 'status' }
  | { kind: 'reload' }
  | { kind: 'alerts' }
  | { kind: 'group'; op: 'start' | 'stop' | 'restart'; name: string }
  | { kind: 'monitor'; op: 'suspend' | 'resume' | 'clear'; name: string };

export const FAILSAFE_HELP = 'status | reload | alerts | collect-logs | group start|stop|restart NAME | monitor suspend|resume|clear NAME';


export function parseFailsafeCommand(text: string): FailsafeCommand {
  const w = text.trim().split(/\s+/).filter(Boolean);
  if (w.length === 1 && (w[0] === 'status' || w[0] === 'reload' || w[0] === 'alerts')) return { kind: w[0] };
  if (w[0] === 'group' && ['start', 'stop', 'restart'].includes(w[1] ?? '')) {
    if (w.length !== 3) throw new CommandError(`"${text.trim()}": name the group, e.g. 'group ${w[1]} web' (see 'padmin status')`);
    return { kind: 'group', op: w[1] as 'start' | 'stop' | 'restart', name: w[2] };
  }
  if (w[0] === 'monitor' && ['suspend', 'resume', 'clear'].includes(w[1] ?? '')) {
    if (w.length !== 3) throw new CommandError(`"${text.trim()}": name the monitor, e.g. 'monitor ${w[1]} web-http' (see 'padmin status')`);
    return { kind: 'monitor', op: w[1] as 'suspend' | 'resume' | 'clear', name: w[2] };
  }
  throw new CommandError(`unknown command "${text.trim()}"; commands: ${FAILSAFE_HELP}`);
}
