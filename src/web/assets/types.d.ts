// The JSON the daemon sends to the page (docs/api.md), for the type check of the page's
// script (npm run typecheck). Not served: the browser never loads it. Type aliases (not
// interfaces) so that a parsed frame (Record<string, unknown>) can be cast to them.
type ServerInfo = { name: string; pid: number; version: string; startedAt: number; rehearse: boolean; config: string };
type GroupView = { name: string; state: string; restarts: number; lastScript: string | null };
type MonitorView = {
  name: string; type: string; target: string | null; status: string; failures: number; retries: number;
  groupRestarts: number; restartThreshold: number; finalAction: string; finalActionDone: boolean; finalActionRefused: string | null; detail: string;
  lastCheckAt: number | null;
};
type EntryView = {
  pent_id: number; pname: string; pid: number | null; retry_count: number; restart_count: number;
  proc_sts: string; retry_over_act: string; rerun_time: number | null; monitor_sts: string; retry_limit: number;
};
type PfileView = { path: string; group: string | null; entries: EntryView[] };
type StatusView = { server: ServerInfo; groups: GroupView[]; monitors: MonitorView[]; pfiles: PfileView[] };
type AlertView = { kind: string; at: number; subject: string; message: string };
type FleetServer = {
  name: string; self: boolean; url: string | null; state: string; reasons: string[]; version: string | null;
  groups: Record<string, number> | null; monitors: Record<string, number> | null; entries: Record<string, number> | null;
  checkedAt: number | null;
};
type FleetView = { servers: FleetServer[] };
/** what api() resolves to */
type Answer = { status: number; body: unknown };
