// Severity numbers as in syslog(3): lower is more severe.
export const Severity = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One destination of log lines. write() must not lose the line if the process exits right
 *  after (a sink whose reader stops reading may queue it: close() delivers it then). */
export interface LogSink {
  write(severity: Severity, message: string): void;
  /** resolves once every line written so far has reached its destination (or, for a reader
   *  that stopped reading, after a bounded wait). */
  close?(): Promise<void>;
  /** the Logger gives the sink a way to log about itself: to the other sinks, and to itself
   *  too when `alsoHere` (e.g. "stdout is reading again: N lines were dropped"). */
  attach?(report: (severity: 'warning' | 'notice', message: string, alsoHere: boolean) => void): void;
}
