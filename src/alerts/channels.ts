// The two outside channels: mail through SMTP (nodemailer, one transporter) and a webhook
// (a JSON POST with fetch). Syslog is not a channel here: it is a log line (alerter.ts).
import { hostname } from 'node:os';
import { createTransport } from 'nodemailer';
import type { ProcsafeEvent } from '../core/events';
import type { Channel } from './delivery';
import { mailBody, mailSubject } from './format';

export interface MailOptions {
  host: string;
  port: number;
  to: string[];
  from: string | null;
  /** connect, greeting and socket timeouts of one try */
  timeoutMs: number;
}

export function mailChannel(o: MailOptions): Channel {
  const transporter = createTransport({
    host: o.host,
    port: o.port,
    // 465 is SMTP over TLS; on other ports STARTTLS is used when the relay offers it
    secure: o.port === 465,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    dnsTimeout: o.timeoutMs,
    name: hostname(),
  });
  const from = o.from ?? `procsafe@${hostname()}`;
  return {
    label: `mail to ${o.to.join(', ')}`,
    async send(e: ProcsafeEvent) {
      await transporter.sendMail({
        from,
        to: o.to,
        subject: mailSubject(e),
        text: mailBody(e),
        headers: { 'X-Procsafe-Event': e.kind, 'X-Procsafe-Server': e.server },
      });
    },
    isPermanent(err: unknown) {
      // 5xx: the relay refuses this mail (unknown recipient, policy); another try gets the same answer
      const code = (err as { responseCode?: unknown } | null)?.responseCode;
      return typeof code === 'number' && code >= 500 && code < 600;
    },
    close() {
      transporter.close();
    },
  };
}

/** `https://hooks.example.com/…`: webhook URLs often carry their secret in the path or query, so logs show the origin only. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname === '/' && u.search === '' ? '/' : '/…'}`;
  } catch {
    return '(a bad URL)';
  }
}

export function webhookChannel(url: string, timeoutMs: number, userAgent: string): Channel {
  return {
    label: `webhook to ${safeUrl(url)}`,
    async send(e: ProcsafeEvent, signal: AbortSignal) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent },
        body: JSON.stringify(e),
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      // read the answer so the connection is reused/closed, not left half-read
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    },
  };
}
