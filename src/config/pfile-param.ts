// The PARAM defaults of a pfile, and a look at one PARAM key of its text: what padmin needs to
// reach a pcheck, apart from the parser (pfile.ts) and what it loads (user lookups through
// child_process, the overlap and script checks), so that `padmin -c 'show pent'` starts fast.
import type { PfileParam } from '../core/model';
import { METRICS_DEFAULTS } from './pfile-metrics';

/** Values of the optional PARAM keys; INITIAL_WAIT defaults to MONITOR_INTERVAL. */
export const PARAM_DEFAULTS: Readonly<Omit<PfileParam, 'ipckey' | 'ipckeyText' | 'initialWait'>> = Object.freeze({
  monitorInterval: 10,
  msgCheckInterval: 5,
  shmDumpFile: null,
  logFile: null,
  syslog: true,
  syslogFacility: 'daemon',
  syslogSocket: '/dev/log',
  scriptTimeout: 300,
  restartWait: 30,
  ...METRICS_DEFAULTS,
});

/**
 * The value of `key` in the PARAM section of a pfile's text (its first `KEY VALUE` line), read
 * without parsing the file: padmin needs only IPCKEY of a pfile of 1,000 entries, and pcheck
 * needs LOG_FILE and SYSLOG* of a pfile that does not parse, to log why.
 */
export function rawParamValue(text: string, key: string): string | undefined {
  const param = /#+\s*PARAM\s*#+([\s\S]*?)(#+\s*PENT\s*#+|$)/.exec(text)?.[1] ?? '';
  return new RegExp(`^[ \\t]*${key}[ \\t]+(\\S+)[ \\t]*\\r?$`, 'm').exec(param)?.[1];
}
