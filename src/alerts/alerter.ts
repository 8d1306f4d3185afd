// Alerts (SPEC §8 [alert], §9): every event goes to the alert log (STATE_DIR/alerts.log,
// shown by `padmin alerts`); per channel, the kinds of `syslog_events`, `mail_events` and
// `webhook_events` (each defaulting to `[alert] events`) go to syslog (a log line
// `ALERT KIND SUBJECT: MESSAGE`), to mail (SMTP) and to a webhook (JSON POST).
//
// emit() is an EventSink: it never throws and never waits. Mail and webhook each have a
// bounded queue delivered in the background, with retries after 1 s, 5 s, 30 s and 2 min;
// every failure, retry and give-up is logged.
import type { AlertConfig } from '../core/failsafe-model';
import type { EventSink, ProcsafeEvent } from '../core/events';
import type { Logger } from '../log/logger';
import { AlertLog, DEFAULT_KEEP } from './alert-log';
import { mailChannel, webhookChannel } from './channels';
import { DeliveryQueue, type ChannelStats } from './delivery';
import { syslogLine } from './format';

export { formatAlerts } from './format';
export { readAlertLog, ALERT_LOG_NAME } from './alert-log';
export type { ChannelStats } from './delivery';

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 30000, 120000];

export interface AlerterOptions {
  log: Logger;
  /** where alerts.log lives; null: the alert log is kept in memory only */
  stateDir: string | null;
  /** alert log entries kept (memory and file); default 200 */
  keep?: number;
  /** timeout of one SMTP try (connect, greeting, each command); default 15 s */
  smtpTimeoutMs?: number;
  /** timeout of one webhook POST; default 5 s */
  webhookTimeoutMs?: number;
  /** waits between tries; default [1000, 5000, 30000, 120000] (5 tries) */
  retryDelaysMs?: number[];
  /** events waiting per channel; default 100 (the oldest is dropped beyond) */
  queueLimit?: number;
  /** how long close() waits for deliveries in flight; default 2000 ms */
  closeWaitMs?: number;
  /** User-Agent of the webhook POST; default `procsafe` */
  userAgent?: string;
}

export interface Alerter {
  emit: EventSink;
  /** the last n events of the alert log (all kept by default), oldest first */
  recent(n?: number): ProcsafeEvent[];
  /** per channel: waiting, delivered, failed, dropped (for status pages and metrics) */
  stats(): ChannelStats[];
  /**
   * A new [alert] section (reload): a channel whose settings are unchanged keeps its queue;
   * a changed or removed one finishes in the background (one more try per waiting alert,
   * at most closeWaitMs); the alert log goes on.
   */
  reconfigure(cfg: AlertConfig | null): void;
  /** Stops retrying, waits at most closeWaitMs (~2 s) for deliveries in flight and the alert log, then gives up (logged). */
  close(): Promise<void>;
}

interface Slot {
  /** the settings the channel was made from: unchanged settings keep the queue on reload */
  key: string;
  queue: DeliveryQueue;
  /** the event kinds this channel sends (`mail_events`, `webhook_events`, else `events`) */
  kinds: Set<string>;
}

/** Waits for the queues to finish (no more retries), at most `ms`, then gives up on the rest. */
async function retire(queues: DeliveryQueue[], why: string, ms: number, alsoWait: Promise<void>[] = []): Promise<void> {
  for (const q of queues) q.beginClose(why);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  try {
    await Promise.race([Promise.all([...queues.map((q) => q.idle()), ...alsoWait]), deadline]);
  } finally {
    clearTimeout(timer);
    for (const q of queues) q.stop();
  }
}

export function createAlerter(cfg: AlertConfig | null, opts: AlerterOptions): Alerter {
  const { log } = opts;
  const alertLog = new AlertLog(opts.stateDir, opts.keep ?? DEFAULT_KEEP, log);
  const delivery = {
    log,
    retryDelaysMs: (opts.retryDelaysMs ?? [...DEFAULT_RETRY_DELAYS_MS]).map((d) => Math.max(0, d)),
    limit: Math.max(1, opts.queueLimit ?? 100),
  };
  const closeWaitMs = opts.closeWaitMs ?? 2000;
  let slots: Slot[] = [];
  let kinds = new Set<string>();
  /** channels of an older configuration, still finishing */
  const retiring = new Set<Promise<void>>();
  let closed: Promise<void> | null = null;

  function wanted(c: AlertConfig | null): { key: string; kinds: Set<string>; make: () => DeliveryQueue }[] {
    const out: { key: string; kinds: Set<string>; make: () => DeliveryQueue }[] = [];
    if (c !== null && c.smtpHost !== null && c.mailTo.length > 0) {
      const m = { host: c.smtpHost, port: c.smtpPort, to: c.mailTo, from: c.mailFrom, timeoutMs: opts.smtpTimeoutMs ?? 15000 };
      out.push({ key: `mail ${JSON.stringify(m)}`, kinds: new Set(c.mailEvents ?? c.events), make: () => new DeliveryQueue(mailChannel(m), delivery) });
    }
    if (c !== null && c.webhookUrl !== null) {
      const url = c.webhookUrl;
      out.push({
        key: `webhook ${url}`,
        kinds: new Set(c.webhookEvents ?? c.events),
        make: () => new DeliveryQueue(webhookChannel(url, opts.webhookTimeoutMs ?? 5000, opts.userAgent ?? 'procsafe'), delivery),
      });
    }
    return out;
  }

  function reconfigure(c: AlertConfig | null): void {
    if (closed !== null) return;
    kinds = new Set(c?.syslogEvents ?? c?.events ?? []);
    const next: Slot[] = wanted(c).map((w) => {
      const kept = slots.find((s) => s.key === w.key);
      return kept ? { ...kept, kinds: w.kinds } : { key: w.key, queue: w.make(), kinds: w.kinds };
    });
    const keptQueues = new Set(next.map((s) => s.queue));
    const gone = slots.filter((s) => !keptQueues.has(s.queue)).map((s) => s.queue);
    slots = next;
    if (gone.length > 0) {
      const p = retire(gone, 'the [alert] configuration changed', closeWaitMs);
      retiring.add(p);
      void p.finally(() => retiring.delete(p));
    }
  }

  const emit: EventSink = (e) => {
    try {
      alertLog.add(e);
      if (closed !== null) return;
      if (kinds.has(e.kind)) log.notice(syslogLine(e));
      for (const s of slots) if (s.kinds.has(e.kind)) s.queue.push(e);
    } catch (err) {
      // an EventSink never throws into the daemon; this would be a bug (a cyclic field?)
      try {
        log.err(`Alert for ${String(e?.kind)} ${String(e?.subject)} not handled: ${(err as Error).message}`);
      } catch {
        /* nothing more to do */
      }
    }
  };

  reconfigure(cfg);
  return {
    emit,
    recent: (n) => alertLog.recent(n),
    stats: () => slots.map((s) => s.queue.stats()),
    reconfigure,
    close() {
      closed ??= retire(
        slots.map((s) => s.queue),
        'procsafe is stopping',
        closeWaitMs,
        [alertLog.compact(), ...retiring],
      );
      return closed;
    },
  };
}
