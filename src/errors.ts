// Exit codes of every procsafe command (documented in docs/exit-codes.md; the OCF agent and
// cluster custom monitors depend on them). Errors carry their code; only main() exits.
export const ExitCode = {
  OK: 0,
  /** pcheck: a retry-over `exit`; padmin: an operation that failed. */
  FAILURE: 1,
  /** bad usage or bad configuration: nothing was started. */
  USAGE: 2,
  /** padmin: no daemon answers on the control socket. */
  NO_DAEMON: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class ProcsafeError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration problem, located: `FILE:LINE: problem`. */
export class ConfigError extends ProcsafeError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${problem}`, ExitCode.USAGE);
  }
}

export class UsageError extends ProcsafeError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

/** padmin found no daemon on the control socket (exit 3). */
export class NoDaemonError extends ProcsafeError {
  constructor(message: string) {
    super(message, ExitCode.NO_DAEMON);
  }
}
