// `padmin status` (and the web page's /api/status, /metrics): what the FailSafe daemon shows of
// its server, groups, monitors and entries, as the view of src/views/status-view.ts.
import { version } from '../../version';
import type { StatusView } from '../../views/status-view';
import type { Rooms } from './rooms';

export function statusOf(r: Rooms): StatusView {
  const cfg = r.cfg;
  return {
    server: { name: cfg.daemon.name, pid: process.pid, version: version(), startedAt: r.startedAt, rehearse: r.rehearse, config: cfg.path },
    groups: r.groups.all().map((g) => ({ name: g.cfg.name, state: g.state, restarts: g.run.restarts, lastScript: g.lastScript })),
    monitors: r.monitors.all().map((m) => ({
      name: m.cfg.name,
      type: m.cfg.type,
      target: m.cfg.target,
      status: m.state.status,
      failures: m.state.failures,
      retries: m.cfg.retries,
      groupRestarts: m.state.groupRestarts,
      restartThreshold: m.cfg.restartThreshold,
      finalAction: m.cfg.finalAction,
      finalActionDone: m.state.finalActionDone && m.state.finalActionRefused === null,
      finalActionRefused: m.state.finalActionRefused,
      detail: m.state.detail,
      lastCheckAt: m.lastCheckAt,
    })),
    pfiles: r.pfiles.views(),
  };
}

/** systemd's STATUS= line: the groups, and the monitors that are not fine. */
export function statusLine(r: Rooms): string {
  const groups = r.groups.all().map((g) => `${g.cfg.name} ${g.state}`).join(', ');
  const bad = r.monitors.all().filter((m) => m.state.status === 'Error').map((m) => m.cfg.name);
  return `groups: ${groups || 'none'}; monitors in error: ${bad.length === 0 ? 'none' : bad.join(', ')}`;
}
