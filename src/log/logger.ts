// The logger: one message, formatted once per sink, written synchronously to every sink,
// so the last line before an exit (FATAL, Stop pcheck!!) is never lost. Sinks are passed
// in (pino's discipline), so tests and the FailSafe daemon choose their own.
import { Severity, type LogSink } from './types';

export type SeverityName = keyof typeof Severity;

export class Logger {
  private readonly sinks: LogSink[];

  constructor(sinks: LogSink[]) {
    this.sinks = [...sinks];
    for (const s of this.sinks) s.attach?.((severity, message, alsoHere) => this.write(severity, message, alsoHere ? null : s));
  }

  log(severity: SeverityName, message: string): void {
    this.write(severity, message, null);
  }

  private write(severity: SeverityName, message: string, except: LogSink | null): void {
    // After close() the last line stays the last one: a line logged while the flush is
    // pending (a restart script's output, a late signal) would reach stdout only.
    if (this.closing) return;
    const n = Severity[severity];
    for (const sink of this.sinks) {
      if (sink === except) continue;
      try {
        sink.write(n, message);
      } catch {
        // one broken sink (a full disk, a closed pipe) must not silence the others
      }
    }
  }

  crit(m: string): void {
    this.log('crit', m);
  }
  err(m: string): void {
    this.log('err', m);
  }
  warning(m: string): void {
    this.log('warning', m);
  }
  notice(m: string): void {
    this.log('notice', m);
  }
  info(m: string): void {
    this.log('info', m);
  }

  private closing: Promise<void> | null = null;

  /** Flushes and closes every sink; the lines written before are delivered. Every caller
   *  (the normal exit and an internal error racing it) waits for the same flush: a second
   *  call must not resolve before the logger(1) child has written the last line. */
  close(): Promise<void> {
    this.closing ??= Promise.all(
      this.sinks.map(async (s) => {
        try {
          await s.close?.();
        } catch {
          /* closing is best effort: the lines were written synchronously */
        }
      }),
    ).then(() => undefined);
    return this.closing;
  }
}
