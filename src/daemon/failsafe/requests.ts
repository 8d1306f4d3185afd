// padmin's FailSafe subcommands (SPEC §8) and the web page's operations, which take the same
// path: status, reload, alerts, group start|stop|restart, monitor suspend|resume|clear. An
// operator's `group stop` is kept (monitors do not start the group again) until the operator
// starts it, also across a restart of pcheck.
import { formatAlerts } from '../../alerts/alerter';
import { ControlErrorCode, type ControlRequest, type ControlResponse } from '../../control/protocol';
import { formatStatus } from '../../views/status-view';
import { parseRequest } from '../shared/requests';
import { parseFailsafeCommand } from './commands';
import type { Rooms } from './rooms';
import { statusOf } from './status';

export function answerFailsafe(r: Rooms, req: ControlRequest, reload: (by: string) => ControlResponse): ControlResponse {
  if (req.command === 'info') {
    return { ok: true, data: { mode: 'failsafe', config: r.cfg.path, pid: process.pid, name: r.cfg.daemon.name } };
  }
  const cmd = parseRequest(req.command, parseFailsafeCommand);
  if ('ok' in cmd) return cmd;
  switch (cmd.kind) {
    case 'status': {
      const v = statusOf(r);
      return { ok: true, text: formatStatus(v), data: v };
    }
    case 'reload':
      return reload('padmin');
    case 'alerts': {
      const events = r.alerter?.recent(50) ?? [];
      return { ok: true, text: formatAlerts(events), data: events };
    }
    case 'group': {
      if (!r.groups.get(cmd.name)) return { ok: false, code: ControlErrorCode.BAD_ARGUMENT, error: `no group "${cmd.name}"; groups: ${r.groups.names().join(', ') || '(none)'}` };
      if (r.stopping()) return { ok: false, code: ControlErrorCode.REFUSED, error: 'pcheck is stopping' };
      r.log.notice(`Command execute. [group ${cmd.op} ${cmd.name}] config='${r.cfg.path}'`);
      // an operator's restart is a group restart too, for the alert log and the page
      if (cmd.op === 'restart') r.emit('group_restart', cmd.name, `Command execute. [group restart ${cmd.name}]`, { group: cmd.name, by: 'operator' });
      const g = r.groups.operator(cmd.op, cmd.name)!;
      return { ok: true, text: `group ${cmd.name}: ${cmd.op} requested (now ${g.state})` };
    }
    case 'monitor': {
      const m = r.monitors.get(cmd.name);
      if (!m) return { ok: false, code: ControlErrorCode.BAD_ARGUMENT, error: `no monitor "${cmd.name}"; monitors: ${r.monitors.names().join(', ') || '(none)'}` };
      r.log.notice(`Command execute. [monitor ${cmd.op} ${cmd.name}] config='${r.cfg.path}'`);
      if (cmd.op === 'suspend') m.suspend();
      else if (cmd.op === 'resume') m.resume();
      else m.feed({ type: 'clear' });
      return { ok: true, text: `monitor ${cmd.name}: ${m.state.status}` };
    }
  }
}
