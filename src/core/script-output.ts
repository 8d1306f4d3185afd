// What of a restart script's output reaches the log. A script may print megabytes (a `set -x`,
// a daemon in the foreground by mistake, a loop): logging all of it would bury pcheck's own
// lines and trip syslog's rate limit, which then drops the next `Up` or `Down`. So: its first
// lines as they come, then, once it has ended, how much was left out and its LAST lines — where
// a failing script says why. Memory is bounded by the tail (tailLines lines of at most the line
// length run-script allows). Pure: lines in, lines to log out.

export type OutputStream = 'stdout' | 'stderr';

export interface OutputLine {
  stream: OutputStream;
  text: string;
}

export interface OutputLimits {
  /** lines logged as they come */
  headLines: number;
  /** bytes logged as they come (whichever of the two limits comes first) */
  headBytes: number;
  /** last lines logged at the end when some were left out */
  tailLines: number;
}

/** ~100 lines: enough for any script that reports what it does; well under rsyslog's default
 *  burst (imuxsock: 200 messages per 5 s per process) with pcheck's own lines. */
export const SCRIPT_OUTPUT_LIMITS: OutputLimits = { headLines: 80, headBytes: 16 * 1024, tailLines: 20 };

export class ScriptOutput {
  private headLines = 0;
  private headBytes = 0;
  /** the head is full: every later line goes to the tail, so the log keeps the order */
  private headDone = false;
  private skippedLines = 0;
  private skippedBytes = 0;
  private readonly tail: OutputLine[] = [];

  constructor(private readonly limits: OutputLimits = SCRIPT_OUTPUT_LIMITS) {}

  /** One line of output: returned when it is to be logged now, else kept for the tail. */
  add(line: OutputLine): OutputLine | null {
    const bytes = Buffer.byteLength(line.text) + 1;
    if (!this.headDone && this.headLines < this.limits.headLines && this.headBytes + bytes <= this.limits.headBytes) {
      this.headLines++;
      this.headBytes += bytes;
      return line;
    }
    this.headDone = true;
    this.tail.push(line);
    if (this.tail.length > this.limits.tailLines) {
      const out = this.tail.shift()!;
      this.skippedLines++;
      this.skippedBytes += Buffer.byteLength(out.text) + 1;
    }
    return null;
  }

  /** The script has ended: what was left out (one line), then the tail. */
  end(): OutputLine[] {
    const tail = this.tail.splice(0);
    if (this.skippedLines === 0) return tail;
    const note: OutputLine = {
      stream: 'stdout',
      text: `... ${this.skippedLines} lines (${this.skippedBytes} bytes) of output not logged; the last ${tail.length}:`,
    };
    return [note, ...tail];
  }
}
