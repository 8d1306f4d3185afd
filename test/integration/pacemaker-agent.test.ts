// The OCF agent etc/ocf/pcheck on its own (no cluster), as a careless operator meets it: a pcheck
// of the pfile started outside the agent (by hand, or by the packaged pcheck@.service as well),
// a log parameter that cannot be written, two pfiles whose paths differ only in `/` against `_`.
// What Pacemaker does with each answer is in docs/pacemaker.md ("Actions and exit codes").
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, PCHECK, sandboxes, type Sandbox } from '../helpers/harness';
import { alive } from '../helpers/pacemaker';

const AGENT = join(ROOT, 'etc', 'ocf', 'pcheck');

/** Runs an agent action the way Pacemaker does: OCF_RESKEY_* in the environment, no terminal. */
function agentFor(sb: Sandbox, pfile: string, base: Record<string, string> = {}) {
  return (action: string, over: Record<string, string> = {}) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', OCF_FUNCTIONS_DIR: '/nonexistent' };
    const params = { pfile, pcheck: PCHECK, run_dir: sb.runDir, pid_dir: join(sb.dir, 'rsctmp'), ...base, ...over };
    for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
    const r = spawnSync('/bin/sh', [AGENT, action], { env, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stderr: r.stderr };
  };
}

/** pcheck pids on `pfile` (any command line that ends in `-f PFILE`). */
function pchecksOn(pfile: string): number[] {
  const r = spawnSync('pgrep', ['-f', '--', `bin/pcheck -f ${pfile}$`], { encoding: 'utf8' });
  return r.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('the pcheck OCF agent against a pcheck it did not start, unwritable files and look-alike pfile paths', () => {
  const boxes = sandboxes();
  const pfilesUsed: string[] = [];
  after(() => {
    // a pcheck the agent started is nobody's child: ended by pid, also when an assertion failed
    for (const p of pfilesUsed) for (const pid of pchecksOn(p)) process.kill(pid, 'SIGKILL');
    boxes.cleanup();
  });

  const setup = async () => {
    const sb = boxes.box();
    const svc = sb.service('app');
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 1 }, pents: [`${svc.pname}:${svc.script}:0:1:exit`] });
    await sb.startService(svc);
    pfilesUsed.push(pfile);
    return { sb, pfile, svc, agent: agentFor(sb, pfile) };
  };

  it('ocf-tester, as docs/pacemaker.md runs it, passes: meta-data valid against ra-api-1.dtd, start, monitor, stop, and a second stop', async () => {
    const { sb, pfile } = await setup();
    for (const tool of ['/usr/sbin/ocf-tester', '/usr/bin/xmllint']) {
      assert.ok(existsSync(tool), `${tool} missing: apt-get install resource-agents libxml2-utils (.ci/run does)`);
    }
    const params = { pfile, pcheck: PCHECK, run_dir: sb.runDir, pid_dir: join(sb.dir, 'rsctmp') };
    const args = ['-n', 't', ...Object.entries(params).flatMap(([k, v]) => ['-o', `${k}=${v}`]), AGENT];
    const r = spawnSync('ocf-tester', args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PROCSAFE_RUN_DIR: sb.runDir } });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /passed all tests/);
    assert.deepEqual(pchecksOn(pfile), [], 'ocf-tester stopped what it started');
  });

  it('a pcheck on the pfile started outside the agent (as pcheck@.service would) is reported by the probe, taken over by start instead of a second copy, and stopped by stop', async () => {
    const { sb, pfile, agent } = await setup();
    const outside = sb.pcheck(pfile); // `/usr/bin/pcheck -f PFILE`, as the packaged unit runs it
    await outside.waitLine('Up');

    const probe = agent('monitor');
    assert.equal(probe.code, 0, `a probe reports the running pcheck (else Pacemaker never stops it on a standby node): ${probe.stderr}`);
    assert.match(probe.stderr, new RegExp(`already runs as pid ${outside.pid}, started outside this agent .*pcheck@NAME\\.service: disable it`));
    const s = agent('start');
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(pchecksOn(pfile), [outside.pid], 'no second pcheck');

    const stop = agent('stop');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await outside.exited, 0, 'stop stopped it (SIGTERM: exit 0)');
    assert.equal(agent('monitor').code, 7);

    // not through the probe: start itself finds it
    const again = sb.pcheck(pfile);
    await again.waitLine('Up');
    const s2 = agent('start');
    assert.equal(s2.code, 0, s2.stderr);
    assert.match(s2.stderr, /started outside this agent/);
    assert.deepEqual(pchecksOn(pfile), [again.pid], 'no second pcheck');
    assert.equal(agent('stop').code, 0);
    assert.equal(await again.exited, 0);
  });

  it('start fails with the reason when a pcheck it cannot identify serves the pfile\'s IPCKEY, instead of reporting a new pcheck started that exits at once', async () => {
    const { sb, pfile, agent } = await setup();
    // run from its directory by a relative path: not `PCHECK -f PFILE` on the command line
    const other = spawn(process.execPath, ['./bin/pcheck', '-f', pfile], { cwd: ROOT, env: sb.env(), stdio: 'ignore' });
    sb.track(other.pid!);
    try {
      for (let i = 0; i < 100 && sb.padmin(pfile, 'show pent').code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
      const s = agent('start');
      assert.equal(s.code, 1, `OCF_ERR_GENERIC: ${s.stderr}`);
      assert.match(s.stderr, /ocf-exit-reason:another pcheck already answers on the control socket of .*test\.pfile's IPCKEY/);
      assert.equal(agent('monitor').code, 7);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('when the recorded pcheck is gone and another one runs on the pfile, monitor reports not running and names it, and stop stops it', async () => {
    const { sb, pfile, agent } = await setup();
    assert.equal(agent('start').code, 0);
    const pidFile = join(sb.dir, 'rsctmp', `pcheck${pfile.replace(/\//g, '_')}.pid`);
    const ours = Number(readFileSync(pidFile, 'utf8'));
    process.kill(ours, 'SIGKILL');
    for (let i = 0; i < 100 && alive(ours); i++) await new Promise((r) => setTimeout(r, 20));
    const outside = sb.pcheck(pfile);
    await outside.waitLine('Up');

    const m = agent('monitor');
    assert.equal(m.code, 7, 'the resource Pacemaker started is gone: a failure it must count');
    assert.match(m.stderr, new RegExp(`ocf-exit-reason:pcheck \\(pid ${ours}\\) is gone: another pcheck \\(pid ${outside.pid}\\) runs on it, started outside this agent`));
    assert.equal(agent('stop').code, 0);
    assert.equal(await outside.exited, 0, 'a stopped resource leaves no pcheck restarting the application on this node');
  });

  it('a log file that cannot be written fails start with OCF_ERR_PERM naming it (not "pcheck refused the pfile"), and a missing log directory is created', async () => {
    const { sb, pfile, agent } = await setup();
    writeFileSync(join(sb.dir, 'plainfile'), '');
    const bad = agent('start', { log: join(sb.dir, 'plainfile', 'pcheck.log') });
    assert.equal(bad.code, 4, bad.stderr);
    assert.match(bad.stderr, /ocf-exit-reason:cannot write .*plainfile\/pcheck\.log \(check the pid_dir and log parameters\)/);
    assert.doesNotMatch(bad.stderr, /refused/);
    assert.deepEqual(pchecksOn(pfile), [], 'no pcheck left running unmonitored');

    const log = join(sb.dir, 'logs', 'new', 'pcheck.log');
    const ok = agent('start', { log });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(readFileSync(log, 'utf8'), /Start pcheck/);
    assert.equal(agent('stop', { log }).code, 0);
  });

  it('the agent log (tmpfs by default) is cut to its last 256 KiB by a monitor once past 1 MiB, and pcheck keeps appending to it', async () => {
    const { sb, svc, agent } = await setup();
    const log = join(sb.dir, 'agent.log');
    assert.equal(agent('start', { log }).code, 0);
    appendFileSync(log, `${'x'.repeat(99)}\n`.repeat(12_000)); // 1.2 MB of old lines
    assert.equal(agent('monitor', { log }).code, 0);
    const size = statSync(log).size;
    assert.ok(size <= 256 * 1024 + 4096, `log is ${size} bytes after the monitor`);
    const pid = sb.pidsOf(svc)[0];
    process.kill(pid, 'SIGKILL'); // pcheck (retry 1, then exit) logs the death at the log's new end
    const down = `pid=${pid}] Down`;
    const deadline = Date.now() + 5000;
    while (!readFileSync(log, 'utf8').includes(down) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const text = readFileSync(log, 'utf8');
    assert.ok(text.includes(down), 'the Down line is in the cut log');
    assert.ok(!text.includes('\0'), 'no hole of zero bytes before it');
    assert.equal(agent('stop', { log }).code, 0);
  });

  it('a pcheck run by "/usr/bin/env node" with no node on the agent\'s PATH fails validate-all and start with OCF_ERR_INSTALLED saying so (not "exited with status 127")', async () => {
    const { sb, pfile, agent } = await setup();
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    for (const f of ['pcheck', 'padmin']) {
      writeFileSync(join(bin, f), readFileSync(join(ROOT, 'bin', f), 'utf8').replace(/^#!.*/, '#!/usr/bin/env node-not-installed'), { mode: 0o755 });
    }
    for (const action of ['validate-all', 'start']) {
      const r = agent(action, { pcheck: join(bin, 'pcheck') });
      assert.equal(r.code, 5, `${action}: ${r.stderr}`);
      assert.match(r.stderr, /ocf-exit-reason:node-not-installed is not on the PATH Pacemaker gives its agents \(.*bin\/pcheck starts with #!\/usr\/bin\/env node-not-installed\); PATH=/);
    }
    assert.deepEqual(pchecksOn(pfile), []);
  });

  it('after an upgrade from an agent that wrote "_" unescaped in pid file names, the running pcheck is still reported running (no failure counted) and its pid file renamed', async () => {
    const { sb, pfile: base } = await setup();
    const pfile = join(sb.dir, 'my_app.pfile');
    writeFileSync(pfile, readFileSync(base, 'utf8'));
    pfilesUsed.push(pfile);
    const agent = agentFor(sb, pfile);
    assert.equal(agent('start').code, 0);
    const rsctmp = join(sb.dir, 'rsctmp');
    const now = join(rsctmp, `pcheck${pfile.replace(/_/g, '%5f').replace(/\//g, '_')}.pid`);
    const legacy = join(rsctmp, `pcheck${pfile.replace(/\//g, '_')}.pid`);
    const pid = readFileSync(now, 'utf8');
    renameSync(now, legacy); // what the earlier agent left
    const m = agent('monitor');
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stderr, /recorded in .* by an earlier version of this agent/);
    assert.doesNotMatch(m.stderr, /started outside this agent/);
    assert.equal(readFileSync(now, 'utf8').trim(), pid.trim());
    assert.equal(existsSync(legacy), false);
    assert.equal(agent('stop').code, 0);
    assert.deepEqual(pchecksOn(pfile), []);
  });

  it('two pfiles whose paths differ only in "/" against "_" get pid files of their own: both pchecks run and both monitors say so', async () => {
    const { sb } = await setup();
    const svc = sb.service('other');
    await sb.startService(svc);
    const pfiles = [join(sb.dir, 'web_app.pfile'), join(sb.dir, 'web', 'app.pfile')];
    mkdirSync(join(sb.dir, 'web'));
    pfilesUsed.push(...pfiles);
    pfiles.forEach((p, i) =>
      writeFileSync(
        p,
        `##### PARAM #####\nIPCKEY 0x${(sb.ipckey + 0x100 + i).toString(16)}\nMONITOR_INTERVAL 1\nSHM_DUMP_FILE ${p}.dmp\n` +
          `LOG_FILE ${p}.log\nSYSLOG off\n##### PENT #####\n${svc.pname}:${svc.script}:0:1:exit\n`,
      ),
    );
    const agents = pfiles.map((p) => agentFor(sb, p));
    for (const a of agents) assert.equal(a('start').code, 0);
    for (const [i, a] of agents.entries()) assert.equal(a('monitor').code, 0, `${pfiles[i]} monitored as running`);
    for (const a of agents) assert.equal(a('stop').code, 0);
    for (const p of pfiles) assert.deepEqual(pchecksOn(p), [], `${p}: stopped`);
  });
});
