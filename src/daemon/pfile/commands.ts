// padmin's ProcessSaver commands (SPEC §6), parsed from the text after `-c`.
import { CommandError } from '../shared/requests';

export type PadminCommand =
  | { kind: 'show pent' }
  | { kind: 'show param' }
  | { kind: 'stop' }
  | { kind: 'start' }
  | { kind: 'reload' }
  | { kind: 'stop pent'; id: number }
  | { kind: 'start pent'; id: number }
  | { kind: 'reset pent'; id: number }
  /** who is this pcheck (used by `padmin list`). */
  | { kind: 'info' };

export const COMMAND_HELP =
  "show pent | show param | stop | start | reload | stop pent ID | start pent ID | reset pent ID | list";


export function parseCommand(text: string): PadminCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const head = words.slice(0, 2).join(' ');
  if (words.length === 1 && ['stop', 'start', 'reload', 'info'].includes(words[0])) {
    return { kind: words[0] as 'stop' | 'start' | 'reload' | 'info' };
  }
  if (words.length === 2 && (head === 'show pent' || head === 'show param')) return { kind: head };
  if (head === 'stop pent' || head === 'start pent' || head === 'reset pent') {
    if (words.length !== 3 || !/^[1-9][0-9]*$/.test(words[2])) {
      throw new CommandError(`"${text.trim()}": give the entry's pent_id, e.g. '${head} 1' (see 'show pent')`);
    }
    return { kind: head, id: Number(words[2]) };
  }
  throw new CommandError(`unknown command "${text.trim()}"; commands: ${COMMAND_HELP}`);
}
