// A restart script runs once the dead process it replaces has been reaped (SPEC §10, docs/
// decisions.md "Field rules"): while it is an unreaped zombie, daemons that check their pid
// file with kill(pid, 0) (rsyslogd, postgres, apachectl) refuse to start. The wait is bounded
// (3 s, then logged); it holds back that entry's script only: not the Down line, the counters,
// other entries, padmin, or a SIGTERM (then nothing starts).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { countLines } from '../helpers/field';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { type Pcheck, type Sandbox, kill, sandboxes, sleep, waitFor } from '../helpers/harness';

/** The parent pid of a process (field 4 of /proc/PID/stat). */
function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A line `(PNAME ,pid=N) Up` for any N. */
function upLine(pname: string): RegExp {
  return new RegExp(`\\(${pname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ,pid=\\d+\\) Up`);
}

/**
 * A program (`sleep` under the argv[0] DIR/NAME) started by a restart script that notes each run
 * in DIR/NAME.runs. `reaps` false: its parent is a `sleep` that never calls wait() (a container
 * whose PID 1 does not reap, a careless wrapper), so once killed it stays a zombie for good;
 * true: its parent is a shell that waits for it (reaps it at once) — as systemd or a subreaper.
 */
function program(sb: Sandbox, name: string, reaps: boolean): Program {
  const pname = join(sb.dir, name);
  const runs = join(sb.dir, `${name}.runs`);
  const app = sb.script(`run-${name}.sh`, `exec -a '${pname}' sleep infinity`);
  const parent = reaps ? `bash -c '"$0"; :' '${app}'` : `bash -c '"$1" & exec -a "$0" sleep 100000' '${pname}-keeper' '${app}'`;
  const script = sb.script(`start-${name}.sh`, `echo run >> '${runs}'\necho "starting ${name}"\nnohup ${parent} >/dev/null 2>&1 &`);
  return { pname, script, runs: () => countLines(runs), pids: () => sb.pidsOf({ pname, script }) };
}

interface Program {
  pname: string;
  script: string;
  /** how many times its restart script ran */
  runs: () => number;
  /** its live processes */
  pids: () => number[];
}

/** A `stuck` program (its parent never reaps it) started by its script, adopted by pcheck, then
 *  killed: returns once pcheck has logged its Down. */
async function killedUnreaped(sb: Sandbox): Promise<{ z: Program; pfile: string; pc: Pcheck; down: { index: number } }> {
  const z = program(sb, 'stuck', false);
  const pfile = sb.pfile({ pents: [`${z.pname}:${z.script}:0:3:none`] });
  spawnSync(z.script, { stdio: 'ignore' });
  const zPid = await waitFor(() => z.pids()[0], 5000, 'stuck to run');
  const pc = sb.pcheck(pfile);
  await pc.waitLine(`(${z.pname} ,pid=${zPid}) Up`);
  kill(zPid, 'SIGKILL');
  const down = await pc.waitLine(`Process [${z.pname} , pid=${zPid}] Down`);
  return { z, pfile, pc, down };
}

describe('the restart script waits for the dead process to be reaped', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('a parent that never reaps: Down and the counters at once, the script after 3 s with the reason; other entries and padmin are not held up', async () => {
    const sb = box();
    const z = program(sb, 'stuck', false);
    const r = program(sb, 'reaped', true);
    const pfile = sb.pfile({ pents: [`${z.pname}:${z.script}:0:3:none`, `${r.pname}:${r.script}:0:3:none`] });
    spawnSync(z.script, { stdio: 'ignore' });
    spawnSync(r.script, { stdio: 'ignore' });
    const zPid = await waitFor(() => z.pids()[0], 5000, 'stuck to run');
    const rPid = await waitFor(() => r.pids()[0], 5000, 'reaped to run');
    const keeper = ppidOf(zPid);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${z.pname} ,pid=${zPid}) Up`);
    await pc.waitLine(`(${r.pname} ,pid=${rPid}) Up`);

    kill(zPid, 'SIGKILL');
    const down = await pc.waitLine(`Process [${z.pname} , pid=${zPid}] Down`);
    // the counters at once; the script held back
    const view = sb.showPent(pfile)[0];
    const shownMs = performance.now() - down.at;
    assert.equal(view.proc_sts, 'RESTARTING');
    assert.equal(view.retry_count, '1');
    assert.ok(shownMs < 2500, `padmin answered ${Math.round(shownMs)} ms after the Down line`);
    assert.equal(z.runs(), 1, 'the script has not run again yet');

    // another entry, whose parent reaps at once, heals meanwhile without waiting
    const from = pc.lines.length;
    kill(rPid, 'SIGKILL');
    const rDown = await pc.waitLine(`Process [${r.pname} , pid=${rPid}] Down`, 5000, from);
    const rStart = await pc.waitLine(`(${r.pname}) script: starting reaped`, 5000, from);
    const rUp = await pc.waitLine(upLine(r.pname), 5000, from);

    const told = await pc.waitLine(
      `(${z.pname}) pid=${zPid} is still a zombie after 3 s: its parent (pid=${keeper}) does not reap it; restarting anyway`,
      8000,
    );
    const zStart = await pc.waitLine(`(${z.pname}) script: starting stuck`, 5000);
    await pc.waitLine(upLine(z.pname), 5000, down.index);
    const log = pc.lines.map((l) => l.text).join('\n');
    const waited = told.at - down.at;
    assert.ok(waited >= 2900 && waited < 6000, `zombie line ${Math.round(waited)} ms after Down\n${log}`);
    assert.ok(zStart.index > told.index, `the script ran after the zombie line\n${log}`);
    assert.ok(rUp.index < told.index, `the other entry healed during the wait\n${log}`);
    assert.equal(z.runs(), 2);
    console.log(`# reaped at once: Down → script ${Math.round(rStart.at - rDown.at)} ms; zombie kept: Down → script ${Math.round(zStart.at - down.at)} ms`);
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });

  it('SIGTERM while a script waits for the reap: pcheck stops at once and nothing starts', async () => {
    const { z, pc } = await killedUnreaped(box());
    await pc.waitLine(`Try to restart (${z.pname})`);
    await sleep(500);
    const t0 = performance.now();
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    const stopMs = performance.now() - t0;
    const texts = pc.lines.map((l) => l.text.replace(/^.*?pcheck\[\d+\]: /, ''));
    assert.ok(texts.includes(`Restart scripts not started, pcheck stops: (${z.pname})`), texts.join('\n'));
    assert.equal(texts[texts.length - 1], 'Stop pcheck!!');
    assert.ok(!texts.some((t) => t.includes('still a zombie')), texts.join('\n'));
    assert.ok(stopMs < 2000, `SIGTERM → exit ${Math.round(stopMs)} ms`);
    await sleep(3500); // past the end of the wait
    assert.equal(z.runs(), 1, 'the restart script never ran');
    assert.deepEqual(z.pids(), [], 'nothing started');
  });
});

describe('a program started by someone else while its restart script waits for the reap', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('is adopted, and the restart script is not run on top of it: one copy', async () => {
    const sb = box();
    const { z, pfile, pc, down } = await killedUnreaped(sb);
    // the operator (or another tool) starts it by hand during the wait
    spawnSync(z.script, { stdio: 'ignore' });
    const byHand = await waitFor(() => z.pids()[0], 5000, 'the copy started by hand');
    await pc.waitLine(`(${z.pname} ,pid=${byHand}) Up`, 5000, down.index);
    await sleep(4000); // past the end of the wait
    const log = pc.lines.map((l) => l.text).join('\n');
    assert.deepEqual(z.pids(), [byHand], `one copy: the one started by hand\n${log}`);
    assert.equal(z.runs(), 2, `the restart script did not run after the one started by hand\n${log}`);
    const v = sb.showPent(pfile)[0];
    assert.equal(v.proc_sts, 'AVAIL');
    assert.equal(v.pid, String(byHand));
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });

  it('monitoring turned off during the wait (stop pent; a FailSafe group going offline): the script is not run, the entry is DOWN', async () => {
    const sb = box();
    const { z, pfile, pc } = await killedUnreaped(sb);
    await pc.waitLine(`Try to restart (${z.pname})`);
    assert.equal(sb.padmin(pfile, 'stop pent 1').code, 0);
    await pc.waitLine(`Restart script of (${z.pname}) not run: monitoring is off`, 6000);
    await sleep(500);
    const log = pc.lines.map((l) => l.text).join('\n');
    assert.equal(z.runs(), 1, `the restart script never ran\n${log}`);
    assert.deepEqual(z.pids(), [], 'nothing started');
    assert.equal(sb.showPent(pfile)[0].proc_sts, 'DOWN');
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});
