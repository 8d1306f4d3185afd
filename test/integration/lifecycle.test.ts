// Grace, retry-over none, hanging scripts, restarts of pcheck itself, signals, OS-action rehearsal.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, fileHas, kill, sleep, waitFor } from '../helpers/harness';

describe('grace', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('puts retry_count back to 0 once the process has stayed up for grace seconds; restart_count stays', async () => {
    const svc = sb.service();
    // grace 3 s: long enough to see retry_count 1 first, even on a loaded machine
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:3:1:exit`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    kill(pid, 'SIGKILL');
    await pc.waitLine('Try to restart');
    await waitFor(() => sb.showPent(pfile)[0].proc_sts === 'AVAIL', 5000, 'AVAIL');
    assert.equal(sb.showPent(pfile)[0].retry_count, '1');
    await pc.waitLine('retry_count reset to 0', 10_000);
    const [e] = sb.showPent(pfile);
    assert.equal(e.retry_count, '0');
    assert.equal(e.restart_count, '1');
    // a retry is available again: the next kill is healed, not a retry-over
    const from = pc.lines.length;
    kill(Number(e.pid), 'SIGKILL');
    await pc.waitLine(') Up', 10_000, from);
    assert.equal(pc.count('RETRY_OVER'), 0);
  });
});

describe('retry-over none', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('keeps pcheck running, stops restarting, and comes back to AVAIL when the process reappears', async () => {
    const svc = sb.service();
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:0:none`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    kill(pid, 'SIGKILL');
    await pc.waitLine(`(${svc.pname}) RETRY_OVER:NONE`);
    assert.equal(sb.showPent(pfile)[0].proc_sts, 'RETRY_OVER');
    assert.equal(pc.count('FATAL'), 0);
    assert.equal(sb.pidsOf(svc).length, 0, 'nothing was restarted');
    const again = await sb.startService(svc);
    await pc.waitLine(`(${svc.pname} ,pid=${again}) Up`, 12_000);
    assert.equal(sb.showPent(pfile)[0].proc_sts, 'AVAIL');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('reset pent leaves RETRY_OVER and restarts a missing process at once', async () => {
    const svc = sb.service('svc2');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:1:none`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    kill(pid, 'SIGKILL');
    const restart = await pc.waitLine('Try to restart');
    const up = await pc.waitLine(/svc2 ,pid=\d+\) Up/, 10_000, restart.index);
    kill(Number(/pid=(\d+)/.exec(up.text)![1]), 'SIGKILL');
    await pc.waitLine('RETRY_OVER:NONE');
    await waitFor(() => sb.pidsOf(svc).length === 0, 2000, 'no copy running');
    const from = pc.lines.length;
    const r = sb.padmin(pfile, 'reset pent 1');
    assert.equal(r.code, 0, r.stderr);
    await pc.waitLine(`Command execute. [reset pent 1] pfile='${pfile}'`, 10_000, from);
    await pc.waitLine('Try to restart', 10_000, from);
    await pc.waitLine(') Up', 10_000, from);
    const [e] = sb.showPent(pfile);
    assert.equal(e.proc_sts, 'AVAIL');
    assert.equal(e.restart_count, '1');
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});

describe('restart scripts', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('a restart script that hangs is killed with its process group at the script timeout, and the failure counts', async () => {
    const svc = sb.service('hang', { scriptBody: 'echo "child $$"; sleep 1000 & echo "grandchild $!"; wait\n' });
    const pfile = sb.pfile({ param: { SCRIPT_TIMEOUT: 1, RESTART_WAIT: 0.5, INITIAL_WAIT: 0.2 }, pents: [`${svc.pname}:${svc.script}:0:1:none`] });
    const pc = sb.pcheck(pfile);
    const g = await pc.waitLine(/script: grandchild \d+/, 10_000);
    const grandchild = Number(/grandchild (\d+)/.exec(g.text)![1]);
    sb.track(grandchild);
    await pc.waitLine('timed out; killed it and what it started', 10_000);
    await waitFor(() => !isAlive(grandchild), 2000, 'the script’s child to be gone');
    await pc.waitLine(`Set pid fail (${svc.pname})`, 10_000);
    await pc.waitLine('RETRY_OVER:NONE', 10_000);
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });

  it('a restart script that exits non-zero is logged; the process appearing is what counts', async () => {
    const svc = sb.service('bad');
    const body = readFileSync(svc.script, 'utf8') + 'exit 3\n';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(svc.script, body);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.2 }, pents: [`${svc.pname}:${svc.script}:0:3:none`] });
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`Restart script of (${svc.pname}) exited with status 3`, 10_000);
    await pc.waitLine(') Up', 10_000);
    assert.equal(sb.showPent(pfile)[0].proc_sts, 'AVAIL');
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});

describe('pcheck stopped and started again', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('SIGTERM logs SIGTERM Catch and Stop pcheck!! in every sink, exits 0 and leaves the process running', async () => {
    const svc = sb.service();
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.equal(pc.lines.at(-2)?.text.endsWith('SIGTERM Catch (15)!!'), true);
    assert.equal(pc.lines.at(-1)?.text.endsWith('Stop pcheck!!'), true);
    const log = readFileSync(join(sb.dir, 'pcheck.log'), 'utf8').trim().split('\n');
    assert.match(log.at(-1)!, /pcheck\[\d+\]: Stop pcheck!!$/);
    assert.deepEqual(sb.pidsOf(svc), [pid], 'the watched process is still running');
  });

  it('a pcheck killed with SIGKILL and started again keeps its counters and adopts the running process', async () => {
    const svc = sb.service('k');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:5:exit`] });
    const pid = await sb.startService(svc);
    let pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    kill(pid, 'SIGKILL');
    await pc.waitLine('Try to restart');
    await waitFor(() => sb.showPent(pfile)[0].proc_sts === 'AVAIL', 5000, 'AVAIL');
    const before = sb.showPent(pfile)[0];
    kill(pc.pid, 'SIGKILL');
    await pc.exited;

    const offline = sb.padmin(pfile, 'show pent');
    assert.equal(offline.code, 3);
    assert.match(offline.stdout, /restart_count\s+= 1/);

    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${before.pid}) Up`);
    const [e] = sb.showPent(pfile);
    assert.equal(e.retry_count, '1');
    assert.equal(e.restart_count, '1');
    assert.equal(e.rerun_time, before.rerun_time);
    assert.equal(e.pid, before.pid);
    assert.equal(sb.pidsOf(svc).length, 1, 'no second copy was started');
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});

describe('OS actions', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  for (const action of ['shutdown', 'reboot', 'panic']) {
    it(`retry-over ${action} with --rehearse logs FATAL and records the action instead of doing it`, async () => {
      const svc = sb.service(`os-${action}`);
      const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:0:${action}`] });
      const pid = await sb.startService(svc);
      const pc = sb.pcheck(pfile, ['--rehearse']);
      await pc.waitLine(') Up');
      kill(pid, 'SIGKILL');
      await pc.waitLine(`(${svc.pname}) RETRY_OVER:${action.toUpperCase()}`);
      await pc.waitLine(`(${svc.pname}) FATAL`);
      await pc.waitLine(`REHEARSE: would ${action}`);
      assert.ok(fileHas(join(sb.runDir, 'rehearse.log'), `REHEARSE ${action}`));
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    });
  }
});

function isAlive(pid: number): boolean {
  try {
    const st = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return st !== 'Z' && st !== 'X';
  } catch {
    return false;
  }
}

void sleep;
