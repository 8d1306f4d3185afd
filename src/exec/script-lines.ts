// A script's output turned into lines: split at newlines, long lines cut, a total budget.
// The same for both ways output reaches pcheck (pipes, or the files of script-output-dir.ts).

export type ScriptStream = 'stdout' | 'stderr';
export type LineCallback = (stream: ScriptStream, line: string) => void;

/** Forwards lines to onLine within a total budget. */
export class Forwarder {
  private used = 0;
  private truncated = false;
  constructor(
    private readonly onLine: LineCallback,
    private readonly maxTotal: number,
  ) {}

  line(stream: ScriptStream, buf: Buffer, cut: boolean): void {
    if (this.truncated) return;
    if (this.used + buf.length > this.maxTotal) {
      this.truncated = true;
      this.call(stream, '... output truncated');
      return;
    }
    this.used += buf.length + 1;
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.call(stream, cut ? `${text} ...[line truncated]` : text);
  }

  /** A note of pcheck's own about the output (not counted in the budget). */
  note(stream: ScriptStream, text: string): void {
    if (!this.truncated) this.call(stream, text);
  }

  private call(stream: ScriptStream, text: string): void {
    try {
      this.onLine(stream, text);
    } catch {
      // A faulty log sink must not become an uncaught exception in a stream callback.
    }
  }
}

/** Splits one stream into lines, holding at most maxLine bytes of an unfinished line. */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** inside a line already forwarded cut (or partly lost): drop bytes up to its newline. */
  private skipping = false;

  constructor(
    private readonly stream: ScriptStream,
    private readonly maxLine: number,
    private readonly out: Forwarder,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, nl));
      if (this.skipping) this.skipping = false;
      else this.emit(false);
      start = nl + 1;
    }
  }

  /** The last line, if it had no newline. */
  flush(): void {
    if (!this.skipping && this.pendingLen > 0) this.emit(false);
  }

  /** Bytes were lost before the next chunk: the unfinished line is dropped, and so is the rest
   *  of the line the next chunk begins in (it would be a splice of two lines). */
  resync(): void {
    this.pending = [];
    this.pendingLen = 0;
    this.skipping = true;
  }

  private append(seg: Buffer): void {
    if (this.skipping || seg.length === 0) return;
    this.pending.push(seg);
    this.pendingLen += seg.length;
    if (this.pendingLen > this.maxLine) {
      this.emit(true);
      this.skipping = true;
    }
  }

  private emit(cut: boolean): void {
    let line = Buffer.concat(this.pending, this.pendingLen);
    if (line.length > this.maxLine) line = line.subarray(0, this.maxLine);
    this.pending = [];
    this.pendingLen = 0;
    this.out.line(this.stream, line, cut);
  }
}
