// Client addresses: `[web] allow` (and METRICS_ALLOW) over real sockets. The client's source
// address is a second loopback address (127.0.0.2: Linux routes all of 127/8 to lo), so a
// refused client is a real connection from another address, not a faked header.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../src/log/logger';
import { MAX_OUTSIDE_CONNECTIONS, createGate } from '../../src/web/access';
import { startMetricsServer } from '../../src/web/metrics-server';
import { startWebServer, type WebServer } from '../../src/web/server';
import { FailsafeSandbox } from '../helpers/failsafe';
import { sampleEvent, sampleStatus } from './fixture';
import { http } from './http';
import { freePort } from './ports';

/** GET `path` on `base` from the source address `from`. */
const getFrom = (from: string, base: string, path: string, headers: Record<string, string> = {}) => http(base, 'GET', path, { headers, from });

describe('client addresses ([web] allow)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procsafe-access-'));
  const logLines: string[] = [];
  const log = new Logger([{ write: (_s, m) => void logLines.push(m) }]);
  const servers: WebServer[] = [];
  const start = async (listen: string, allow: string[] | null): Promise<{ base: string; token: string }> => {
    const web = await startWebServer({
      listen,
      allow,
      tokenFile: join(dir, 'web.token'),
      stateDir: dir,
      log,
      status: () => sampleStatus(),
      recentEvents: () => [sampleEvent()],
      metrics: () => '',
      act: async () => ({ ok: true, message: 'done' }),
    });
    servers.push(web);
    return { base: web.baseUrl, token: new URL(web.url).searchParams.get('token')! };
  };
  let open: { base: string; token: string };
  let only1: { base: string; token: string };
  let any: { base: string; token: string };

  before(async () => {
    open = await start('127.0.0.1:0', null);
    only1 = await start('127.0.0.1:0', ['127.0.0.1/32']);
    any = await start('[::]:0', ['127.0.0.1', '10.0.0.0/8']);
  });
  after(async () => {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('by default (loopback listen, no allow) admits every loopback client, 127.0.0.2 too', async () => {
    const auth = { Authorization: `Bearer ${open.token}` };
    assert.equal((await getFrom('127.0.0.1', open.base, '/api/status', auth)).status, 200);
    assert.equal((await getFrom('127.0.0.2', open.base, '/api/status', auth)).status, 200);
  });

  it('refuses a client outside the list with 403 before looking at the token, on every route, the page too', async () => {
    const auth = { Authorization: `Bearer ${only1.token}` };
    assert.equal((await getFrom('127.0.0.1', only1.base, '/api/status', auth)).status, 200);
    for (const [path, headers] of [
      ['/', {}],
      ['/app.js', {}],
      ['/api/status', auth],
      ['/api/status', {}],
      ['/api/status', { Authorization: 'Bearer wrong-token-wrong-token' }],
      ['/metrics', auth],
      [`/api/events?token=${only1.token}`, {}],
      ['/no/such/route', {}],
    ] as const) {
      const r = await getFrom('127.0.0.2', only1.base, path, headers);
      assert.equal(r.status, 403, `${path} ${JSON.stringify(headers)}`);
      assert.equal(r.headers['www-authenticate'], undefined, 'no hint that a token would help');
      assert.match(r.body, /forbidden: the address 127\.0\.0\.2 is not allowed \(\[web\] allow; see docs\/web\.md\)/);
      assert.ok(!r.body.includes('fixture-host') && !r.body.includes('<html'), 'no data and no page');
      assert.match(String(r.headers['content-security-policy']), /^default-src 'self'/);
    }
    // the token is checked only for admitted clients: 401 from 127.0.0.1 without it
    assert.equal((await getFrom('127.0.0.1', only1.base, '/api/status')).status, 401);
  });

  it('logs the refused addresses, at most one line a minute', async () => {
    const lines = logLines.filter((l) => l.includes('not in [web] allow'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /^Web: refused 1 request\(s\) from an address not in \[web\] allow, the last from 127\.0\.0\.2 \(GET \/\)$/);
  });

  it('listening on every address (dual stack), admits the listed blocks only: an IPv4 client arrives as ::ffff:127.0.0.1', async () => {
    const auth = { Authorization: `Bearer ${any.token}` };
    const base = any.base.replace('[::]', '127.0.0.1');
    assert.equal((await getFrom('127.0.0.1', base, '/api/status', auth)).status, 200);
    const refused = await getFrom('127.0.0.2', base, '/api/status', auth);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /the address ::ffff:127\.0\.0\.2 is not allowed/);
  });

  it('an IPv6 loopback client is admitted by default on [::1] and refused by an IPv4-only list', async () => {
    const v6 = await start('[::1]:0', null);
    assert.equal((await getFrom('::1', v6.base, '/api/status', { Authorization: `Bearer ${v6.token}` })).status, 200);
    const v6only4 = await start('[::1]:0', ['127.0.0.1']);
    assert.equal((await getFrom('::1', v6only4.base, '/api/status', { Authorization: `Bearer ${v6only4.token}` })).status, 403);
  });

  it('a server listening on a non-loopback address without allow does not start', async () => {
    await assert.rejects(start('0.0.0.0:0', null), /\[web\] allow: 0\.0\.0\.0:0 is reachable from other machines, so say which clients may connect/);
    assert.throws(() => createGate({ listen: '[::]:1', allow: null, allowKey: 'METRICS_ALLOW', token: 'x'.repeat(16), log }), /METRICS_ALLOW: \[::\]:1 is reachable/);
  });
});

describe('a real pcheck --config with [web] on a non-loopback address', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('without allow: exits 2 at once, naming the file, the line and what to add; with allow: serves, 403 to others', async () => {
    const port = await freePort('0.0.0.0');
    sb.ini(`[group:app]\nstart = /bin/true\n\n[web]\nlisten = 0.0.0.0:${port}\ntoken_file = ${join(sb.dir, 'web.token')}\n`);
    const refused = sb.failsafe(['--rehearse']);
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr, new RegExp(`^pcheck: ${sb.iniPath}:10: \\[web\\] listen = "0\\.0\\.0\\.0:${port}": 0\\.0\\.0\\.0:${port} is reachable from other machines, so say which clients may connect: add allow = 127\\.0\\.0\\.1, 192\\.0\\.2\\.10, 198\\.51\\.100\\.0/24`));

    sb.ini(`[group:app]\nstart = /bin/true\n\n[web]\nlisten = 0.0.0.0:${port}\nallow = 127.0.0.1\ntoken_file = ${join(sb.dir, 'web.token')}\n`);
    const pc = sb.failsafe(['--rehearse']);
    await pc.waitLine(`Web page: http://0.0.0.0:${port}/`);
    const base = `http://127.0.0.1:${port}/`;
    assert.equal((await getFrom('127.0.0.1', base, '/')).status, 200);
    assert.equal((await getFrom('127.0.0.1', base, '/api/status')).status, 401);
    assert.equal((await getFrom('127.0.0.2', base, '/api/status')).status, 403);
  });
});

describe('a flood of connections from outside the list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procsafe-flood-'));
  const logLines: string[] = [];
  const log = new Logger([{ write: (_s, m) => void logLines.push(m) }]);
  const sockets: Socket[] = [];
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const c of closers) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens `n` idle connections (no request) from 127.0.0.2; resolves once all are accepted or closed. */
  const flood = async (base: string, n: number): Promise<{ open: () => number }> => {
    const u = new URL(base);
    let open = 0;
    const mine = await Promise.all(
      Array.from({ length: n }, () => new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: u.hostname, port: Number(u.port), localAddress: '127.0.0.2' }, () => {
          open++;
          resolve(s);
        });
        s.on('error', () => undefined);
        s.once('close', () => open--);
        s.once('error', reject);
      })),
    );
    sockets.push(...mine);
    // the server closes what it will not keep: wait until that has settled
    let last = -1;
    while (last !== open) {
      last = open;
      await new Promise((r) => setTimeout(r, 300));
    }
    return { open: () => open };
  };

  it('the web server keeps serving the allowed clients while 300 idle connections from outside are open; it keeps 16 of them, 5 s at most', async () => {
    const web = await startWebServer({
      listen: '127.0.0.1:0', allow: ['127.0.0.1/32'], tokenFile: join(dir, 'web.token'), stateDir: dir, log,
      status: () => sampleStatus(), recentEvents: () => [sampleEvent()], metrics: () => '', act: async () => ({ ok: true, message: 'done' }),
    });
    closers.push(() => web.close());
    const token = new URL(web.url).searchParams.get('token')!;
    const f = await flood(web.baseUrl, 300);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) assert.equal((await getFrom('127.0.0.1', web.baseUrl, '/api/status', { Authorization: `Bearer ${token}` })).status, 200);
    assert.ok(performance.now() - t0 < 2000, `5 requests took ${Math.round(performance.now() - t0)} ms`);
    assert.equal(f.open(), MAX_OUTSIDE_CONNECTIONS, 'the server closed the connections beyond the cap at once');
    assert.match(logLines.join('\n'), /^Web: refused \d+ request\(s\) from an address not in \[web\] allow, the last from 127\.0\.0\.2 \(a connection closed at once: 16 from outside the list already open\)$/m);
    const t1 = performance.now();
    while (f.open() > 0 && performance.now() - t1 < 12_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(f.open(), 0, 'the idle connections from outside are closed after 5 s');
    // then a polite client outside the list gets again its 403 and the connection is closed after it
    const refused = await getFrom('127.0.0.2', web.baseUrl, '/api/status');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.connection, 'close');
  });

  it('so does the /metrics server of pcheck -f (METRICS_ALLOW), logging as Metrics', async () => {
    const m = await startMetricsServer({ listen: '127.0.0.1:0', tokenFile: join(dir, 'metrics.token'), allow: ['127.0.0.1'], allowKey: 'METRICS_ALLOW', log, metrics: () => 'procsafe_up 1\n' });
    closers.push(() => m.close());
    const token = readFileSync(join(dir, 'metrics.token'), 'utf8').trim();
    const f = await flood(m.url, 300);
    const r = await getFrom('127.0.0.1', m.url, '/metrics', { Authorization: `Bearer ${token}` });
    assert.equal(r.status, 200);
    assert.equal(f.open(), MAX_OUTSIDE_CONNECTIONS);
    assert.match(logLines.join('\n'), /^Metrics: refused \d+ request\(s\) from an address not in METRICS_ALLOW, the last from 127\.0\.0\.2 \(a connection closed at once/m);
  });
});
