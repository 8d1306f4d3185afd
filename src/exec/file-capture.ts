// Reads the output files of one running script (script-output-dir.ts) as lines, as pipes would
// give them: while the script runs, and at its exit up to where each file stood then (what a
// program it left behind writes afterwards is not logged). Read to its end, a file beyond the
// cap is emptied. A script that writes megabytes faster than pcheck reads (more than
// SKIP_BEHIND_BYTES unread) has the middle of that skipped, said where it was: its head and its
// last lines are read, and its files stay bounded.
//
// Order: pipes gave the order of writes, two files do not. Each loop turn notes how far each
// file has grown ("marks"); bytes are read in the order of the turn that first saw them, so a
// script that prints megabytes on stdout, then on stderr, then a last word on stdout is logged
// in that order as long as pcheck looks between the three (it looks every few milliseconds
// while output comes). What one look finds on both (a pcheck that was not scheduled while the
// script wrote) is read stdout first; ScriptOutput logs the last lines of each stream anyway.
import { closeSync, fstatSync, ftruncateSync, readSync } from 'node:fs';
import { OUTPUT_CAP_BYTES, type ActiveRun, type RunFiles, type ScriptOutputDir } from './script-output-dir';
import type { ScriptStream } from './script-lines';

const CHUNK = 64 * 1024;
/** Bytes read per loop turn: small, so that the files are looked at often during a flood (the
 *  order above) and the loop stays free for padmin and deaths. */
const TURN_BUDGET = 128 * 1024;
/** Polled this often anyway, should a change not be reported. */
const POLL_MS = 50;
/** Unread bytes beyond which a flood's middle is skipped: more than the 5 MB a chatty script
 *  prints at once (all of that is read and counted), little enough for the run directory. */
const SKIP_BEHIND_BYTES = 8 * 1024 * 1024;
/** A flood is skipped only after this much of its beginning was read, and up to this much before its end. */
const KEEP_BYTES = 64 * 1024;
const STREAMS: readonly ScriptStream[] = ['stdout', 'stderr'];

export interface LineSink {
  push(chunk: Buffer): void;
  /** `bytes` were skipped before the next chunk (0: the file was emptied by someone else) */
  skipped(bytes: number): void;
}

/** A file had grown to `end` when turn `turn` looked. */
interface Mark {
  turn: number;
  end: number;
}

export class FileCapture implements ActiveRun {
  private readonly pos: Record<ScriptStream, number> = { stdout: 0, stderr: 0 };
  /** how far each file had grown when last looked at */
  private readonly seen: Record<ScriptStream, number> = { stdout: 0, stderr: 0 };
  private readonly marks: Record<ScriptStream, Mark[]> = { stdout: [], stderr: [] };
  /** bytes read in this run (the head is never skipped) */
  private readonly total: Record<ScriptStream, number> = { stdout: 0, stderr: 0 };
  private turns = 0;
  /** the script has exited: no more looking, read up to the last marks */
  private exited = false;
  private timer: NodeJS.Timeout | null;
  private pending: NodeJS.Immediate | null = null;
  private ended: (() => void) | null = null;

  constructor(
    private readonly dir: ScriptOutputDir,
    private readonly files: RunFiles,
    private readonly sinks: Record<ScriptStream, LineSink>,
  ) {
    dir.claim(files.name, this);
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  /** Reads what is new, on the next loop turn. */
  poll(): void {
    if (this.pending || this.timer === null) return;
    this.pending = setImmediate(() => {
      this.pending = null;
      this.turn();
    });
  }

  /** The script exited: reads on up to where each file stands now, then closes the files. */
  finish(): Promise<void> {
    this.look();
    this.exited = true;
    return new Promise((resolve) => {
      this.ended = resolve;
      this.turn();
    });
  }

  private turn(): void {
    if (this.timer === null) return;
    if (!this.exited) this.look();
    let budget = TURN_BUDGET;
    for (let s = this.next(); s !== null && budget > 0; s = this.next()) budget -= this.read(s, budget);
    if (!this.exited) for (const s of STREAMS) this.bound(s);
    if (this.next() !== null) this.poll();
    else if (this.exited) this.end();
  }

  /** Notes how far each file has grown since the last look. */
  private look(): void {
    const turn = this.turns++;
    for (const s of STREAMS) {
      const size = this.size(s);
      if (size < this.seen[s]) {
        // emptied by someone else (an operator's `> file`): start again at its beginning
        this.pos[s] = this.seen[s] = 0;
        this.marks[s] = [];
        this.sinks[s].skipped(0);
      }
      if (size > this.seen[s]) {
        this.marks[s].push({ turn, end: size });
        this.seen[s] = size;
      }
      if (this.total[s] >= KEEP_BYTES && size - this.pos[s] > SKIP_BEHIND_BYTES) {
        // far behind a flood: skip its middle, read its last bytes
        const to = size - KEEP_BYTES;
        this.sinks[s].skipped(to - this.pos[s]);
        this.pos[s] = to;
        this.marks[s] = [{ turn, end: size }];
      }
    }
  }

  /** The stream whose next unread bytes were seen first (stdout on a tie). */
  private next(): ScriptStream | null {
    const [a, b] = STREAMS.map((s) => this.marks[s][0]);
    if (!a || !b) return a ? 'stdout' : b ? 'stderr' : null;
    return a.turn <= b.turn ? 'stdout' : 'stderr';
  }

  /** Reads stream s up to its first mark (at most `budget` bytes); returns the bytes read. */
  private read(s: ScriptStream, budget: number): number {
    const mark = this.marks[s][0];
    let read = 0;
    while (this.pos[s] < mark.end && read < budget) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, mark.end - this.pos[s], budget - read));
      let n: number;
      try {
        n = readSync(this.files.read[s], buf, 0, buf.length, this.pos[s]);
      } catch {
        n = 0;
      }
      if (n === 0) {
        // shorter than it was (emptied meanwhile): the next look starts it again
        this.marks[s].shift();
        return Math.max(read, 1);
      }
      this.sinks[s].push(buf.subarray(0, n));
      this.pos[s] += n;
      this.total[s] += n;
      read += n;
    }
    if (this.pos[s] >= mark.end) this.marks[s].shift();
    return read;
  }

  /** All read and beyond the cap: empty it. (A write landing between the fstat and the
   *  ftruncate is lost: a few bytes in the middle of more than a MiB of output.) */
  private bound(s: ScriptStream): void {
    if (this.pos[s] <= OUTPUT_CAP_BYTES || this.marks[s].length > 0 || this.size(s) !== this.pos[s]) return;
    try {
      ftruncateSync(this.files.read[s], 0);
      this.pos[s] = this.seen[s] = 0;
    } catch {
      // keep reading from where we are
    }
  }

  private size(s: ScriptStream): number {
    try {
      return fstatSync(this.files.read[s]).size;
    } catch {
      return this.seen[s];
    }
  }

  private end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
    for (const s of STREAMS) {
      try {
        closeSync(this.files.read[s]);
      } catch {
        // already closed
      }
    }
    this.dir.release(this.files.name);
    this.ended?.();
  }
}
