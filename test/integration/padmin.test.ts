// padmin against a real pcheck: show, stop/start, per-entry commands, reload, SIGHUP, list, --json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PCHECK, Sandbox, kill, type Pcheck, type Service } from '../helpers/harness';
import { socketPath } from '../../src/control/protocol';

describe('padmin against a running pcheck', () => {
  const sb = new Sandbox();
  let pc: Pcheck;
  let a: Service;
  let b: Service;
  let pfile: string;
  let text: string;

  before(async () => {
    a = sb.service('a');
    b = sb.service('b');
    pfile = sb.pfile({
      pents: [`${a.pname}:${a.script}:60:3:exit:include_strings=infin&inity`, `${b.pname}:${b.script}:0:2:none:exclude_strings=nothing`],
    });
    text = readFileSync(pfile, 'utf8');
    await sb.startService(a);
    await sb.startService(b);
    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${a.pname} ,pid=`);
    await pc.waitLine(`(${b.pname} ,pid=`);
  });
  after(() => sb.cleanup());

  it('show pent prints one block per entry with the = signs lined up', () => {
    const r = sb.padmin(pfile, 'show pent');
    assert.equal(r.code, 0, r.stderr);
    const blocks = r.stdout.trim().split('\n\n');
    assert.equal(blocks.length, 2);
    const first = blocks[0].split('\n');
    assert.deepEqual(
      first.map((l) => l.split(' = ')[0].trim()),
      ['pname', 'pid', 'retry_count', 'restart_count', 'proc_sts', 'retry_over_act', 'rerun_time', 'include_strings', 'pent_id', 'monitor_sts'],
    );
    for (const l of r.stdout.trim().split('\n').filter(Boolean)) assert.equal(l.indexOf(' = '), 15, l);
    assert.match(blocks[0], /include_strings = infin&inity/);
    assert.match(blocks[1], /exclude_strings = nothing/);
    assert.match(blocks[1], /pent_id {9}= 2/);
  });

  it('--json gives the same entries for scripts', () => {
    const r = sb.padmin(pfile, 'show pent', ['--json']);
    const data = JSON.parse(r.stdout) as { pent_id: number; proc_sts: string; pid: number }[];
    assert.deepEqual(data.map((d) => [d.pent_id, d.proc_sts]), [[1, 'AVAIL'], [2, 'AVAIL']]);
    assert.equal(typeof data[0].pid, 'number');
  });

  it('show param prints the PARAM section in force with defaults filled in', () => {
    const r = sb.padmin(pfile, 'show param');
    assert.match(r.stdout, new RegExp(`IPCKEY\\s+= 0x${sb.ipckey.toString(16)}`));
    assert.match(r.stdout, /MONITOR_INTERVAL\s+= 10/);
    assert.match(r.stdout, /SCRIPT_TIMEOUT\s+= 300/);
    assert.match(r.stdout, /INITIAL_WAIT\s+= 10/);
  });

  it('the control socket is owner-only', () => {
    const st = statSync(socketPath(sb.runDir, sb.ipckey));
    assert.equal(st.mode & 0o777, 0o600);
  });

  it('stop pent turns one entry off: its death is logged but not healed; start pent turns it back on', async () => {
    let r = sb.padmin(pfile, 'stop pent 2');
    assert.equal(r.code, 0, r.stderr);
    await pc.waitLine(`Command execute. [stop pent 2] pfile='${pfile}'`);
    const [, e2] = sb.showPent(pfile);
    assert.equal(e2.monitor_sts, 'off');
    const from = pc.lines.length;
    kill(Number(e2.pid), 'SIGKILL');
    await pc.waitLine(`Process [${b.pname} , pid=${e2.pid}] Down`, 10_000, from);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(sb.showPent(pfile)[1].proc_sts, 'DOWN');
    assert.equal(pc.count('Try to restart'), 0);
    r = sb.padmin(pfile, 'start pent 2');
    assert.equal(r.code, 0);
    assert.equal(sb.showPent(pfile)[1].monitor_sts, 'on');
  });

  it('stop and start switch every entry', async () => {
    assert.equal(sb.padmin(pfile, 'stop').code, 0);
    await pc.waitLine(`Command execute. [stop] pfile='${pfile}'`);
    assert.deepEqual(sb.showPent(pfile).map((e) => e.monitor_sts), ['off', 'off']);
    assert.equal(sb.padmin(pfile, 'start').code, 0);
    await pc.waitLine(`Command execute. [start] pfile='${pfile}'`);
    assert.deepEqual(sb.showPent(pfile).map((e) => e.monitor_sts), ['on', 'on']);
  });

  it('a command for an unknown pent_id or an unknown command fails with exit 1 and says why', () => {
    let r = sb.padmin(pfile, 'reset pent 9');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no entry with pent_id 9; this pfile has pent_id 1 to 2/);
    r = sb.padmin(pfile, 'frobnicate');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  it('reload of a bad pfile is refused with the parser’s message and the old configuration keeps running', async () => {
    writeFileSync(pfile, text.replace('MONITOR_INTERVAL 10', 'MONITOR_INTERVAL ten'));
    const r = sb.padmin(pfile, 'reload');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /test\.pfile:\d+: MONITOR_INTERVAL "ten"/);
    await pc.waitLine('Reload refused (padmin)');
    assert.equal(sb.showPent(pfile).length, 2);
    assert.match(sb.padmin(pfile, 'show param').stdout, /MONITOR_INTERVAL\s+= 10/);
  });

  it('SIGHUP reloads: a removed entry goes, the kept one keeps its counters, and the log says what changed', async () => {
    const [e1] = sb.showPent(pfile);
    writeFileSync(pfile, text.split('\n').filter((l) => !l.startsWith(b.pname)).join('\n'));
    const from = pc.lines.length;
    kill(pc.pid, 'SIGHUP');
    await pc.waitLine(`Command execute. [reload] pfile='${pfile}'`, 10_000, from);
    await pc.waitLine(`Reloaded pfile='${pfile}': 1 entries (removed ${b.pname}; 1 unchanged)`, 10_000, from);
    const after = sb.showPent(pfile);
    assert.equal(after.length, 1);
    assert.equal(after[0].pid, e1.pid);
    assert.equal(after[0].restart_count, e1.restart_count);
  });

  it('list shows this pcheck with its death watch and pfile', () => {
    const r = sb.padmin(null, 'list');
    assert.equal(r.code, 0);
    const watch = process.env.PROCSAFE_DEATH_WATCH === 'poll' ? 'poll' : 'pidfd';
    assert.match(r.stdout, new RegExp(`0x${sb.ipckey.toString(16)}\\s+${pc.pid}\\s+1\\s+${watch}\\s+${pfile}`));
  });

  it('a second pcheck with the same IPCKEY is refused with exit 2', () => {
    const r = spawnSync(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /another pcheck/);
  });
});

describe('pcheck refuses a bad pfile', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('exits 2 with file, line and problem, and starts nothing', () => {
    const svc = sb.service();
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:explode`] });
    const r = spawnSync(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^pcheck: ${pfile.replace(/[.]/g, '\\.')}:9: .*explode`));
    assert.equal(existsSync(socketPath(sb.runDir, sb.ipckey)), false, 'no control socket');
    assert.deepEqual(sb.pidsOf(svc), []);
  });

  it('exits 2 on a missing pfile and on bad usage', () => {
    let r = spawnSync(process.execPath, [PCHECK, '-f', join(sb.dir, 'nope.pfile')], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nope\.pfile: cannot read/);
    r = spawnSync(process.execPath, [PCHECK, '--bogus'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    r = spawnSync(process.execPath, [PCHECK], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing -f PFILE/);
  });

  it('padmin exits 3 when no pcheck answers and there is no state file', () => {
    const svc = sb.service('x');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    const r = sb.padmin(pfile, 'stop');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no pcheck answers/);
  });
});
