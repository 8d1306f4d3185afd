// The configuration model of FailSafe mode (`pcheck --config FILE.ini`, SPEC §8), as the
// ini loader produces it and the FailSafe daemon consumes it. Durations are seconds.

export const GROUP_STATES = ['Online', 'Offline', 'Starting', 'Stopping', 'Error'] as const;
export type GroupState = (typeof GROUP_STATES)[number];

export const MONITOR_STATUSES = ['Normal', 'Error', 'Warning', 'Suspended', 'Offline'] as const;
export type MonitorStatus = (typeof MONITOR_STATUSES)[number];

export const FINAL_ACTIONS = ['none', 'stop_group', 'stop_daemon', 'shutdown', 'reboot', 'panic'] as const;
export type FinalAction = (typeof FINAL_ACTIONS)[number];

export const MONITOR_TYPES = ['process', 'pid', 'http', 'tcp', 'ping', 'disk', 'nic', 'custom', 'resource', 'stall'] as const;
export type MonitorType = (typeof MONITOR_TYPES)[number];

/** A command from the ini file, already split into argv (run without a shell). */
export type Command = string[];

export interface DaemonConfig {
  name: string;
  runDir: string | null;
  /** the FailSafe state file; null: the default (/var/lib/procsafe/failsafe.state) */
  stateFile: string | null;
  logFile: string | null;
  syslog: boolean;
  /** OS final actions allowed per `finalActionWindow` seconds (SPEC §10 "No reboot loops") */
  maxFinalActions: number;
  finalActionWindow: number;
}

export interface GroupConfig {
  name: string;
  start: Command | null;
  stop: Command | null;
  startTimeout: number;
  stopTimeout: number;
  /** absolute path of a pfile whose entries live in this group, or null. */
  pfile: string | null;
  /** extra tries of the start script before the group is Error and its final action runs. */
  activationRetries: number;
  finalAction: FinalAction;
}

interface MonitorCommon {
  name: string;
  /** the group this monitor recovers, or null (then only its final action applies). */
  target: string | null;
  timing: 'always' | 'active';
  interval: number;
  timeout: number;
  /** failures tolerated before recovery: recovery starts at retries + 1 consecutive failures. */
  retries: number;
  /** seconds after the monitor (or its group) starts before the first check. */
  startWait: number;
  /** group restarts before the final action. */
  restartThreshold: number;
  /** seconds of health after which the counters reset. */
  grace: number;
  finalAction: FinalAction;
}

export type MonitorConfig = MonitorCommon &
  (
    | { type: 'process'; pfile: string }
    | { type: 'pid'; pidFile: string }
    | { type: 'http'; url: string; expectStatus: number; expectBody: string | null }
    | { type: 'tcp'; host: string; port: number }
    | { type: 'ping'; host: string }
    | { type: 'disk'; path: string | null; writeDir: string | null }
    | { type: 'nic'; interface: string }
    | { type: 'custom'; command: Command; mode: 'sync' | 'async' }
    | { type: 'resource'; pname: string; includeStrings: string[]; cpuPercent: number | null; rssMb: number | null; samples: number }
    | { type: 'stall'; maxDelayMs: number }
  );

export interface AlertConfig {
  /** which events go out; e.g. ['down', 'restart', 'retry_over', 'group_restart', 'final_action', 'monitor_error', 'monitor_recovered']. */
  events: string[];
  /** per channel: the kinds that go to mail / the webhook / syslog (default: `events`) */
  mailEvents?: string[];
  webhookEvents?: string[];
  syslogEvents?: string[];
  mailTo: string[];
  mailFrom: string | null;
  smtpHost: string | null;
  smtpPort: number;
  webhookUrl: string | null;
}

export interface WebConfig {
  /** host:port, default 127.0.0.1:29003 */
  listen: string;
  tokenFile: string | null;
  /** CIDR blocks of the clients; null: loopback only (a loopback `listen` is then required). */
  allow: string[] | null;
  /** [fleet:NAME]: the other servers on the page's Servers view, in file order. */
  fleet: FleetServerConfig[];
  /** how often they are read (seconds) */
  fleetIntervalSec: number;
}

export interface FleetServerConfig {
  name: string;
  /** the server's page, e.g. http://192.0.2.12:29003/ (its API is below it) */
  url: string;
  /** that server's [web] token, read at each poll; it never leaves this daemon */
  tokenFile: string;
}

export type ScheduleAction =
  | { kind: 'restart_group'; group: string }
  | { kind: 'suspend_monitor'; monitor: string; durationSec: number };

export interface ScheduleConfig {
  name: string;
  /** a 5- or 6-field cron expression */
  cron: string;
  action: ScheduleAction;
}

export interface FailsafeConfig {
  /** absolute path of the ini file */
  path: string;
  daemon: DaemonConfig;
  /** in file order: started in this order, stopped in reverse */
  groups: GroupConfig[];
  monitors: MonitorConfig[];
  alert: AlertConfig | null;
  web: WebConfig | null;
  schedules: ScheduleConfig[];
}

/** The name of the process monitor procsafe adds for a group's pfile (`web-pfile`). */
export function implicitMonitorName(group: string): string {
  return `${group}-pfile`;
}

/** A pfile named by a group without a process monitor gets one, so its retry-overs have a chain. */
export function implicitProcessMonitors(cfg: Pick<FailsafeConfig, 'groups' | 'monitors'>): MonitorConfig[] {
  const watched = new Set(cfg.monitors.flatMap((m) => (m.type === 'process' ? [m.pfile] : [])));
  return cfg.groups.flatMap((g): MonitorConfig[] =>
    g.pfile === null || watched.has(g.pfile)
      ? []
      : [
          {
            name: implicitMonitorName(g.name),
            type: 'process',
            pfile: g.pfile,
            target: g.name,
            timing: 'active',
            interval: 10,
            timeout: 10,
            retries: 0,
            startWait: 0,
            restartThreshold: 1,
            grace: 300,
            finalAction: g.finalAction,
          },
        ],
  );
}
