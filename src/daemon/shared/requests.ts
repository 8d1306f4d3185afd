// The shells both daemons share around their control sockets: a command that cannot be parsed is
// answered UNKNOWN_COMMAND with what to type; a reload that cannot be applied is refused with the
// reason, logged, and the running configuration stays (SPEC §10 "Reload": padmin says `refused`).
import { ControlErrorCode, type ControlResponse } from '../../control/protocol';
import type { Logger } from '../../log/logger';

/** A command padmin sent that is not one: its message says what to type instead. */
export class CommandError extends Error {}

/** `parse(text)`, or the answer to a command that is none. */
export function parseRequest<T>(text: string, parse: (text: string) => T): T | ControlResponse {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof CommandError) return { ok: false, code: ControlErrorCode.UNKNOWN_COMMAND, error: e.message };
    throw e;
  }
}

/** The answer to a reload (padmin, SIGHUP, a file watch) that is refused: logged once, and sent. */
export function refuseReload(log: Logger, by: string, reason: string): ControlResponse {
  log.err(`Reload refused (${by}): ${reason}; the running configuration stays`);
  return { ok: false, code: ControlErrorCode.REFUSED, error: reason };
}

/** An error the operator fixes in a file: its message (file, line, key), else the error's text. */
export function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
