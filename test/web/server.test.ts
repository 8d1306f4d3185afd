// The web server over real HTTP on loopback: the token (file, 401 with no data, header only
// for POSTs), the routes, the limits, the security headers, the live feed and /metrics.
// Its inputs are a literal StatusView and an act() that records what it is asked to do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ExitCode, ProcsafeError } from '../../src/errors';
import { Logger } from '../../src/log/logger';
import { ASSET_DIR } from '../../src/web/assets';
import { LatencyHistograms, renderMetrics } from '../../src/web/metrics';
import { MAX_BODY_BYTES, parseListen, startWebServer, type WebAction, type WebServer } from '../../src/web/server';
import { sampleEvent, sampleStatus } from './fixture';
import { http, SseReader } from './http';
import { strictParse } from './prom-check';

const SECRETS = ['fixture-host', 'secret-group-web', '/usr/bin/node', 'web-http', '4242'];

function assertNoData(body: string): void {
  for (const s of SECRETS) assert.ok(!body.includes(s), `the body leaks ${s}: ${body}`);
}

describe('web server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procsafe-web-'));
  const stateDir = join(dir, 'state');
  const logLines: string[] = [];
  const log = new Logger([{ write: (_s, m) => void logLines.push(m) }]);
  let status = sampleStatus();
  const events = [sampleEvent()];
  const actions: WebAction[] = [];
  let actResult: { ok: boolean; message: string } | Error = { ok: true, message: 'done' };
  let web: WebServer;
  let base: string;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const json = () => ({ ...auth(), 'Content-Type': 'application/json' });

  before(async () => {
    web = await startWebServer({
      listen: '127.0.0.1:0',
      tokenFile: null,
      stateDir,
      log,
      status: () => status,
      recentEvents: () => events,
      metrics: () => renderMetrics(status, { mode: 'failsafe', loopLagSeconds: 0.002, latency: new LatencyHistograms() }),
      act: async (a) => {
        actions.push(a);
        if (actResult instanceof Error) throw actResult;
        return actResult;
      },
      heartbeatMs: 100,
    });
    base = web.baseUrl;
    token = new URL(web.url).searchParams.get('token')!;
  });
  after(async () => {
    await web.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a missing token file: 32 random bytes in hex, mode 0600, in a new directory of mode 0700', () => {
    const file = join(stateDir, 'web.token');
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(readFileSync(file, 'utf8'), `${token}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    assert.ok(logLines.some((l) => l.includes(`Web token generated in ${file}`)));
    assert.ok(logLines.some((l) => l === `Web page on ${base} (token in ${file})`), 'the log names the URL without the token');
    assert.ok(!logLines.some((l) => l.includes(token)), 'the token itself is never logged');
    assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
  });

  it('reuses an existing token file, and refuses to start on a malformed one, naming the file', async () => {
    const again = await startWebServer({ ...optsFor(join(stateDir, 'web.token')) });
    try {
      assert.equal(new URL(again.url).searchParams.get('token'), token);
    } finally {
      await again.close();
    }
    const bad = join(dir, 'bad.token');
    writeFileSync(bad, 'too short\n', { mode: 0o600 });
    await assert.rejects(startWebServer(optsFor(bad)), (e: Error) => e.message.includes(bad) && /16 to 1024 visible ASCII/.test(e.message));
  });

  function optsFor(tokenFile: string) {
    return {
      listen: '127.0.0.1:0',
      tokenFile,
      stateDir,
      log,
      status: () => status,
      recentEvents: () => events,
      metrics: () => '',
      act: async () => ({ ok: true, message: '' }),
    };
  }

  it('answers 401 with no data to every data route without a token, with a wrong one, or with another scheme', async () => {
    const routes: [string, string][] = [
      ['GET', '/api/status'],
      ['GET', '/api/alerts'],
      ['GET', '/api/events'],
      ['GET', '/metrics'],
      ['GET', '/no/such/route'],
      ['POST', '/api/groups/secret-group-web/restart'],
      ['POST', '/api/entries/reset'],
    ];
    const wrong: Record<string, string>[] = [{}, { Authorization: `Bearer ${'0'.repeat(64)}` }, { Authorization: `Bearer ${token}x` }, { Authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}` }, { Authorization: 'Bearer' }];
    for (const [method, path] of routes) {
      for (const headers of wrong) {
        const r = await http(base, method, path, { headers });
        assert.equal(r.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
        assert.equal(r.headers['www-authenticate'], 'Bearer realm="procsafe"');
        assertNoData(r.body);
      }
    }
    assert.equal(actions.length, 0);
    // the query string is accepted only by the live feed
    const q = await http(base, 'GET', `/api/status?token=${token}`);
    assert.equal(q.status, 401);
    assertNoData(q.body);
  });

  it('serves the status as padmin status --json does, and the alert log, with the token in the header', async () => {
    const r = await http(base, 'GET', '/api/status', { headers: auth() });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type']!, /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), JSON.parse(JSON.stringify(status)));
    const lower = await http(base, 'GET', '/api/alerts', { headers: { Authorization: `bearer ${token}` } });
    assert.equal(lower.status, 200, 'the scheme is case-insensitive');
    assert.deepEqual(JSON.parse(lower.body), JSON.parse(JSON.stringify(events)));
  });

  it('refuses a POST whose token is only in the query string: state changes need the header', async () => {
    const r = await http(base, 'POST', `/api/groups/secret-group-web/restart?token=${token}`, { headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 401);
    const c = await http(base, 'POST', '/api/groups/secret-group-web/restart', { headers: { Cookie: `token=${token}` } });
    assert.equal(c.status, 401);
    assert.equal(actions.length, 0);
  });

  it('runs group, monitor and entry operations with the header and answers their message', async () => {
    actions.length = 0;
    actResult = { ok: true, message: 'group secret-group-web: restart requested (now Online)' };
    const g = await http(base, 'POST', '/api/groups/secret-group-web/restart', { headers: auth() });
    assert.equal(g.status, 200);
    assert.deepEqual(JSON.parse(g.body), { ok: true, message: 'group secret-group-web: restart requested (now Online)' });
    const m = await http(base, 'POST', '/api/monitors/web%20http/suspend', { headers: json(), body: '{}' });
    assert.equal(m.status, 200);
    const e = await http(base, 'POST', '/api/entries/reset', { headers: json(), body: JSON.stringify({ pfile: '/etc/procsafe/web.pfile', pentId: 2 }) });
    assert.equal(e.status, 200);
    assert.deepEqual(actions, [
      { target: 'group', op: 'restart', name: 'secret-group-web' },
      { target: 'monitor', op: 'suspend', name: 'web http' },
      { target: 'entry', op: 'reset', pfile: '/etc/procsafe/web.pfile', pentId: 2 },
    ]);
    assert.ok(logLines.some((l) => l.startsWith('Web: group restart secret-group-web requested from 127.0.0.1')));
  });

  it('answers 409 with the reason when the daemon does not do it, and 500 without details when it fails', async () => {
    actResult = { ok: false, message: 'no group "nope"; groups: secret-group-web, db' };
    const r = await http(base, 'POST', '/api/groups/nope/start', { headers: auth() });
    assert.equal(r.status, 409);
    assert.deepEqual(JSON.parse(r.body), { ok: false, message: 'no group "nope"; groups: secret-group-web, db' });
    actResult = new Error('boom at /secret/path');
    const f = await http(base, 'POST', '/api/groups/db/start', { headers: auth() });
    assert.equal(f.status, 500);
    assert.ok(!f.body.includes('/secret/path'));
    assert.ok(logLines.some((l) => l.includes('boom at /secret/path')), 'the reason goes to the log');
    actResult = { ok: true, message: 'done' };
  });

  it('takes only JSON bodies of the documented shape, and only POST on operations', async () => {
    actions.length = 0;
    const cases: [string, string, Record<string, string>, string | undefined, number][] = [
      ['POST', '/api/entries/reset', auth(), 'pfile=/x&pentId=1', 415],
      ['POST', '/api/entries/reset', { ...auth(), 'Content-Type': 'text/plain' }, '{"pfile":"/x","pentId":1}', 415],
      ['POST', '/api/entries/reset', json(), '{"pfile":"/x",', 400],
      ['POST', '/api/entries/reset', json(), '[1,2]', 400],
      ['POST', '/api/entries/reset', json(), '{"pfile":"/x","pentId":0}', 400],
      ['POST', '/api/entries/reset', json(), '{"pfile":"/x","pentId":"1"}', 400],
      ['POST', '/api/entries/reset', json(), '{"pfile":"","pentId":1}', 400],
      ['POST', '/api/entries/reset', json(), '{"pfile":"/x","pentId":1,"admin":true}', 400],
      ['POST', '/api/entries/reset', json(), undefined, 400],
      ['POST', '/api/entries/kill', json(), '{"pfile":"/x","pentId":1}', 404],
      ['POST', '/api/groups/web/explode', auth(), undefined, 404],
      ['POST', '/api/groups/%E0%A4%A/start', auth(), undefined, 400],
      ['POST', '/api/groups/a%0Ab/start', auth(), undefined, 400],
      ['GET', '/api/groups/web/restart', auth(), undefined, 405],
      ['DELETE', '/api/status', auth(), undefined, 405],
      ['POST', '/api/groups/web/start', { ...auth(), 'Content-Type': 'application/json' }, 'not json', 400],
    ];
    for (const [method, path, headers, body, want] of cases) {
      const r = await http(base, method, path, { headers, body });
      assert.equal(r.status, want, `${method} ${path} ${body ?? ''}: ${r.body}`);
      assert.equal(typeof (JSON.parse(r.body) as { error: string }).error, 'string');
    }
    assert.equal(actions.length, 0);
  });

  it(`refuses a body over ${MAX_BODY_BYTES / 1024} KiB with 413 and does not act, declared or streamed`, async () => {
    actions.length = 0;
    const big = JSON.stringify({ pfile: `/${'x'.repeat(MAX_BODY_BYTES)}`, pentId: 1 });
    const declared = await http(base, 'POST', '/api/entries/reset', { headers: { ...json(), 'Content-Length': String(Buffer.byteLength(big)) }, body: big });
    assert.equal(declared.status, 413);
    const streamed = await http(base, 'POST', '/api/entries/reset', { headers: json(), body: big }); // chunked: no length
    assert.equal(streamed.status, 413);
    assert.equal(actions.length, 0);
    const fits = JSON.stringify({ pfile: `/${'x'.repeat(4000)}`, pentId: 1 });
    assert.equal((await http(base, 'POST', '/api/entries/reset', { headers: json(), body: fits })).status, 200);
  });

  it('sends Content-Security-Policy default-src self, nosniff, no-referrer and no-store on pages, API answers and refusals', async () => {
    const pages: [string, Record<string, string>][] = [['/', {}], ['/app.js', {}], ['/app.css', {}], ['/api/status', auth()], ['/api/status', {}], ['/metrics', auth()]];
    for (const [path, headers] of pages) {
      const r = await http(base, 'GET', path, { headers });
      const csp = String(r.headers['content-security-policy'] ?? '');
      assert.match(csp, /(^|; )default-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.equal(String(r.headers['x-content-type-options']), 'nosniff', path);
      assert.equal(r.headers['referrer-policy'], 'no-referrer', path);
      assert.equal(r.headers['cache-control'], 'no-store', path);
    }
  });

  it('serves the page shell without a token: static HTML, JS and CSS with no data and no inline script or style', async () => {
    const page = await http(base, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.body, readFileSync(join(ASSET_DIR, 'index.html'), 'utf8'));
    assertNoData(page.body);
    assert.equal(/<script(?![^>]*\bsrc=)[^>]*>/.test(page.body), false, 'every script has a src');
    assert.equal(/\sstyle=|<style/.test(page.body), false, 'no inline style');
    assert.equal(/\son[a-z]+=/.test(page.body), false, 'no inline event handler');
    const js = await http(base, 'GET', '/app.js');
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    for (const file of ['app.js', 'dom.js', 'cards.js']) {
      const code = readFileSync(join(ASSET_DIR, file), 'utf8');
      assert.equal((await http(base, 'GET', `/${file}`)).body, code);
      assert.match(code, /^\/\/ @ts-check\n/, `${file} is type-checked by npm run typecheck`);
      const copy = join(dir, `${file.replace('.js', '')}.mjs`);
      writeFileSync(copy, code);
      const check = spawnSync(process.execPath, ['--check', copy], { encoding: 'utf8' });
      assert.equal(check.status, 0, `${file} is a valid ES module: ${check.stderr}`);
      assert.equal(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/.test(code), false, `${file}: data never goes in as HTML`);
    }
    assert.match(page.body, /<script type="module" src="\/app\.js"><\/script>/);
    const css = await http(base, 'GET', '/app.css');
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.equal(css.body, readFileSync(join(ASSET_DIR, 'app.css'), 'utf8'));
    assert.equal((await http(base, 'POST', '/', { headers: auth() })).status, 405);
  });

  it('a live client gets the status at once, then published alerts, status changes and heartbeats', async () => {
    const r = new SseReader(base, '/api/events', auth());
    try {
      assert.equal(await r.opened, 200);
      await r.waitFor((x) => x.of('status').length === 1);
      assert.deepEqual(JSON.parse(r.of('status')[0].data), JSON.parse(JSON.stringify(status)));
      const ev = sampleEvent({ kind: 'restart', message: 'Try to restart (/usr/bin/node)' });
      web.publish(ev);
      await r.waitFor((x) => x.of('alert').length === 1);
      assert.deepEqual(JSON.parse(r.of('alert')[0].data), ev);
      status = sampleStatus();
      status.groups[0].state = 'Stopping';
      web.statusChanged();
      await r.waitFor((x) => x.of('status').length === 2);
      assert.equal((JSON.parse(r.of('status')[1].data) as typeof status).groups[0].state, 'Stopping');
      await r.waitFor((x) => x.comments >= 2, 2000);
    } finally {
      r.close();
    }
  });

  it('the live feed takes the token from the query string too (EventSource cannot send headers), and refuses without', async () => {
    const ok = new SseReader(base, `/api/events?token=${token}`);
    const no = new SseReader(base, '/api/events?token=nope-nope-nope-nope');
    try {
      assert.equal(await ok.opened, 200);
      assert.equal(await no.opened, 401);
      await ok.waitFor((x) => x.of('status').length === 1);
    } finally {
      ok.close();
      no.close();
    }
  });

  it('coalesces status changes to at most one snapshot per 100 ms, and the last change always arrives', async () => {
    const r = new SseReader(base, '/api/events', auth());
    try {
      await r.opened;
      await r.waitFor((x) => x.of('status').length === 1);
      const t0 = performance.now();
      for (let i = 1; i <= 40; i++) {
        status = sampleStatus();
        status.groups[0].restarts = i;
        web.statusChanged();
        await new Promise((res) => setTimeout(res, 10));
      }
      // the last change arrives (waited for: a busy host delays the reader, not the rule)
      const last = (x: SseReader) => x.of('status').at(-1);
      await r.waitFor((x) => (JSON.parse(last(x)!.data) as typeof status).groups[0].restarts === 40);
      const took = performance.now() - t0;
      const frames = r.of('status').slice(1);
      // 40 changes 10 ms apart: one snapshot per 100 ms at most (the reader's arrival times are
      // not checked: a reader that was busy gets two frames in one read)
      assert.ok(frames.length <= Math.ceil(took / 100) + 1, `${frames.length} snapshots in ${Math.round(took)} ms`);
      assert.ok(frames.length >= 2);
      assert.ok(frames.length < 40, `coalesced: ${frames.length} snapshots for 40 changes`);
    } finally {
      r.close();
    }
  });

  it('serves /metrics as Prometheus text 0.0.4, only with the bearer token, and it parses', async () => {
    const r = await http(base, 'GET', '/metrics', { headers: auth() });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    strictParse(r.body);
    const up = parsePrometheusTextFormat(r.body).find((f) => f.name === 'procsafe_entry_up')!;
    assert.equal(up.metrics.length, 3);
  });

  it('binds exactly the listen address: another loopback address of the same port is refused', async () => {
    const port = Number(new URL(base).port);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const s = createConnection({ host: '127.0.0.2', port });
      s.on('connect', () => {
        s.destroy();
        resolve(null);
      });
      s.on('error', (e) => resolve(e));
    });
    assert.equal(err?.code, 'ECONNREFUSED');
    await assert.rejects(startWebServer({ ...optsFor(join(stateDir, 'web.token')), listen: `127.0.0.1:${port}` }), (e: unknown) => e instanceof ProcsafeError && e.exitCode === ExitCode.USAGE && /^\[web\] listen = 127\.0\.0\.1:\d+: cannot listen for the web page: the address is already in use/.test(e.message));
  });

  it('parses listen addresses of IPv4, names and bracketed IPv6, and refuses the rest', () => {
    assert.deepEqual(parseListen('127.0.0.1:29003'), { host: '127.0.0.1', port: 29003 });
    assert.deepEqual(parseListen('localhost:80'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseListen('[::1]:29003'), { host: '::1', port: 29003 });
    for (const bad of ['29003', '127.0.0.1', '::1:29003', '127.0.0.1:70000', 'a b:1', ':29003']) {
      assert.throws(() => parseListen(bad), /expected HOST:PORT/, bad);
    }
  });

  it('close() ends the live feeds and stops listening', async () => {
    const extra = await startWebServer(optsFor(join(stateDir, 'web.token')));
    const r = new SseReader(extra.baseUrl, '/api/events', auth());
    await r.opened;
    const ended = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (r.frames.length > 0) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    await ended;
    await extra.close();
    await assert.rejects(http(extra.baseUrl, 'GET', '/'), /ECONNREFUSED/);
    r.close();
  });
});
