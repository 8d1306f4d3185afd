// Alert webhook to a real node:http server on loopback: the JSON event arrives; a non-2xx
// answer and a server that never answers are failures, logged and retried.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAlerter } from '../../src/alerts/alerter';
import type { ProcsafeEvent } from '../../src/core/events';
import type { AlertConfig } from '../../src/core/failsafe-model';
import { Logger } from '../../src/log/logger';

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

interface Hit {
  method: string;
  url: string;
  type: string;
  body: string;
}

describe('alert webhook', () => {
  let server: http.Server;
  let base = '';
  const hits: Hit[] = [];
  /** the statuses of the next answers; 'hang' never answers; then 204 */
  let answers: (number | 'hang')[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') });
        const a = answers.shift() ?? 204;
        if (a === 'hang') return;
        res.writeHead(a).end(a === 204 ? undefined : 'nope');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const event: ProcsafeEvent = {
    kind: 'group_restart',
    at: Date.UTC(2026, 10, 23, 9, 30, 0),
    server: 'web01',
    subject: 'web',
    message: 'Monitor web-http failed 2 times: restarting group web (group restart 1/2): HTTP 500 (expected 200)',
    fields: { group: 'web', monitor: 'web-http', action: 'restart_group', detail: 'HTTP 500 (expected 200)' },
  };
  const cfg = (path: string): AlertConfig => ({ events: ['group_restart'], mailTo: [], mailFrom: null, smtpHost: null, smtpPort: 25, webhookUrl: `${base}${path}` });

  it('POSTs the event as JSON', async () => {
    hits.length = 0;
    const { log } = memoryLogger();
    const alerter = createAlerter(cfg('/hooks/T0/secret'), { log, stateDir: null });
    alerter.emit(event);
    await waitFor('the POST', () => hits.length === 1);
    await alerter.close();
    assert.equal(hits[0].method, 'POST');
    assert.equal(hits[0].url, '/hooks/T0/secret');
    assert.equal(hits[0].type, 'application/json');
    assert.deepEqual(JSON.parse(hits[0].body), event);
    assert.equal(alerter.stats()[0].delivered, 1);
  });

  it('retries a non-2xx answer and logs it without the secret part of the URL', async () => {
    hits.length = 0;
    answers = [500, 503];
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(cfg('/hooks/T0/secret'), { log, stateDir: null, retryDelaysMs: [20, 20, 20] });
    alerter.emit(event);
    await waitFor('the third POST', () => hits.length === 3);
    await alerter.close();
    assert.deepEqual(
      lines.filter((l) => l.startsWith('Alert webhook')),
      [
        `Alert webhook to ${base}/… for group_restart web failed (attempt 1/4): HTTP 500 Internal Server Error; next try in 20ms`,
        `Alert webhook to ${base}/… for group_restart web failed (attempt 2/4): HTTP 503 Service Unavailable; next try in 20ms`,
        `Alert webhook to ${base}/… for group_restart web delivered (attempt 3/4)`,
      ],
    );
    assert.ok(!lines.some((l) => l.includes('secret')));
    assert.deepEqual(JSON.parse(hits[2].body), event);
  });

  it('counts a server that never answers as failed at the timeout', async () => {
    hits.length = 0;
    answers = ['hang'];
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(cfg('/'), { log, stateDir: null, webhookTimeoutMs: 200, retryDelaysMs: [20] });
    const t0 = Date.now();
    alerter.emit(event);
    await waitFor('the retry', () => hits.length === 2);
    await waitFor('the delivered line', () => lines.some((l) => l.includes('delivered')));
    await alerter.close();
    assert.ok(Date.now() - t0 >= 200);
    assert.equal(lines[1], `Alert webhook to ${base}/ for group_restart web failed (attempt 1/2): timed out; next try in 20ms`);
  });

  it('drops the oldest alert when the queue is full, and says so', async () => {
    hits.length = 0;
    answers = ['hang'];
    const { log, lines } = memoryLogger();
    const alerter = createAlerter(cfg('/'), { log, stateDir: null, webhookTimeoutMs: 300, retryDelaysMs: [], queueLimit: 2 });
    alerter.emit({ ...event, subject: 'a' }); // in flight, hangs
    await waitFor('the first POST', () => hits.length === 1);
    alerter.emit({ ...event, subject: 'b' });
    alerter.emit({ ...event, subject: 'c' });
    alerter.emit({ ...event, subject: 'd' }); // b is dropped
    assert.ok(lines.some((l) => /^Alert webhook to .* 2 alerts waiting, dropped the oldest: group_restart b of /.test(l)), lines.join('\n'));
    await waitFor('c and d', () => hits.length === 3);
    await alerter.close();
    assert.deepEqual(
      hits.map((h) => (JSON.parse(h.body) as ProcsafeEvent).subject),
      ['a', 'c', 'd'],
    );
    assert.deepEqual(alerter.stats()[0], { label: `webhook to ${base}/`, waiting: 0, delivered: 2, failed: 1, dropped: 1 });
  });

  it('on reload keeps an unchanged channel, moves to a changed URL, and stops for a kind no longer listed', async () => {
    hits.length = 0;
    const { log } = memoryLogger();
    const alerter = createAlerter(cfg('/one'), { log, stateDir: null });
    alerter.emit(event);
    await waitFor('the first POST', () => hits.length === 1 && alerter.stats()[0].delivered === 1);
    alerter.reconfigure(cfg('/one'));
    assert.equal(alerter.stats()[0].delivered, 1, 'same settings, same queue');
    alerter.reconfigure(cfg('/two'));
    assert.equal(alerter.stats()[0].delivered, 0, 'a new queue for the new URL');
    alerter.emit(event);
    await waitFor('the second POST', () => hits.length === 2);
    alerter.reconfigure({ ...cfg('/two'), events: ['final_action'] });
    alerter.emit(event);
    alerter.reconfigure(null);
    assert.deepEqual(alerter.stats(), []);
    alerter.emit(event);
    await alerter.close();
    assert.deepEqual(
      hits.map((h) => h.url),
      ['/one', '/two'],
    );
    assert.equal(alerter.recent().length, 4);
  });
});
