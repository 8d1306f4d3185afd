// One alert channel's queue: events are delivered one at a time, in order; a failed delivery
// is logged and tried again after the next backoff delay, then given up (logged). Nothing
// here runs inside the caller's emit(): the queue starts on setImmediate, so a first fetch()
// (which loads undici) or an SMTP connect never delays monitoring.
import type { ProcsafeEvent } from '../core/events';
import type { Logger } from '../log/logger';
import { describeError, formatDelay, localTime, oneLine } from './format';

export interface Channel {
  /** `mail to ops@example.com`, `webhook to https://hooks.example.com/…` (no secrets) */
  readonly label: string;
  /** rejects on failure; `signal` aborts it when procsafe stops. */
  send(e: ProcsafeEvent, signal: AbortSignal): Promise<void>;
  /** a failure that another try cannot fix (an SMTP 5xx) */
  isPermanent?(err: unknown): boolean;
  close?(): void;
}

export interface ChannelStats {
  label: string;
  /** events waiting (the one being tried not included) */
  waiting: number;
  delivered: number;
  /** given up after the last retry, or at once on a permanent error */
  failed: number;
  /** dropped from a full queue, or not delivered at stop */
  dropped: number;
}

export interface DeliveryOptions {
  log: Logger;
  /** the waits between tries: [1000, 5000] = 3 tries */
  retryDelaysMs: number[];
  /** events waiting at most; the oldest is dropped (logged) beyond */
  limit: number;
}

const what = (e: ProcsafeEvent) => `${e.kind} ${oneLine(e.subject)}`;

export class DeliveryQueue {
  private readonly waiting: ProcsafeEvent[] = [];
  private running: Promise<void> | null = null;
  private scheduled = false;
  private current: ProcsafeEvent | null = null;
  private closing = false;
  /** why it closes, for the log: `procsafe is stopping`, `the [alert] configuration changed` */
  private why = 'procsafe is stopping';
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private delivered = 0;
  private failed = 0;
  private dropped = 0;

  constructor(
    readonly channel: Channel,
    private readonly opts: DeliveryOptions,
  ) {}

  push(e: ProcsafeEvent): void {
    if (this.stopped) return;
    if (this.waiting.length >= this.opts.limit) {
      const old = this.waiting.shift() as ProcsafeEvent;
      this.dropped++;
      this.opts.log.warning(`Alert ${this.channel.label}: ${this.opts.limit} alerts waiting, dropped the oldest: ${what(old)} of ${localTime(old.at)}`);
    }
    this.waiting.push(e);
    this.start();
  }

  stats(): ChannelStats {
    return { label: this.channel.label, waiting: this.waiting.length, delivered: this.delivered, failed: this.failed, dropped: this.dropped };
  }

  /** Stop retrying: a backoff wait ends now (that event is given up), later events get one try each. */
  beginClose(why = 'procsafe is stopping'): void {
    this.why = why;
    this.closing = true;
    this.wake?.();
  }

  /** Resolves once nothing is waiting or being tried. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Give up on everything still queued or in flight (logged with the count). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const left = this.waiting.length + (this.current === null ? 0 : 1);
    this.waiting.length = 0;
    this.dropped += left;
    this.abort.abort();
    this.wake?.();
    if (left > 0) this.opts.log.warning(`Alert ${this.channel.label}: ${left} alert${left === 1 ? '' : 's'} not delivered, ${this.why}`);
    try {
      this.channel.close?.();
    } catch {
      /* closing a transport is best effort */
    }
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.stopped || (this.running === null && !this.scheduled && this.waiting.length === 0);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private start(): void {
    if (this.running !== null || this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.running !== null || this.stopped) return this.notifyIdle();
      this.running = this.run().finally(() => {
        this.running = null;
        if (this.waiting.length > 0 && !this.stopped) this.start();
        else this.notifyIdle();
      });
    });
  }

  private async run(): Promise<void> {
    while (this.waiting.length > 0 && !this.stopped) {
      const e = this.waiting.shift() as ProcsafeEvent;
      this.current = e;
      try {
        await this.deliver(e);
      } catch (err) {
        // deliver() handles its errors; this is a bug guard so the queue never stalls
        this.opts.log.err(`Alert ${this.channel.label}: ${describeError(err)}`);
      } finally {
        this.current = null;
      }
    }
  }

  private async deliver(e: ProcsafeEvent): Promise<void> {
    const { log, retryDelaysMs } = this.opts;
    const total = retryDelaysMs.length + 1;
    const head = `Alert ${this.channel.label} for ${what(e)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.channel.send(e, this.abort.signal);
        this.delivered++;
        if (attempt > 1) log.notice(`${head} delivered (attempt ${attempt}/${total})`);
        return;
      } catch (err) {
        if (this.stopped) return; // counted by stop()
        const why = describeError(err);
        const permanent = this.channel.isPermanent?.(err) ?? false;
        if (attempt >= total || permanent || this.closing) {
          this.failed++;
          const because = permanent ? ' (a permanent error, not retried)' : this.closing && attempt < total ? ` (${this.why})` : '';
          log.err(`${head} failed (attempt ${attempt}/${total}): ${why}; given up${because}`);
          return;
        }
        const delay = retryDelaysMs[attempt - 1];
        log.warning(`${head} failed (attempt ${attempt}/${total}): ${why}; next try in ${formatDelay(delay)}`);
        if (!(await this.pause(delay))) {
          if (this.stopped) return;
          this.failed++;
          log.err(`${head} given up after attempt ${attempt}/${total}: ${this.why}`);
          return;
        }
      }
    }
  }

  /** true after `ms`, false when close/stop cut the wait short. */
  private pause(ms: number): Promise<boolean> {
    if (this.closing || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve(true);
      }, ms);
      t.unref(); // a retry never keeps a stopping process alive
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve(false);
      };
    });
  }
}
