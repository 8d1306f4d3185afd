// padmin's ProcessSaver commands (SPEC §6) against the entries of one pfile, on the control
// socket of its IPCKEY: the same answers whether pcheck -f runs the pfile or a FailSafe daemon
// holds it in a group.
import { ControlErrorCode as ErrorCode, type ControlRequest, type ControlResponse } from '../../control/protocol';
import { sameFile } from '../../config/same-file';
import type { Logger } from '../../log/logger';
import { nativeAddonFile } from '../../native/index';
import type { DeathWatcher } from '../../proc/types';
import { formatShowParam, formatShowPent } from '../../views/pent-view';
import type { EntrySet } from '../entries/entry-set';
import { parseRequest } from '../shared/requests';
import { deathWatchOf, deathWatchText } from '../shared/watcher';
import { parseCommand } from './commands';

export interface PadminTarget {
  set: EntrySet;
  watcher: DeathWatcher;
  log: Logger;
  /** re-reads the pfile (refused: REFUSED with the reason, the running entries stay) */
  reload(by: 'padmin'): ControlResponse;
}

/** `Command execute. [WHAT] pfile='PATH'`: what the operator asked, in the log. */
export function logCommand(log: Logger, what: string, pfile: string): void {
  log.notice(`Command execute. [${what}] pfile='${pfile}'`);
}

export function answerPadmin(t: PadminTarget, req: ControlRequest): ControlResponse {
  const set = t.set;
  // padmin names the pfile it means: a pcheck that runs another one does nothing
  const meant = req.args?.pfile;
  if (typeof meant === 'string' && !sameFile(meant, set.path)) {
    return { ok: false, code: ErrorCode.WRONG_PFILE, error: `this pcheck (pid ${process.pid}) runs pfile ${set.path}, not ${meant}` };
  }
  const cmd = parseRequest(req.command, parseCommand);
  if ('ok' in cmd) return cmd;
  switch (cmd.kind) {
    case 'show pent': {
      // padmin asks for one form: text, or JSON (`--json`); both when it does not say
      const format = req.args?.format;
      const views = set.views();
      if (format === 'json') return { ok: true, data: views };
      if (format === 'text') return { ok: true, text: formatShowPent(views) };
      return { ok: true, text: formatShowPent(views), data: views };
    }
    case 'show param': {
      const watch = deathWatchOf(t.watcher);
      const param = set.param();
      const data = { ...param, deathWatch: watch.mode, deathWatchReason: watch.reason, nativeAddon: nativeAddonFile() };
      return { ok: true, text: formatShowParam(param, [['DEATH_WATCH', deathWatchText(watch)]]), data };
    }
    case 'info':
      return { ok: true, data: { pfile: set.path, pid: process.pid, ipckey: set.param().ipckeyText, entries: set.size, deathWatch: t.watcher.mode } };
    case 'stop':
    case 'start':
      logCommand(t.log, cmd.kind, set.path);
      set.setMonitoring(cmd.kind === 'start');
      return { ok: true, text: `monitoring ${cmd.kind === 'stop' ? 'stopped' : 'started'} for ${set.size} entries` };
    case 'reload':
      return t.reload('padmin');
    case 'stop pent':
    case 'start pent':
    case 'reset pent': {
      const op = cmd.kind === 'stop pent' ? 'stop' : cmd.kind === 'start pent' ? 'start' : 'reset';
      if (!set.views().some((v) => v.pent_id === cmd.id)) {
        return { ok: false, code: ErrorCode.BAD_ARGUMENT, error: `no entry with pent_id ${cmd.id}; this pfile has pent_id 1 to ${set.size}` };
      }
      logCommand(t.log, `${cmd.kind} ${cmd.id}`, set.path);
      const view = set.pent(op, cmd.id)!;
      return { ok: true, text: formatShowPent([view]), data: view };
    }
  }
}
