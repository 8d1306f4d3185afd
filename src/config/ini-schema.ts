// The schema of the FailSafe ini file (SPEC §8), as data: per section kind, per key, its
// type, default, whether it is required and what values it allows. The loader (ini.ts)
// validates every key against it and builds the model of core/failsafe-model.ts; the
// sample file etc/procsafe.ini.sample documents the same table for operators.
import { FINAL_ACTIONS, MONITOR_TYPES, type MonitorType } from '../core/failsafe-model';

export type KeyType = 'string' | 'int' | 'number' | 'bool' | 'enum' | 'path' | 'command' | 'list' | 'duration';

/** Extra syntax checks of a string value (or of each item of a list). */
export type StringFormat = 'name' | 'http_url' | 'host' | 'host_port' | 'cron' | 'schedule_action' | 'email' | 'interface' | 'cidr';

/** A validated value: a command is its argv, a list its items, a duration its seconds. */
export type Value = string | number | boolean | readonly string[] | null;

export interface KeySpec {
  readonly type: KeyType;
  /** the value when the key is absent (null when not given and not required). */
  readonly default?: Value;
  readonly required?: boolean;
  /** enum: the allowed values; list: the allowed items (any item when absent). */
  readonly values?: readonly string[];
  /** int: inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** number and duration: 0 is allowed (otherwise the value must be more than 0). */
  readonly zero?: boolean;
  /** list: the item separator (default ","). */
  readonly separator?: ',' | '&';
  readonly format?: StringFormat;
  /** a typical value for "write e.g. key = EXAMPLE" (else the default, or the first allowed value). */
  readonly example?: string;
}

export type KeyTable = Readonly<Record<string, KeySpec>>;

/** Longest timer Node can arm (2^31-1 ms): a longer duration would fire at once. */
export const MAX_SECONDS = 2147483;

export const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

export const ALERT_EVENTS = ['down', 'restart', 'retry_over', 'group_restart', 'final_action', 'monitor_error', 'monitor_recovered'] as const;

export const DEFAULT_LISTEN = '127.0.0.1:29003';

const PORT = { type: 'int', min: 1, max: 65535 } as const;

export const DAEMON_KEYS: KeyTable = {
  /** absent → the host name (os.hostname()), filled in by the loader. */
  name: { type: 'string', example: 'web01' },
  run_dir: { type: 'path', example: '/run/procsafe' },
  state_file: { type: 'path', example: '/var/lib/procsafe/failsafe.state' },
  log_file: { type: 'path', example: '/var/log/procsafe/failsafe.log' },
  syslog: { type: 'bool', default: true, example: 'on' },
  /** OS final actions (shutdown, reboot, panic) allowed per final_action_window (no reboot loops) */
  max_final_actions: { type: 'int', min: 0, default: 1 },
  final_action_window: { type: 'duration', default: 3600 },
};

export const GROUP_KEYS: KeyTable = {
  start: { type: 'command', example: '"/opt/app/bin/start.sh --port 8080"' },
  stop: { type: 'command', example: '"/opt/app/bin/stop.sh"' },
  start_timeout: { type: 'duration', default: 60 },
  stop_timeout: { type: 'duration', default: 60 },
  pfile: { type: 'path', example: '/etc/procsafe/web.pfile' },
  activation_retries: { type: 'int', min: 0, default: 0 },
  final_action: { type: 'enum', values: FINAL_ACTIONS, default: 'none' },
};

export const MONITOR_COMMON_KEYS: KeyTable = {
  type: { type: 'enum', values: MONITOR_TYPES, required: true, example: 'http' },
  target: { type: 'string', format: 'name', example: 'web' },
  timing: { type: 'enum', values: ['always', 'active'], default: 'always' },
  interval: { type: 'duration', default: 10 },
  timeout: { type: 'duration', default: 10 },
  retries: { type: 'int', min: 0, default: 0 },
  start_wait: { type: 'duration', zero: true, default: 0 },
  restart_threshold: { type: 'int', min: 0, default: 1 },
  grace: { type: 'duration', zero: true, default: 300 },
  final_action: { type: 'enum', values: FINAL_ACTIONS, default: 'none' },
};

export interface MonitorTypeSpec {
  readonly keys: KeyTable;
  /** defaults of common keys that differ for this type. */
  readonly defaults?: Readonly<Record<string, Value>>;
}

export const MONITOR_TYPE_KEYS: Readonly<Record<MonitorType, MonitorTypeSpec>> = {
  process: { keys: { pfile: { type: 'path', required: true, example: '/etc/procsafe/web.pfile' } } },
  pid: { keys: { pid_file: { type: 'path', required: true, example: '/run/nginx.pid' } } },
  http: {
    keys: {
      url: { type: 'string', format: 'http_url', required: true, example: 'http://127.0.0.1:8080/health' },
      expect_status: { type: 'int', min: 100, max: 599, default: 200 },
      expect_body: { type: 'string', example: 'OK' },
    },
  },
  tcp: {
    keys: {
      host: { type: 'string', format: 'host', required: true, example: '127.0.0.1' },
      port: { ...PORT, required: true, example: '5432' },
    },
  },
  ping: { keys: { host: { type: 'string', format: 'host', required: true, example: '192.0.2.1' } } },
  disk: {
    keys: {
      path: { type: 'path', example: '/dev/sda' },
      write_dir: { type: 'path', example: '/var/lib/app' },
    },
  },
  nic: { keys: { interface: { type: 'string', format: 'interface', required: true, example: 'eth0' } } },
  custom: {
    keys: {
      command: { type: 'command', required: true, example: '"/opt/app/bin/check.sh --quiet"' },
      mode: { type: 'enum', values: ['sync', 'async'], default: 'sync' },
    },
  },
  resource: {
    keys: {
      pname: { type: 'path', required: true, example: '/usr/bin/java' },
      include_strings: { type: 'list', separator: '&', default: [], example: 'apache&tomcat' },
      cpu_percent: { type: 'number', example: '90' },
      rss_mb: { type: 'number', example: '2048' },
      samples: { type: 'int', min: 1, default: 3 },
    },
  },
  stall: {
    keys: { max_delay_ms: { type: 'int', min: 1, default: 1000 } },
    defaults: { interval: 1 },
  },
};

export const ALERT_KEYS: KeyTable = {
  events: { type: 'list', values: ALERT_EVENTS, default: ALERT_EVENTS, example: 'down,final_action' },
  // per channel; each defaults to `events`
  mail_events: { type: 'list', values: ALERT_EVENTS, example: 'retry_over,final_action' },
  webhook_events: { type: 'list', values: ALERT_EVENTS, example: 'down,restart' },
  syslog_events: { type: 'list', values: ALERT_EVENTS, example: 'final_action' },
  mail_to: { type: 'list', format: 'email', default: [], example: 'ops@example.com' },
  mail_from: { type: 'string', format: 'email', example: 'procsafe@example.com' },
  smtp_host: { type: 'string', format: 'host', example: 'localhost' },
  smtp_port: { ...PORT, default: 25 },
  webhook_url: { type: 'string', format: 'http_url', example: 'https://hooks.example.com/procsafe' },
};

export const WEB_KEYS: KeyTable = {
  listen: { type: 'string', format: 'host_port', default: DEFAULT_LISTEN },
  token_file: { type: 'path', example: '/etc/procsafe/web.token' },
  /** absent: loopback clients only, and only when `listen` is a loopback address (docs/web.md). */
  allow: { type: 'list', format: 'cidr', example: '127.0.0.1, 192.0.2.10, 198.51.100.0/24' },
  /** how often the [fleet:NAME] servers are read */
  fleet_interval: { type: 'duration', default: 5 },
};

/** [fleet:NAME]: another procsafe server on the web page's Servers view (docs/fleet.md). */
export const FLEET_KEYS: KeyTable = {
  url: { type: 'string', format: 'http_url', required: true, example: 'http://192.0.2.12:29003/' },
  token_file: { type: 'path', required: true, example: '/etc/procsafe/fleet/web02.token' },
};

export const SCHEDULE_KEYS: KeyTable = {
  cron: { type: 'string', format: 'cron', required: true, example: '0 4 * * *' },
  action: { type: 'string', format: 'schedule_action', required: true, example: 'restart_group web' },
};

export const SECTION_KINDS = ['daemon', 'group', 'monitor', 'alert', 'web', 'schedule', 'fleet'] as const;
export type SectionKind = (typeof SECTION_KINDS)[number];

export interface SectionSpec {
  /** [group:NAME] (true) or [daemon] (false). */
  readonly named: boolean;
  /** for monitors: the common keys; the type adds MONITOR_TYPE_KEYS[type]. */
  readonly keys: KeyTable;
}

export const SECTIONS: Readonly<Record<SectionKind, SectionSpec>> = {
  daemon: { named: false, keys: DAEMON_KEYS },
  group: { named: true, keys: GROUP_KEYS },
  monitor: { named: true, keys: MONITOR_COMMON_KEYS },
  alert: { named: false, keys: ALERT_KEYS },
  web: { named: false, keys: WEB_KEYS },
  schedule: { named: true, keys: SCHEDULE_KEYS },
  fleet: { named: true, keys: FLEET_KEYS },
};

/** How a section of this kind is written: [daemon], [group:NAME]. */
export function sectionSyntax(kind: SectionKind): string {
  return SECTIONS[kind].named ? `[${kind}:NAME]` : `[${kind}]`;
}

/** The monitor types that have `key` as a type-specific key. */
export function monitorTypesWithKey(key: string): MonitorType[] {
  return MONITOR_TYPES.filter((t) => Object.hasOwn(MONITOR_TYPE_KEYS[t].keys, key));
}

/** All keys a monitor of `type` accepts, with the type's defaults applied to the common keys. */
export function monitorKeys(type: MonitorType): KeyTable {
  const spec = MONITOR_TYPE_KEYS[type];
  const common: Record<string, KeySpec> = { ...MONITOR_COMMON_KEYS };
  for (const [key, value] of Object.entries(spec.defaults ?? {})) common[key] = { ...common[key], default: value };
  return { ...common, ...spec.keys };
}

export function exampleOf(spec: KeySpec): string {
  if (spec.example !== undefined) return spec.example;
  if (spec.type === 'bool') return spec.default === false ? 'off' : 'on';
  if (spec.default !== undefined && spec.default !== null) return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
  return spec.values?.[0] ?? 'VALUE';
}
