// The Servers view's data: the state rule (pure), and the daemon reading other servers'
// /api/status over real HTTP with their tokens: up, in error, stopped, refusing the token,
// not answering. The tokens never appear in what the page gets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatusView } from '../../src/views/status-view';
import { Logger } from '../../src/log/logger';
import { FleetPoller } from '../../src/web/fleet';
import { statusShapeProblem, summarize, type FleetServerView } from '../../src/web/fleet-state';
import { startWebServer, type WebServer } from '../../src/web/server';
import { waitFor } from '../helpers/harness';
import { entry, sampleEvent, sampleStatus } from './fixture';
import { http, SseReader } from './http';

/** A status with every group Online, every monitor Normal, every entry AVAIL. */
function healthy(name = 'web02'): StatusView {
  const v = sampleStatus();
  v.server.name = name;
  v.groups = [
    { name: 'web', state: 'Online', restarts: 0, lastScript: '' },
    { name: 'db', state: 'Online', restarts: 0, lastScript: '' },
  ];
  v.monitors = v.monitors.map((m) => ({ ...m, status: 'Normal' as const }));
  v.pfiles[0].entries = [entry({ pent_id: 1, pname: '/usr/bin/node' }), entry({ pent_id: 2, pname: '/usr/sbin/nginx' })];
  return v;
}

describe('the state of a server', () => {
  it('is Normal when every group is Online, every monitor Normal and every entry AVAIL, with the counts', () => {
    assert.deepEqual(summarize(healthy()), {
      state: 'Normal',
      reasons: [],
      version: '0.1.0',
      groups: { Online: 2 },
      monitors: { Normal: 3 },
      entries: { AVAIL: 2 },
    });
  });

  it('is Warning when something is not running or not watched: a group Offline or Starting, a monitor Suspended, an entry RESTARTING or off', () => {
    const cases: [string, (v: StatusView) => void][] = [
      ['group web Offline', (v) => (v.groups[0].state = 'Offline')],
      ['group db Starting', (v) => (v.groups[1].state = 'Starting')],
      ['group db Stopping', (v) => (v.groups[1].state = 'Stopping')],
      ['monitor disk Suspended', (v) => (v.monitors[2].status = 'Suspended')],
      ['monitor web-http Warning', (v) => (v.monitors[0].status = 'Warning')],
      ['monitor db-pid Offline', (v) => (v.monitors[1].status = 'Offline')],
      ['entry 2 (/usr/sbin/nginx) RESTARTING', (v) => (v.pfiles[0].entries[1].proc_sts = 'RESTARTING')],
      ['entry 2 (/usr/sbin/nginx) DOWN', (v) => (v.pfiles[0].entries[1].proc_sts = 'DOWN')],
      ['entry 1 (/usr/bin/node) WAIT', (v) => (v.pfiles[0].entries[0].proc_sts = 'WAIT')],
      ['entry 1 (/usr/bin/node) monitoring off', (v) => (v.pfiles[0].entries[0].monitor_sts = 'off')],
      ['group web Sleeping', (v) => ((v.groups[0] as { state: string }).state = 'Sleeping')],
    ];
    for (const [reason, change] of cases) {
      const v = healthy();
      change(v);
      const s = summarize(v);
      assert.equal(s.state, 'Warning', reason);
      assert.deepEqual(s.reasons, [reason]);
    }
  });

  it('is Error when procsafe gave up: a group Error, a monitor Error or an entry RETRY_OVER; errors are named first', () => {
    const v = healthy();
    v.groups[0].state = 'Offline';
    v.monitors[1].status = 'Error';
    v.pfiles[0].entries[1].proc_sts = 'RETRY_OVER';
    v.pfiles[0].entries[1].monitor_sts = 'off';
    const s = summarize(v);
    assert.equal(s.state, 'Error');
    assert.deepEqual(s.reasons, ['monitor db-pid Error', 'entry 2 (/usr/sbin/nginx) RETRY_OVER', 'group web Offline']);
    assert.deepEqual(s.groups, { Offline: 1, Online: 1 });
    assert.deepEqual(s.entries, { AVAIL: 1, RETRY_OVER: 1 });
    const g = healthy();
    g.groups[1].state = 'Error';
    assert.equal(summarize(g).state, 'Error');
  });

  it('names at most five reasons, then how many more', () => {
    const v = healthy();
    v.pfiles[0].entries = Array.from({ length: 8 }, (_, i) => entry({ pent_id: i + 1, pname: `/bin/p${i + 1}`, proc_sts: 'DOWN' }));
    assert.deepEqual(summarize(v).reasons.slice(4), ['entry 5 (/bin/p5) DOWN', '… and 3 more']);
  });

  it('is read only from a body shaped as a procsafe status', () => {
    assert.equal(statusShapeProblem(healthy()), null);
    assert.equal(statusShapeProblem({ hello: 'world' }), 'no server name and version');
    assert.equal(statusShapeProblem({ ...healthy(), monitors: [{ name: 1 }] }), 'no list of monitors');
    assert.equal(statusShapeProblem({ ...healthy(), pfiles: [{ path: '/p', entries: [{}] }] }), 'no list of entries');
  });
});

describe('the daemon reads the other servers with their tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procsafe-fleet-'));
  const logLines: string[] = [];
  const log = new Logger([{ write: (_s, m) => void logLines.push(m) }]);
  const others: Record<string, WebServer> = {};
  const tokens: Record<string, string> = {};
  const statuses: Record<string, StatusView> = { up: healthy('web02'), bad: healthy('db01'), stopped: healthy('web03'), wrongtoken: healthy('web04') };
  statuses.bad.groups[1].state = 'Error';
  let silent: Server;
  let silentPort = 0;
  let here: WebServer;
  let hereToken: string;
  const tokenFile = (name: string) => join(dir, `${name}.token`);

  before(async () => {
    for (const name of Object.keys(statuses)) {
      const web = await startWebServer({
        listen: '127.0.0.1:0',
        tokenFile: join(dir, name, 'web.token'),
        stateDir: join(dir, name),
        log: new Logger([]),
        status: () => statuses[name],
        recentEvents: () => [],
        metrics: () => '',
        act: async () => ({ ok: false, message: 'no' }),
      });
      others[name] = web;
      tokens[name] = new URL(web.url).searchParams.get('token')!;
      writeFileSync(tokenFile(name), `${name === 'wrongtoken' ? 'f'.repeat(64) : tokens[name]}\n`, { mode: 0o600 });
    }
    await others.stopped.close();
    // a server that takes the connection and never answers
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
    writeFileSync(tokenFile('silent'), `${'s'.repeat(64)}\n`, { mode: 0o600 });
  });
  after(async () => {
    for (const w of Object.values(others)) await w.close();
    await here?.close();
    silent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fleet = () => [
    { name: 'web02', url: others.up.baseUrl, tokenFile: tokenFile('up') },
    { name: 'db01', url: others.bad.baseUrl.replace(/\/$/, ''), tokenFile: tokenFile('bad') },
    { name: 'web03', url: others.stopped.baseUrl, tokenFile: tokenFile('stopped') },
    { name: 'web04', url: others.wrongtoken.baseUrl, tokenFile: tokenFile('wrongtoken') },
    { name: 'web05', url: `http://127.0.0.1:${silentPort}/`, tokenFile: tokenFile('silent') },
    { name: 'web06', url: others.up.baseUrl, tokenFile: join(dir, 'missing.token') },
  ];

  it('one round: each server Normal, Error or Unreachable, with the reason in words and the log naming the changes', async () => {
    let rounds = 0;
    const p = new FleetPoller({ servers: fleet(), intervalMs: 60_000, timeoutMs: 800, log, onRound: () => rounds++ });
    const t0 = performance.now();
    p.start();
    await waitFor(() => rounds === 1, 5000, 'a round');
    p.stop();
    const took = performance.now() - t0;
    assert.ok(took < 2500, `the servers are read at once: the round took ${Math.round(took)} ms`);
    const by = Object.fromEntries(p.list().map((v) => [v.name, v]));
    assert.equal(by.web02.state, 'Normal');
    assert.deepEqual([by.web02.groups, by.web02.version], [{ Online: 2 }, '0.1.0']);
    assert.ok(by.web02.checkedAt !== null && Date.now() - by.web02.checkedAt < 5000);
    assert.deepEqual([by.db01.state, by.db01.reasons], ['Error', ['group db Error']]);
    assert.deepEqual([by.web03.state, by.web03.reasons], ['Unreachable', ['connection refused (procsafe not running, or another port)']]);
    assert.equal(by.web04.state, 'Unreachable');
    assert.match(by.web04.reasons[0], /^HTTP 401: the token was refused; copy that server's \[web\] token_file into this \[fleet\] token_file$/);
    assert.deepEqual(by.web05.reasons, ['no answer within 0.8 s']);
    assert.match(by.web06.reasons[0], /^cannot read its token_file .*missing\.token \(ENOENT\)$/);
    assert.ok(logLines.includes('Fleet: server db01 is Error (group db Error)'), logLines.join('\n'));
    assert.ok(logLines.some((l) => l.startsWith('Fleet: server web03 is Unreachable (connection refused')));
    assert.ok(!logLines.some((l) => l.includes('web02')), 'a server that is Normal from the start is not logged');
  });

  it('reads the token file at each round: a corrected token needs no restart', async () => {
    const servers = [{ name: 'web04', url: others.wrongtoken.baseUrl, tokenFile: tokenFile('wrongtoken') }];
    const p = new FleetPoller({ servers, intervalMs: 100, log, onRound: () => undefined });
    p.start();
    try {
      await waitFor(() => p.list()[0].checkedAt !== null, 5000, 'the first round');
      assert.equal(p.list()[0].state, 'Unreachable');
      writeFileSync(tokenFile('wrongtoken'), `${tokens.wrongtoken}\n`);
      await waitFor(() => p.list()[0].state === 'Normal', 5000, 'web04 Normal with the new token');
      assert.ok(logLines.includes('Fleet: server web04 Unreachable -> Normal'));
    } finally {
      p.stop();
      writeFileSync(tokenFile('wrongtoken'), `${'f'.repeat(64)}\n`);
    }
  });

  it('the page gets this server first, then the others, on GET /api/fleet and the live feed, and never a token', async () => {
    here = await startWebServer({
      listen: '127.0.0.1:0',
      tokenFile: null,
      stateDir: join(dir, 'here'),
      log: new Logger([]),
      fleet: fleet().slice(0, 4),
      fleetIntervalMs: 200,
      status: () => sampleStatus(),
      recentEvents: () => [sampleEvent()],
      metrics: () => '',
      act: async () => ({ ok: false, message: 'no' }),
    });
    hereToken = new URL(here.url).searchParams.get('token')!;
    const auth = { Authorization: `Bearer ${hereToken}` };
    const sse = new SseReader(here.baseUrl, '/api/events', auth);
    try {
      await sse.waitFor((r) => r.of('fleet').some((f) => (JSON.parse(f.data) as { servers: FleetServerView[] }).servers[1].checkedAt !== null), 5000);
      const r = await http(here.baseUrl, 'GET', '/api/fleet', { headers: auth });
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body) as { servers: FleetServerView[] };
      assert.deepEqual(
        body.servers.map((s) => [s.name, s.self, s.state]),
        [
          ['fixture-host', true, 'Error'],
          ['web02', false, 'Normal'],
          ['db01', false, 'Error'],
          ['web03', false, 'Unreachable'],
          ['web04', false, 'Unreachable'],
        ],
      );
      assert.equal(body.servers[0].url, null);
      assert.equal(body.servers[1].url, others.up.baseUrl);
      const seen = r.body + sse.frames.map((f) => f.data).join('\n');
      for (const t of Object.values(tokens)) assert.ok(!seen.includes(t), 'a token of another server reached the page');
      assert.ok(!seen.includes('f'.repeat(64)));
      assert.equal((await http(here.baseUrl, 'GET', '/api/fleet')).status, 401);
    } finally {
      sse.close();
    }
  });
});
