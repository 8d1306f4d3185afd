// Prometheus's own checkers on what procsafe ships and serves: `promtool check metrics` on
// the /metrics of a real FailSafe daemon and of a real pcheck -f, `promtool check config` and
// `check rules` on etc/prometheus/, `promtool test rules` (the rules' unit tests) and
// `amtool check-config` on the Alertmanager example.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, Sandbox, waitFor } from '../helpers/harness';
import { http } from '../web/http';
import { freePort } from '../web/ports';
import { ETC, healthyGroup, tool, webDaemon, type WebDaemon } from './tools';

describe('promtool check metrics on a real /metrics', () => {
  let fs: WebDaemon;
  const pf = new Sandbox();
  let pfBase = '';
  before(async () => {
    fs = await webDaemon('web01', (sb) => healthyGroup(sb, 'app'));
    await fs.sb.until('group app Online, its entry AVAIL', (s) => s.groups[0]?.state === 'Online' && s.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL');
    // a heal, so that the histograms have observations
    const pid = Number(readFileSync(join(fs.sb.dir, 'app.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await fs.sb.until('the entry healed', (s) => s.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL' && s.pfiles[0].entries[0].restart_count === 1);

    const svc = pf.service('pfsvc');
    const port = await freePort();
    const pfile = pf.pfile({ param: { METRICS_LISTEN: `127.0.0.1:${port}`, METRICS_TOKEN_FILE: join(pf.dir, 'm.token') }, pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await pf.startService(svc);
    const pc = pf.pcheck(pfile);
    await pc.waitLine('Metrics on ');
    pfBase = `http://127.0.0.1:${port}/`;
    await waitFor(() => pf.showPent(pfile)[0]?.proc_sts === 'AVAIL', 10_000, 'the entry AVAIL', 100);
  });
  after(() => {
    fs?.sb.cleanup();
    pf.cleanup();
  });

  it('the FailSafe daemon (groups, monitors, an entry, a heal) passes with nothing to say', async () => {
    const r = await http(fs.base, 'GET', '/metrics', { headers: { Authorization: `Bearer ${fs.token()}` } });
    assert.equal(r.status, 200);
    assert.match(r.body, /^procsafe_heal_seconds_count\{pfile="[^"]+"\} 1$/m);
    assert.match(r.body, /^procsafe_group_state\{group="app",state="Online"\} 1$/m);
    const check = tool('promtool', ['check', 'metrics'], r.body);
    assert.deepEqual(check, { code: 0, out: '' });
  });

  it('pcheck -f with METRICS_LISTEN passes with nothing to say', async () => {
    const r = await http(pfBase, 'GET', '/metrics', { headers: { Authorization: `Bearer ${readFileSync(join(pf.dir, 'm.token'), 'utf8').trim()}` } });
    assert.equal(r.status, 200);
    assert.match(r.body, /^procsafe_info\{server="[^"]+",version="[^"]+",mode="pfile",rehearse="false"\} 1$/m);
    assert.deepEqual(tool('promtool', ['check', 'metrics'], r.body), { code: 0, out: '' });
  });

  it('is a real check: it refuses a gauge named like a histogram part (the old procsafe_entry_retry_count)', () => {
    const old = '# HELP procsafe_entry_retry_count x\n# TYPE procsafe_entry_retry_count gauge\nprocsafe_entry_retry_count 0\n';
    const check = tool('promtool', ['check', 'metrics'], old);
    assert.notEqual(check.code, 0);
    assert.match(check.out, /procsafe_entry_retry_count non-histogram and non-summary metrics should not have "_count" suffix/);
  });
});

describe('the shipped Prometheus and Alertmanager files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procsafe-promtool-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('promtool check rules: the 7 alert rules are valid', () => {
    const r = tool('promtool', ['check', 'rules', join(ETC, 'procsafe.rules.yml')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 7 rules found/);
  });

  it('promtool test rules: every alert fires with its labels after its for:, and not on the healthy servers', () => {
    const r = tool('promtool', ['test', 'rules', join(ROOT, 'test', 'prometheus', 'procsafe.rules.test.yml')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  it('promtool check config: the scrape config is valid, with its rules, once the token files exist', () => {
    assert.equal(tool('promtool', ['check', 'config', '--syntax-only', join(ETC, 'prometheus.yml')]).code, 0);
    let text = readFileSync(join(ETC, 'prometheus.yml'), 'utf8');
    const tokens = [...text.matchAll(/credentials_file: (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(tokens.length, 3);
    for (const [i, t] of tokens.entries()) {
      const local = join(dir, `t${i}.token`);
      writeFileSync(local, 'x'.repeat(64) + '\n', { mode: 0o600 });
      text = text.replace(t, local);
    }
    text = text.replace('  - procsafe.rules.yml', `  - ${join(ETC, 'procsafe.rules.yml')}`);
    writeFileSync(join(dir, 'prometheus.yml'), text);
    const r = tool('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 7 rules found/);
  });

  it('amtool check-config: the Alertmanager routing example is valid', () => {
    const r = tool('amtool', ['check-config', join(ETC, 'alertmanager.yml')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });
});
