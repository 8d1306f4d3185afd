// `pcheck -f` with METRICS_LISTEN: a real pcheck serves /metrics for its entries, behind
// METRICS_ALLOW (403) and METRICS_TOKEN_FILE (401); a kill -9 shows in the restart counter
// and the heal histogram; a busy address stops the start-up with exit 2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { socketPath } from '../../src/control/protocol';
import { Sandbox, waitFor, type Pcheck, type Service } from '../helpers/harness';
import { http } from './http';
import { freePort } from './ports';
import { strictParse, type StrictFamily } from './prom-check';

describe('pcheck -f with METRICS_LISTEN', () => {
  const sb = new Sandbox();
  let svc: Service;
  let pfile: string;
  let pc: Pcheck;
  let base: string;
  let token: string;
  const tokenFile = join(sb.dir, 'secret', 'metrics.token');

  const scrape = async (): Promise<Record<string, StrictFamily>> => {
    const r = await http(base, 'GET', '/metrics', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    return Object.fromEntries(strictParse(r.body).map((f) => [f.name, f]));
  };

  before(async () => {
    svc = sb.service('metricsvc');
    const port = await freePort();
    pfile = sb.pfile({ param: { METRICS_LISTEN: `127.0.0.1:${port}`, METRICS_TOKEN_FILE: tokenFile, METRICS_ALLOW: '127.0.0.1' }, pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    pc = sb.pcheck(pfile);
    await pc.waitLine(`Metrics on http://127.0.0.1:${port}/metrics (token in ${tokenFile})`);
    base = `http://127.0.0.1:${port}/`;
    token = readFileSync(tokenFile, 'utf8').trim();
    await waitFor(() => sb.showPent(pfile)[0]?.proc_sts === 'AVAIL', 10_000, 'the entry AVAIL', 100);
  });
  after(() => sb.cleanup());

  it('creates the token file (0600) and never logs the token', () => {
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(pc.count(token), 0);
    assert.ok(pc.count(`Metrics token generated in ${tokenFile} (mode 0600)`) === 1);
  });

  it('serves its entry, labelled with the pfile, and procsafe_info with mode="pfile"', async () => {
    const f = await scrape();
    assert.deepEqual(f.procsafe_info.samples[0].labels.mode, 'pfile');
    assert.equal(f.procsafe_info.samples[0].labels.server.length > 0, true);
    assert.deepEqual(f.procsafe_entry_up.samples.map((s) => [s.labels.pfile, s.labels.pent_id, s.labels.pname, s.value]), [[pfile, '1', svc.pname, 1]]);
    assert.equal(f.procsafe_group_state.samples.length, 0);
  });

  it('a kill -9 shows in the restart counter and the heal histogram', async () => {
    const [pid] = sb.pidsOf(svc);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => sb.pidsOf(svc).some((p) => p !== pid) && sb.showPent(pfile)[0]?.proc_sts === 'AVAIL', 15_000, 'the entry healed', 100);
    const f = await scrape();
    assert.equal(f.procsafe_entry_restarts_total.samples[0].value, 1);
    const count = f.procsafe_heal_seconds.samples.find((s) => s.name === 'procsafe_heal_seconds_count')!;
    assert.deepEqual([count.labels.pfile, count.value], [pfile, 1]);
  });

  it('answers 401 without the token, 404 for anything but /metrics, 403 to a client outside METRICS_ALLOW', async () => {
    assert.equal((await http(base, 'GET', '/metrics')).status, 401);
    const other = await http(base, 'GET', '/api/status', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(other.status, 404);
    assert.ok(!other.body.includes(svc.pname));
    const refused = (await http(base, 'GET', '/metrics', { headers: { Authorization: `Bearer ${token}` }, from: '127.0.0.2' })).status;
    assert.equal(refused, 403);
  });

  it('a reload that changes METRICS_ALLOW says, in the log and to padmin, that the METRICS_* keys need a restart (the entries are reloaded)', async () => {
    const port = new URL(base).port;
    const from = pc.lines.length;
    sb.pfile({ param: { METRICS_LISTEN: `127.0.0.1:${port}`, METRICS_TOKEN_FILE: tokenFile, METRICS_ALLOW: '127.0.0.1, 127.0.0.2' }, pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    const r = sb.padmin(pfile, 'reload');
    assert.equal(r.code, 0, r.stderr);
    const want = 'METRICS_ALLOW changed from 127.0.0.1 to 127.0.0.1, 127.0.0.2, but the METRICS_* keys are read at start: /metrics keeps the old ones until pcheck is restarted';
    assert.match(r.stdout, new RegExp(want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(r.stdout, /: 1 entries \(entries and other PARAM values unchanged\)\n/, 'not "(no change)" before the METRICS warning');
    await pc.waitLine(`Reload: ${want}`, 5000, from);
    // as documented: the running listener keeps its list
    assert.equal((await http(base, 'GET', '/metrics', { headers: { Authorization: `Bearer ${token}` }, from: '127.0.0.2' })).status, 403);
    // a second reload still says it (the listener still runs with the list of the start) ...
    assert.match(sb.padmin(pfile, 'reload').stdout, /METRICS_ALLOW changed from 127\.0\.0\.1 to 127\.0\.0\.1, 127\.0\.0\.2/);
    // ... and once the pfile is back as at start, nothing
    sb.pfile({ param: { METRICS_LISTEN: `127.0.0.1:${port}`, METRICS_TOKEN_FILE: tokenFile, METRICS_ALLOW: '127.0.0.1' }, pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    const back = sb.padmin(pfile, 'reload');
    assert.equal(back.code, 0, back.stderr);
    assert.doesNotMatch(back.stdout, /METRICS/);
  });

  it('an address already in use stops the start-up with exit 2, naming the pfile and METRICS_LISTEN; nothing was started', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const other = new Sandbox();
      try {
        const s2 = other.service('busysvc');
        const pf = other.pfile({ param: { METRICS_LISTEN: `127.0.0.1:${port}`, METRICS_TOKEN_FILE: join(other.dir, 'm.token') }, pents: [`${s2.pname}:${s2.script}:60:3:none`] });
        const p2 = other.pcheck(pf);
        assert.equal(await p2.exited, 2);
        assert.equal(p2.stderr, `pcheck: ${pf}: METRICS_LISTEN 127.0.0.1:${port}: cannot listen on 127.0.0.1:${port} for /metrics: the address is in use; choose another address or port, or fix METRICS_TOKEN_FILE\n`);
        assert.equal(p2.count('Start pcheck'), 0);
        assert.equal(existsSync(socketPath(other.runDir, other.ipckey)), false, 'no control socket');
        assert.deepEqual(other.pidsOf(s2), [], 'no restart script ran');
      } finally {
        other.cleanup();
      }
    } finally {
      busy.close();
    }
  });
});
