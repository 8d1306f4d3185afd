// Lines to a destination that may stop reading (a stdout pipe to `less`, a hung journald or
// log collector, a syslog daemon whose queue is full): written at once when it takes them, else
// kept in a bounded queue in memory and retried. Writing never waits, so monitoring never
// stops for a log reader. Beyond the bound the oldest queued lines are dropped, counted, and a
// marker line says where and how many; pcheck's other log sinks are told when dropping begins
// and, once the destination reads again, how many lines it lost.

/** What one attempt to write did: bytes written (may be part of the line), or why none. */
export type WriteResult = number | 'full' | 'gone';

/** pcheck's own line about this destination, for the Logger to send to its sinks. */
export type Report = (severity: 'warning' | 'notice', message: string, alsoHere: boolean) => void;

export interface WriteQueueOptions {
  /** `stdout`, `syslog (/dev/log)`: how the lines about it name it */
  name: string;
  /** one attempt, never blocking: 'full' (EAGAIN), 'gone' (EPIPE: it will never read again) */
  tryWrite: (line: Buffer) => WriteResult;
  /** the marker line, in the destination's format */
  marker: (dropped: number) => Buffer;
  report: Report;
  /** datagrams: a line is written whole or not at all */
  datagrams?: boolean;
  /** queued bytes beyond which the oldest lines are dropped */
  maxBytes?: number;
}

export const QUEUE_MAX_BYTES = 1024 * 1024;
/** Retries after 1 ms, doubling to 100 ms while nothing is taken: a reader that is only slower
 *  than a burst (rsyslog's queue holds 10 datagrams by default) is kept up with; one that has
 *  stopped costs 10 attempts a second. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 100;
/** At exit: give up once the destination has taken nothing for this long. */
const FLUSH_STALL_MS = 2000;
/** ... and after this long in any case. */
const FLUSH_MAX_MS = 10_000;

type Entry = Buffer | { dropped: number };

export class WriteQueue {
  private readonly queue: Entry[] = [];
  /** bytes of queue[0] already written */
  private offset = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_FIRST_MS;
  /** lines lost since the destination last took everything (for the report) */
  private lost = 0;
  private lostSince: Date | null = null;
  private gone = false;
  private readonly max: number;

  constructor(private readonly o: WriteQueueOptions) {
    this.max = o.maxBytes ?? QUEUE_MAX_BYTES;
  }

  /** Queued lines and markers (for tests and the flush). */
  get pending(): number {
    return this.queue.length;
  }

  write(line: Buffer): void {
    if (this.gone) return this.drop();
    this.queue.push(line);
    this.bytes += line.length;
    this.pump();
    while (this.bytes > this.max && this.dropOldest());
  }

  /** Writes what it can now; true when nothing is left. */
  pump(): boolean {
    const before = this.bytes;
    while (this.queue.length > 0 && !this.gone) {
      let head = this.queue[0];
      if (!Buffer.isBuffer(head)) {
        head = this.queue[0] = this.o.marker(head.dropped);
        this.bytes += head.length;
      }
      const rest = this.offset === 0 ? head : head.subarray(this.offset);
      const r = this.o.tryWrite(rest);
      if (r === 'gone') {
        this.goneForGood();
        break;
      }
      if (r === 'full' || r === 0) break;
      if (r < rest.length && !this.o.datagrams) {
        this.offset += r;
        this.bytes -= r;
        break;
      }
      this.queue.shift();
      this.bytes -= rest.length;
      this.offset = 0;
    }
    if (this.queue.length === 0 || this.gone) {
      this.stopRetry();
      this.retryMs = RETRY_FIRST_MS;
      if (this.lost > 0 && !this.gone) this.recovered();
      return true;
    }
    if (this.bytes < before) {
      // it reads, slower than we write: try again soon
      this.retryMs = RETRY_FIRST_MS;
      this.stopRetry();
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.pump();
    }, this.retryMs);
    this.timer.unref();
    return false;
  }

  /** At exit: waits (bounded) until the destination has taken the queued lines. */
  async flush(): Promise<void> {
    const t0 = performance.now();
    let lastProgress = t0;
    let left = this.bytes;
    while (!this.pump()) {
      const now = performance.now();
      if (this.bytes < left) {
        left = this.bytes;
        lastProgress = now;
      }
      if (now - lastProgress > FLUSH_STALL_MS || now - t0 > FLUSH_MAX_MS) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.stopRetry();
  }

  /** Drops the oldest line not yet begun (the marker before it counts it); false if none. */
  private dropOldest(): boolean {
    const at = this.offset > 0 ? 1 : 0;
    const first = this.queue[at];
    const marker = first !== undefined && !Buffer.isBuffer(first) ? first : null;
    const victimAt = marker ? at + 1 : at;
    const victim = this.queue[victimAt];
    if (!Buffer.isBuffer(victim)) return false;
    if (marker) {
      this.queue.splice(victimAt, 1);
      marker.dropped++;
    } else {
      this.queue.splice(at, 1, { dropped: 1 });
    }
    this.bytes -= victim.length;
    this.drop();
    return true;
  }

  private drop(): void {
    if (this.lost++ === 0) {
      this.lostSince = new Date();
      if (!this.gone) {
        this.o.report('warning', `${this.o.name} is not reading: pcheck's lines to it wait in memory (${this.max >> 10} KiB), and beyond that the oldest are dropped until it reads again`, false);
      }
    }
  }

  private recovered(): void {
    const since = this.lostSince?.toISOString() ?? '?';
    const n = this.lost;
    this.lost = 0;
    this.lostSince = null;
    this.o.report('notice', `${this.o.name} is reading again: ${n} line(s) were dropped from it since ${since} (pcheck's other logs have them)`, true);
  }

  private goneForGood(): void {
    this.gone = true;
    const n = this.queue.filter((e) => Buffer.isBuffer(e)).length;
    this.queue.length = 0;
    this.offset = this.bytes = 0;
    for (let i = 0; i < n; i++) this.drop();
    if (this.lost === 0) this.lostSince = new Date();
    this.o.report('warning', `${this.o.name} cannot be written any more (its reader is gone): pcheck's lines to it are dropped`, false);
  }

  private stopRetry(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
