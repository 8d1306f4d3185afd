// Alert mail through a real SMTP server on loopback (the smtp-server package): the mail of
// a retry-over arrives with server, entry and action; with the server down, emit() still
// returns at once, the event loop keeps its pace, each failure is logged with its attempt
// count, and the mail arrives once the server is up.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSmtp } from '../helpers/smtp';
import { createAlerter } from '../../src/alerts/alerter';
import type { ProcsafeEvent } from '../../src/core/events';
import type { AlertConfig } from '../../src/core/failsafe-model';
import { Logger } from '../../src/log/logger';


/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger([{ write: (_sev, m) => void lines.push(m) }]), lines };
}

async function waitFor(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The "monitoring": a 10 ms timer whose worst lateness is measured. */
function ticker(): { stop: () => { ticks: number; worstGap: number } } {
  let last = performance.now();
  let worstGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
    ticks++;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return { ticks, worstGap };
    },
  };
}

/** Headers unfolded, and a quoted-printable body's soft breaks and =XX undone. */
function readable(raw: string): { headers: string; body: string } {
  const i = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, i).replace(/\r\n[ \t]+/g, ' ');
  let body = raw.slice(i + 4);
  if (/^content-transfer-encoding:\s*quoted-printable/im.test(headers)) {
    body = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

const retryOver = (): ProcsafeEvent => ({
  kind: 'retry_over',
  at: Date.UTC(2026, 10, 23, 9, 0, 1),
  server: 'web01',
  subject: '/usr/bin/java',
  message: '(/usr/bin/java) RETRY_OVER:EXIT',
  fields: { pfile: '/etc/web.pfile', pentId: 1, pid: null, action: 'exit' },
});

const config = (port: number, events: string[] = ['retry_over']): AlertConfig => ({
  events,
  mailTo: ['ops@example.com', 'oncall@example.com'],
  mailFrom: 'procsafe@web01.example.com',
  smtpHost: '127.0.0.1',
  smtpPort: port,
  webhookUrl: null,
});

describe('alert mail', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'procsafe-alerts-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('sends a retry-over to a real SMTP server with server, entry and action in subject and body', async () => {
    const smtp = await startSmtp();
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(config(smtp.port), { log, stateDir: tmp(), smtpTimeoutMs: 2000 });
    try {
      alerter.emit(retryOver());
      await waitFor('the mail', () => smtp.mails.length === 1);
      const m = smtp.mails[0];
      assert.equal(m.from, 'procsafe@web01.example.com');
      assert.deepEqual(m.to, ['ops@example.com', 'oncall@example.com']);
      const { headers, body } = readable(m.raw);
      assert.match(headers, /^Subject: \[procsafe\] web01: retry_over \/usr\/bin\/java$/m);
      assert.match(headers, /^X-Procsafe-Event: retry_over$/m);
      assert.match(body, /^Server: +web01$/m);
      assert.match(body, /^Time: +2026-11-23T09:00:01\.000Z/m);
      assert.match(body, /^Kind: +retry_over$/m);
      assert.match(body, /^Subject: +\/usr\/bin\/java$/m);
      assert.match(body, /^Message: +\(\/usr\/bin\/java\) RETRY_OVER:EXIT$/m);
      assert.match(body, /^ {2}action: +exit$/m);
      assert.match(body, /^ {2}pfile: +\/etc\/web\.pfile$/m);
      assert.match(body, /^ {2}pid: +-$/m);
      // and to syslog, through the log, at once
      assert.ok(lines.includes('ALERT retry_over /usr/bin/java: (/usr/bin/java) RETRY_OVER:EXIT'), lines.join('\n'));
      // the server has the mail a moment before the client has its answer
      await waitFor('the delivery to count', () => alerter.stats()[0].delivered === 1);
      assert.deepEqual(alerter.stats(), [{ label: 'mail to ops@example.com, oncall@example.com', waiting: 0, delivered: 1, failed: 0, dropped: 0 }]);
    } finally {
      await alerter.close();
      await smtp.close();
    }
  });

  it('with the SMTP server down, returns from emit at once, keeps the loop on time, logs each retry and delivers once the server is up', async (t) => {
    const port = await freePort();
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(config(port, ['retry_over', 'down']), { log, stateDir: tmp(), smtpTimeoutMs: 2000, retryDelaysMs: [100, 200, 300, 5000] });
    let smtp: Awaited<ReturnType<typeof startSmtp>> | null = null;
    const loop = ticker();
    try {
      // three alerts, each emit timed: the best shows what emit costs (the others may include
      // the scheduler of a busy 2-CPU CI box); none may wait for the network
      const emitMs: number[] = [];
      for (const e of [retryOver(), { ...retryOver(), kind: 'down' as const, subject: '/usr/sbin/httpd', message: 'Process [/usr/sbin/httpd , pid=4242] Down' }, { ...retryOver(), subject: '/usr/bin/node', message: '(/usr/bin/node) RETRY_OVER:EXIT' }]) {
        const t0 = performance.now();
        alerter.emit(e);
        emitMs.push(performance.now() - t0);
      }
      assert.ok(Math.min(...emitMs) < 5, `emit took ${emitMs.map((x) => x.toFixed(2)).join(', ')} ms`);
      assert.ok(Math.max(...emitMs) < 50, `emit took ${emitMs.map((x) => x.toFixed(2)).join(', ')} ms`);

      await waitFor('the second failure', () => lines.some((l) => l.includes('attempt 2/5')));
      const failures = lines.filter((l) => l.startsWith('Alert mail to '));
      assert.equal(failures[0], 'Alert mail to ops@example.com, oncall@example.com for retry_over /usr/bin/java failed (attempt 1/5): ECONNREFUSED; next try in 100ms');
      assert.equal(failures[1], 'Alert mail to ops@example.com, oncall@example.com for retry_over /usr/bin/java failed (attempt 2/5): ECONNREFUSED; next try in 200ms');
      assert.deepEqual(alerter.stats()[0], { label: 'mail to ops@example.com, oncall@example.com', waiting: 2, delivered: 0, failed: 0, dropped: 0 });

      smtp = await startSmtp(port);
      const mails = smtp.mails;
      // the retried one first, then the two that waited behind it, in order
      await waitFor('the three mails', () => mails.length === 3);
      assert.deepEqual(
        mails.map((m) => /^Subject: (.*)$/m.exec(readable(m.raw).headers)?.[1]),
        ['[procsafe] web01: retry_over /usr/bin/java', '[procsafe] web01: down /usr/sbin/httpd', '[procsafe] web01: retry_over /usr/bin/node'],
      );
      await waitFor('the delivered line', () => lines.some((l) => l.includes('delivered (attempt 3/5)')));
      assert.ok(lines.includes('Alert mail to ops@example.com, oncall@example.com for retry_over /usr/bin/java delivered (attempt 3/5)'), lines.join('\n'));
      assert.equal(lines.filter((l) => / failed \(attempt /.test(l)).length, 2);

      const { ticks, worstGap } = loop.stop();
      t.diagnostic(`emit ${emitMs.map((x) => x.toFixed(3)).join(' / ')} ms; ${ticks} ticks of a 10 ms timer meanwhile, worst gap ${worstGap.toFixed(1)} ms`);
      assert.ok(ticks >= 20, `only ${ticks} ticks`);
      assert.ok(worstGap < 250, `the 10 ms timer was late: a gap of ${worstGap.toFixed(1)} ms`);
    } finally {
      loop.stop();
      await alerter.close();
      await smtp?.close();
    }
  });

  it('with an SMTP server that accepts and never answers, the loop keeps its pace and the try times out', async (t) => {
    // a blocking delivery would stall the loop for the whole SMTP timeout (400 ms) here; the bound
    // of 250 ms leaves room for a busy CI box (typically 15-25 ms)
    const sockets: net.Socket[] = [];
    const hole = net.createServer((sock) => void sockets.push(sock));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(config((hole.address() as net.AddressInfo).port), { log, stateDir: null, smtpTimeoutMs: 400, retryDelaysMs: [50] });
    const loop = ticker();
    try {
      const t0 = performance.now();
      alerter.emit(retryOver());
      const emitMs = performance.now() - t0;
      await waitFor('the give-up', () => lines.some((l) => l.includes('given up')), 5000);
      const { ticks, worstGap } = loop.stop();
      t.diagnostic(`emit ${emitMs.toFixed(3)} ms; 2 tries of 400 ms; ${ticks} ticks of a 10 ms timer meanwhile, worst gap ${worstGap.toFixed(1)} ms`);
      assert.ok(emitMs < 50, `emit took ${emitMs.toFixed(2)} ms`);
      assert.ok(worstGap < 250, `the 10 ms timer was late: a gap of ${worstGap.toFixed(1)} ms`);
      assert.ok(ticks >= 40, `only ${ticks} ticks`);
      // the greeting timer or the socket timer, whichever fires first
      const failures = lines.filter((l) => l.startsWith('Alert mail'));
      assert.equal(failures.length, 2, lines.join('\n'));
      assert.match(failures[0], /^Alert mail to ops@example\.com, oncall@example\.com for retry_over \/usr\/bin\/java failed \(attempt 1\/2\): ETIMEDOUT: (Greeting never received|Timeout); next try in 50ms$/);
      assert.match(failures[1], /^Alert mail to .* failed \(attempt 2\/2\): ETIMEDOUT: (Greeting never received|Timeout); given up$/);
    } finally {
      loop.stop();
      await alerter.close();
      for (const s of sockets) s.destroy();
      hole.close();
    }
  });

  it('gives up after the last retry and says so, and close() does not wait for the backoff', async () => {
    const port = await freePort();
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(config(port), { log, stateDir: null, smtpTimeoutMs: 1000, retryDelaysMs: [20, 20] });
    alerter.emit(retryOver());
    await waitFor('the give-up', () => lines.some((l) => l.includes('given up')));
    assert.ok(lines.includes('Alert mail to ops@example.com, oncall@example.com for retry_over /usr/bin/java failed (attempt 3/3): ECONNREFUSED; given up'), lines.join('\n'));
    assert.equal(alerter.stats()[0].failed, 1);

    // a second alert waits in a long backoff: close ends it at once, logged
    const slow = createAlerter(config(port), { log, stateDir: null, smtpTimeoutMs: 1000, retryDelaysMs: [60000] });
    slow.emit(retryOver());
    await waitFor('the first failure', () => lines.some((l) => l.includes('next try in 1m')));
    const t0 = Date.now();
    await slow.close();
    assert.ok(Date.now() - t0 < 500, `close took ${Date.now() - t0} ms`);
    assert.ok(lines.includes('Alert mail to ops@example.com, oncall@example.com for retry_over /usr/bin/java given up after attempt 1/2: procsafe is stopping'), lines.join('\n'));
    await alerter.close();
  });

  it('mails only the kinds listed in events, and keeps every kind in the alert log', async () => {
    const smtp = await startSmtp();
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(config(smtp.port, ['retry_over']), { log, stateDir: tmp(), smtpTimeoutMs: 2000 });
    try {
      alerter.emit({ ...retryOver(), kind: 'restart', message: 'Try to restart (/usr/bin/java)' });
      alerter.emit(retryOver());
      await waitFor('the mail', () => smtp.mails.length === 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(smtp.mails.length, 1);
      assert.match(readable(smtp.mails[0].raw).headers, /^Subject: .* retry_over /m);
      assert.deepEqual(
        alerter.recent().map((e) => e.kind),
        ['restart', 'retry_over'],
      );
      assert.equal(lines.filter((l) => l.startsWith('ALERT ')).length, 1);
    } finally {
      await alerter.close();
      await smtp.close();
    }
  });
});
