// `padmin status`: a clpstat-like view of the FailSafe daemon, and its JSON (also what the web
// page, /metrics and the Servers view read). Below daemon/, web/ and cli/, which all import it.
import type { GroupState, MonitorStatus, MonitorType } from '../core/failsafe-model';
import type { PentView } from './pent-view';

export interface StatusView {
  server: { name: string; pid: number; version: string; startedAt: number; rehearse: boolean; config: string };
  groups: { name: string; state: GroupState; restarts: number; lastScript: string }[];
  monitors: {
    name: string;
    type: MonitorType;
    target: string | null;
    status: MonitorStatus;
    failures: number;
    retries: number;
    groupRestarts: number;
    restartThreshold: number;
    finalAction: string;
    /** the final action was done (not merely reached: see finalActionRefused) */
    finalActionDone: boolean;
    /** why max_final_actions refused it, or null */
    finalActionRefused: string | null;
    detail: string;
    lastCheckAt: number | null;
  }[];
  pfiles: { path: string; group: string | null; entries: PentView[] }[];
}

const dots = (label: string, width: number) => `${label} ${'.'.repeat(Math.max(2, width - label.length))}: `;

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

export function formatStatus(v: StatusView, now = Date.now()): string {
  const W = 28;
  const out: string[] = [];
  out.push(' ========================  PROCSAFE STATUS  ========================');
  out.push(`  Server ${v.server.name}: pid ${v.server.pid}, procsafe ${v.server.version}, up ${uptime(now - v.server.startedAt)}${v.server.rehearse ? ', REHEARSAL (OS actions are recorded, not done)' : ''}`);
  out.push(`  Config ${v.server.config}`);
  out.push('  Groups:');
  if (v.groups.length === 0) out.push('    (none)');
  for (const g of v.groups) {
    out.push(`    ${dots(g.name, W)}${g.state.padEnd(9)} restarts ${g.restarts}${g.lastScript ? `  (last ${g.lastScript})` : ''}`);
  }
  out.push('  Monitors:');
  if (v.monitors.length === 0) out.push('    (none)');
  for (const m of v.monitors) {
    // a monitor with no target restarts no group: its chain goes from failures to the final action
    const restarts = m.target === null ? '' : `  group restarts ${m.groupRestarts}/${m.restartThreshold}`;
    const chain = `failures ${m.failures}/${m.retries + 1}${restarts}${m.finalActionDone ? `  final ${m.finalAction} DONE` : ''}${m.finalActionRefused !== null ? `  final ${m.finalAction} NOT DONE (${m.finalActionRefused})` : ''}`;
    out.push(`    ${dots(`${m.name} (${m.type}${m.target ? ` -> ${m.target}` : ''})`, W)}${m.status.padEnd(9)} ${chain}${m.detail ? `  [${m.detail}]` : ''}`);
  }
  for (const p of v.pfiles) {
    out.push(`  Entries of ${p.path}${p.group ? ` (group ${p.group})` : ''}:`);
    for (const e of p.entries) {
      const pid = e.pid === null ? '-----' : String(e.pid);
      out.push(`    ${dots(`${e.pent_id} ${e.pname}`, W)}${e.proc_sts.padEnd(10)} pid ${pid}  retry ${e.retry_count}/${e.retry_limit}  restarts ${e.restart_count}  monitor ${e.monitor_sts}`);
    }
  }
  out.push(' ====================================================================');
  return out.join('\n');
}
