// What happened, as the daemons report it to alerts, the web page's live feed and metrics.
// Kinds are the alert events of `[alert] events` (SPEC §8).

export const EVENT_KINDS = ['down', 'restart', 'retry_over', 'group_restart', 'final_action', 'monitor_error', 'monitor_recovered'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface ProcsafeEvent {
  kind: EventKind;
  /** epoch ms */
  at: number;
  /** [daemon] name (the server) */
  server: string;
  /** what it is about: an entry's pname, a group's or a monitor's name */
  subject: string;
  /** one line, as logged: e.g. `Process [/usr/bin/java , pid=12742] Down` */
  message: string;
  /** e.g. { pfile, pentId, pid, group, monitor, action, detail } */
  fields: Record<string, string | number | null>;
}

/** Where events go (alerts, web live feed, metrics); must never throw nor block. */
export type EventSink = (e: ProcsafeEvent) => void;
