// The configuration model that the pfile parser produces and the daemon consumes.
import type { RetryOverAction } from './states';

export interface PfileParam {
  /** IPCKEY as a number (names the control socket). */
  ipckey: number;
  /** IPCKEY as written in the file, for `show param`. */
  ipckeyText: string;
  /** seconds; period of the full /proc scan that finds processes. */
  monitorInterval: number;
  /** seconds; accepted for compatibility (padmin is answered at once). */
  msgCheckInterval: number;
  /** state file path (absolute) or null. */
  shmDumpFile: string | null;
  logFile: string | null;
  syslog: boolean;
  /** syslog facility name, e.g. `daemon`, `local0`. */
  syslogFacility: string;
  /** datagram socket syslog is sent to (default /dev/log). */
  syslogSocket: string;
  /** seconds before a restart script is killed with its process group. */
  scriptTimeout: number;
  /** seconds to wait for the process to appear after its restart script. */
  restartWait: number;
  /** seconds a missing process is WAIT, not a failure, at start-up. */
  initialWait: number;
  /** `/metrics` for pcheck -f (METRICS_*; docs/pfile.md): host:port, or null (off). */
  metricsListen: string | null;
  metricsTokenFile: string | null;
  /** CIDR blocks of the clients; null: loopback only. */
  metricsAllow: string[] | null;
}

export interface Pent {
  /** 1-based position among the PENT lines (`pent_id`). */
  id: number;
  /** line number in the pfile, for messages. */
  line: number;
  pname: string;
  restartScript: string;
  /** seconds up after the last restart before retry_count goes back to 0; 0 = never. */
  grace: number;
  /** restarts allowed within the grace window (the limit, not the counter). */
  retryLimit: number;
  retryOverAction: RetryOverAction;
  includeStrings: string[];
  excludeStrings: string[];
  /** owner name from `user=`, and its uid resolved at load time. */
  user: string | null;
  uid: number | null;
  /** per-entry script timeout (seconds) from `script_timeout=`, else PARAM's. */
  scriptTimeout: number | null;
  /** seconds a watched process may stay stopped (T) or in uninterruptible sleep (D) before it
   *  is killed and restarted, from `hang_timeout=`; null: never (the default). */
  hangTimeout: number | null;
  /** the raw options field, e.g. `include_strings=apache&tomcat`. */
  optionsText: string;
}

export interface Pfile {
  /** absolute path of the pfile. */
  path: string;
  param: PfileParam;
  pents: Pent[];
}

/** Identity of an entry across reloads and restarts of pcheck: same program, same script, same options. */
export function pentSignature(p: Pent): string {
  return [p.pname, p.restartScript, p.optionsText].join('\u0000');
}
