// What of a restart script's output reaches the log. A script may print megabytes (a `set -x`,
// a daemon in the foreground by mistake, a loop): logging all of it would bury pcheck's own
// lines and trip syslog's rate limit, which then drops the next `Up` or `Down`. So: its first
// lines as they come, then, once it has ended, how much was left out and its LAST lines — where
// a failing script says why; the last lines of each stream are among them, whatever came after
// on the other one. Memory is bounded by the tail (tailLines lines of at most the line length
// run-script allows). Pure: lines in, lines to log out.

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

interface Kept extends OutputLine {
  seq: number;
  bytes: number;
}

export class ScriptOutput {
  private headLines = 0;
  private headBytes = 0;
  /** the head is full: every later line goes to the tail, so the log keeps the order */
  private headDone = false;
  /** lines (and bytes) that went past the head */
  private afterLines = 0;
  private afterBytes = 0;
  /** the last tailLines lines */
  private readonly tail: Kept[] = [];
  /** the last lines of each stream, kept even when the other stream's lines pushed them out of
   *  the tail: a script's last words on stderr after a flood on stdout (or the other way round,
   *  or shuffled in blocks when the two are read from files) are logged */
  private readonly lastOf: Record<OutputStream, Kept[]> = { stdout: [], stderr: [] };
  private readonly reserve: number;

  constructor(private readonly limits: OutputLimits = SCRIPT_OUTPUT_LIMITS) {
    this.reserve = Math.floor(limits.tailLines / 4);
  }

  /** One line of output: returned when it is to be logged now, else kept for the tail. */
  add(line: OutputLine): OutputLine | null {
    const bytes = Buffer.byteLength(line.text) + 1;
    if (!this.headDone && this.headLines < this.limits.headLines && this.headBytes + bytes <= this.limits.headBytes) {
      this.headLines++;
      this.headBytes += bytes;
      return line;
    }
    this.headDone = true;
    const kept: Kept = { ...line, seq: this.afterLines++, bytes };
    this.afterBytes += bytes;
    push(this.tail, kept, this.limits.tailLines);
    push(this.lastOf[line.stream], kept, this.reserve);
    return null;
  }

  /** The script has ended: what was left out (one line), then the tail. */
  end(): OutputLine[] {
    // the last lines of each stream, then the latest others, up to tailLines, in their order
    const chosen = new Map<number, Kept>();
    for (const k of [...this.lastOf.stdout, ...this.lastOf.stderr]) chosen.set(k.seq, k);
    for (let i = this.tail.length - 1; i >= 0 && chosen.size < this.limits.tailLines; i--) chosen.set(this.tail[i].seq, this.tail[i]);
    const out = [...chosen.values()].sort((a, b) => a.seq - b.seq);
    this.tail.length = this.lastOf.stdout.length = this.lastOf.stderr.length = 0;
    const lines = out.map(({ stream, text }) => ({ stream, text }));
    const skippedLines = this.afterLines - out.length;
    if (skippedLines === 0) return lines;
    const skippedBytes = this.afterBytes - out.reduce((n, k) => n + k.bytes, 0);
    const note: OutputLine = {
      stream: 'stdout',
      text: `... ${skippedLines} lines (${skippedBytes} bytes) of output not logged; the last ${out.length}:`,
    };
    return [note, ...lines];
  }
}

function push(list: Kept[], k: Kept, max: number): void {
  list.push(k);
  if (list.length > max) list.shift();
}
