// A real Prometheus (Debian's package) on loopback, with its own data directory, scrapes two
// FailSafe daemons and a pcheck -f, each with its own token, using the shipped scrape config
// and the shipped alert rules, unchanged but for the addresses, the token paths and a 1 s
// scrape and evaluation interval (the rules' `for:` durations are the shipped ones). A group
// that fails for good makes ProcsafeGroupError fire, read through Prometheus's HTTP API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { kill, Sandbox } from '../helpers/harness';
import { http } from '../web/http';
import { freePort } from '../web/ports';
import { ETC, failingGroup, healthyGroup, tool, waitUntil, webDaemon, type WebDaemon } from './tools';

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

/** The shipped prometheus.yml with `from → to` replaced; each must occur exactly once. */
function shippedConfig(replacements: [string, string][]): string {
  let text = readFileSync(join(ETC, 'prometheus.yml'), 'utf8');
  for (const [from, to] of replacements) {
    assert.equal(text.split(from).length, 2, `the shipped prometheus.yml has ${JSON.stringify(from)} once`);
    text = text.replace(from, to);
  }
  return text;
}

describe('a real Prometheus scraping procsafe with the shipped config and rules', () => {
  const box = new Sandbox();
  let web01: WebDaemon;
  let db01: WebDaemon;
  const batch = new Sandbox();
  let prom: ChildProcess;
  let promLog = '';
  let api = '';
  let batchPort = 0;
  let errorAt = 0;

  const query = async <T>(path: string): Promise<T> => {
    const r = await http(api, 'GET', path);
    assert.equal(r.status, 200, r.body);
    return (JSON.parse(r.body) as { data: T }).data;
  };
  const alerts = () => query<{ alerts: PromAlert[] }>('/api/v1/alerts').then((d) => d.alerts);

  before(async () => {
    web01 = await webDaemon('web01', (sb) => healthyGroup(sb, 'app'));
    db01 = await webDaemon('db01', (sb) => failingGroup(sb, 'db'));
    await db01.sb.until('group db in Error', (s) => s.groups[0]?.state === 'Error');
    errorAt = performance.now();
    const svc = batch.service('batchsvc');
    batchPort = await freePort();
    const pfile = batch.pfile({ param: { METRICS_LISTEN: `127.0.0.1:${batchPort}`, METRICS_TOKEN_FILE: join(batch.dir, 'metrics.token') }, pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await batch.startService(svc);
    await batch.pcheck(pfile).waitLine('Metrics on ');

    const port = await freePort();
    api = `http://127.0.0.1:${port}/`;
    const config = shippedConfig([
      ['scrape_interval: 15s', 'scrape_interval: 1s'],
      ['evaluation_interval: 15s', 'evaluation_interval: 1s'],
      ['  - procsafe.rules.yml', `  - ${join(ETC, 'procsafe.rules.yml')}`],
      ["        - targets: ['127.0.0.1:9093']", '        - targets: []'],
      ['web01.example.com:29003', `127.0.0.1:${web01.port}`],
      ['/etc/prometheus/procsafe/web01.token', web01.tokenFile],
      ['web02.example.com:29003', `127.0.0.1:${db01.port}`],
      ['/etc/prometheus/procsafe/web02.token', db01.tokenFile],
      ['batch01.example.com:29101', `127.0.0.1:${batchPort}`],
      ['/etc/prometheus/procsafe/batch01.token', join(batch.dir, 'metrics.token')],
    ]);
    writeFileSync(join(box.dir, 'prometheus.yml'), config);
    mkdirSync(join(box.dir, 'data'));
    tool('prometheus', ['--version']); // fails with the install hint when missing
    prom = spawn(
      '/usr/bin/prometheus',
      [`--config.file=${join(box.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(box.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    box.track(prom.pid!);
    prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    await waitUntil(
      async () => {
        if (prom.exitCode !== null) assert.fail(`prometheus exited ${prom.exitCode}: ${promLog}`);
        return (await http(api, 'GET', '/-/ready').catch(() => ({ status: 0 }))).status === 200;
      },
      30_000,
      'prometheus ready',
    );
  });
  after(async () => {
    if (prom?.pid && prom.exitCode === null) {
      kill(prom.pid, 'SIGTERM');
      await new Promise((r) => prom.once('exit', r));
    }
    for (const d of [web01, db01]) d?.sb.cleanup();
    batch.cleanup();
    box.cleanup();
  });

  it('scrapes the three targets with their own tokens: all up', async () => {
    type Target = { labels: Record<string, string>; health: string; lastError: string };
    const targets = await waitUntil(
      async () => {
        const t = (await query<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
        return t.length === 3 && t.every((x) => x.health === 'up') ? t : null;
      },
      20_000,
      'every target up',
    );
    assert.deepEqual(targets.map((t) => t.labels.job).sort(), ['procsafe-batch01', 'procsafe-web01', 'procsafe-web02']);
    const info = await query<{ result: { metric: Record<string, string> }[] }>('/api/v1/query?query=procsafe_info');
    const byJob = Object.fromEntries(info.result.map((r) => [r.metric.job, `${r.metric.server} ${r.metric.mode}`]));
    assert.deepEqual(byJob, { 'procsafe-web01': 'web01 failsafe', 'procsafe-web02': 'db01 failsafe', 'procsafe-batch01': `${hostname()} pfile` });
  });

  it('the group that fails for good makes ProcsafeGroupError fire for db01 only, after its for: of 30 s', async () => {
    const firing = await waitUntil(
      async () => {
        const a = (await alerts()).find((x) => x.labels.alertname === 'ProcsafeGroupError' && x.state === 'firing');
        return a ?? null;
      },
      90_000,
      'ProcsafeGroupError firing',
    );
    const took = (performance.now() - errorAt) / 1000;
    assert.deepEqual(firing.labels, {
      alertname: 'ProcsafeGroupError',
      group: 'db',
      instance: `127.0.0.1:${db01.port}`,
      job: 'procsafe-web02',
      server: 'db01',
      severity: 'critical',
      state: 'Error',
    });
    assert.equal(firing.annotations.summary, 'db01: group db is in Error');
    const pendingFor = (Date.now() - Date.parse(firing.activeAt)) / 1000;
    assert.ok(pendingFor >= 30, `fired ${pendingFor} s after it became active: the shipped for: 30s holds`);
    const all = await alerts();
    assert.deepEqual(
      all.map((a) => `${a.labels.alertname} ${a.labels.server ?? a.labels.instance} ${a.state}`),
      ['ProcsafeGroupError db01 firing'],
      'nothing about web01 or batch01, and no ProcsafeDown',
    );
    console.log(`# Prometheus: ProcsafeGroupError firing ${took.toFixed(1)} s after the group was in Error (for: 30s, scrape and evaluation every 1 s)`);
  });

  it('a daemon that stops answering: ProcsafeDown pending at once, named by the server it was (it fires after its for: 2m)', async () => {
    db01.pc.child.kill('SIGTERM');
    await db01.pc.exited;
    const pending = await waitUntil(
      async () => (await alerts()).find((x) => x.labels.alertname === 'ProcsafeDown') ?? null,
      20_000,
      'ProcsafeDown pending',
    );
    assert.equal(pending.state, 'pending');
    assert.deepEqual(pending.labels, { alertname: 'ProcsafeDown', instance: `127.0.0.1:${db01.port}`, job: 'procsafe-web02', server: 'db01', severity: 'critical' });
    assert.equal(pending.annotations.summary, 'db01: procsafe does not answer Prometheus');
  });
});
