// The ProcessSaver construction guide's own check, with the real pcheck and real processes:
// start → AVAIL; kill → restarted with counters; repeat → RETRY_OVER:EXIT, FATAL, exit 1.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, waitFor } from '../helpers/harness';

describe('pcheck heals a killed process and retries over with exit 1', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('follows the construction guide: AVAIL, killed and restarted twice, then RETRY_OVER:EXIT, FATAL, exit 1', async () => {
    const svc = sb.service();
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:2:exit`] });
    const firstPid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    // CI builds the native addon, so deaths are pidfd events unless the poll is forced
    await pc.waitLine(`death watch: ${process.env.PROCSAFE_DEATH_WATCH === 'poll' ? 'poll' : 'pidfd'})`);
    await pc.waitLine(`(${svc.pname} ,pid=${firstPid}) Up`);

    let [e] = sb.showPent(pfile);
    assert.equal(e.proc_sts, 'AVAIL');
    assert.equal(e.pid, String(firstPid));
    assert.equal(e.retry_count, '0');
    assert.equal(e.restart_count, '0');
    assert.equal(e.rerun_time, '-----');
    assert.equal(e.monitor_sts, 'on');
    assert.equal(e.retry_over_act, 'exit');

    let pid = firstPid;
    const detect: number[] = [];
    for (let round = 1; round <= 2; round++) {
      const from = pc.lines.length;
      const t = performance.now();
      kill(pid, 'SIGKILL');
      const down = await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Down`, 10_000, from);
      detect.push(down.at - t);
      await pc.waitLine(`Try to restart (${svc.pname})`, 10_000, from);
      const up = await pc.waitLine(new RegExp(`\\(${svc.pname.replace(/[/.]/g, '\\$&')} ,pid=(\\d+)\\) Up`), 10_000, from);
      const newPid = Number(/pid=(\d+)/.exec(up.text)![1]);
      sb.track(newPid);
      assert.notEqual(newPid, pid);
      [e] = sb.showPent(pfile);
      assert.equal(e.pid, String(newPid));
      assert.equal(e.retry_count, String(round));
      assert.equal(e.restart_count, String(round));
      assert.equal(e.proc_sts, 'AVAIL');
      assert.match(e.rerun_time, /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
      pid = newPid;
    }
    // the restart script's output went to the log
    await pc.waitLine('starting svc retry=2 restart=2');

    const from = pc.lines.length;
    kill(pid, 'SIGKILL');
    await pc.waitLine(`(${svc.pname}) RETRY_OVER:EXIT`, 10_000, from);
    await pc.waitLine(`(${svc.pname}) FATAL`, 10_000, from);
    assert.equal(await pc.exited, 1);

    // every sink has the last line, and the log file has the whole catalogue
    const log = readFileSync(join(sb.dir, 'pcheck.log'), 'utf8');
    for (const m of [`Process [${svc.pname} , pid=${firstPid}] Down`, `Try to restart (${svc.pname})`, `) Up`, `(${svc.pname}) RETRY_OVER:EXIT`, `(${svc.pname}) FATAL`]) {
      assert.ok(log.includes(m), `log file lacks ${m}`);
    }
    assert.match(log.trim().split('\n').at(-1)!, /\) FATAL$/);
    for (const d of detect) assert.ok(d < 100, `Down reported ${d.toFixed(1)} ms after the kill (limit 100 ms)`);
    process.stdout.write(`# kill → Down on stdout: ${detect.map((d) => d.toFixed(1)).join(', ')} ms\n`);
  });

  it('with the retries used up the state file holds the counters, and padmin shows it and says pcheck is not running', async () => {
    const r = sb.padmin(join(sb.dir, 'test.pfile'), 'show pent');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /pcheck is not running/);
    assert.match(r.stdout, /state file .*state\.dmp/);
    assert.match(r.stdout, /retry_count\s+= 2/);
    assert.match(r.stdout, /proc_sts\s+= RETRY_OVER/);
  });
});

describe('pcheck notices death at once whatever MONITOR_INTERVAL is', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('reports Down within 100 ms of SIGKILL with MONITOR_INTERVAL 10, five times in a row', async () => {
    const svc = sb.service();
    const pfile = sb.pfile({ param: { MONITOR_INTERVAL: 10 }, pents: [`${svc.pname}:${svc.script}:0:10:none`] });
    let pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) {
      const from = pc.lines.length;
      const t = performance.now();
      kill(pid, 'SIGKILL');
      const down = await pc.waitLine('] Down', 10_000, from);
      lat.push(down.at - t);
      await pc.waitLine(') Up', 10_000, from);
      pid = await waitFor(() => sb.pidsOf(svc).find((p) => p !== pid), 3000, 'new pid');
    }
    process.stdout.write(`# kill → Down: ${lat.map((d) => d.toFixed(1)).join(', ')} ms\n`);
    for (const d of lat) assert.ok(d < 100, `Down after ${d.toFixed(1)} ms`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
