// Hostile probe (field suite): two pchecks, each with its own pfile (own IPCKEY, own state file),
// whose entries name the same program — an operator who copied a PENT line into a second pfile,
// or two teams' pfiles on one server. Each pcheck alone is right; together, after one kill,
// both ran the restart script and two copies started. Now one restart at a time per program,
// host-wide (src/daemon/restart-lock.ts): one pcheck runs the script, the other holds its
// script back and adopts that copy.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { countLines } from '../helpers/field';
import { type Pcheck, type Sandbox, kill, sandboxes, sleep, waitFor } from '../helpers/harness';
import { LOCK_DIRS, lockName } from '../../src/daemon/entries/restart-lock';

const logOf = (pc: Pcheck) => pc.lines.map((l) => l.text).join('\n');
const HELD_BACK = 'restarts the same program: this restart script waits for its outcome';

/** A program (`sleep` under the argv[0] DIR/app) whose restart script notes each run in
 *  DIR/app.runs, the way operators write it (nohup ... &). */
function program(sb: Sandbox): { pname: string; script: string; runs: () => number; pids: () => number[] } {
  const pname = join(sb.dir, 'app');
  const runs = join(sb.dir, 'app.runs');
  const script = sb.script('start-app.sh', `echo run >> '${runs}'\nnohup bash -c 'exec -a "$0" sleep infinity' '${pname}' >/dev/null 2>&1 &`);
  return { pname, script, runs: () => countLines(runs), pids: () => sb.pidsOf({ pname, script }) };
}

describe('two pchecks whose pfiles watch the same program', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('a kill of the program is healed by one new copy, not one per pcheck', async (t) => {
    const a = box();
    const b = box();
    const app = program(a);
    const pfileA = a.pfile({ pents: [`${app.pname}:${app.script}:0:3:none`] });
    const pfileB = b.pfile({ pents: [`${app.pname}:${app.script}:0:3:none`] });
    spawnSync(app.script, { stdio: 'ignore' });
    let pid = await waitFor(() => app.pids()[0], 5000, 'the program to run');
    const pcA = a.pcheck(pfileA);
    const pcB = b.pcheck(pfileB);
    await pcA.waitLine(`(${app.pname} ,pid=${pid}) Up`);
    await pcB.waitLine(`(${app.pname} ,pid=${pid}) Up`);
    // two kills: the lock of the first restart is let go once it is decided
    for (let kill_ = 1; kill_ <= 2; kill_++) {
      const runs = app.runs();
      const t0 = performance.now();
      kill(pid, 'SIGKILL');
      const both = () => {
        const [va, vb] = [a.showPent(pfileA)[0], b.showPent(pfileB)[0]];
        return va.proc_sts === 'AVAIL' && vb.proc_sts === 'AVAIL' && va.pid !== String(pid) && va.pid === vb.pid && Number(va.pid);
      };
      pid = await waitFor(both, 10_000, `both entries AVAIL on the same new process (kill ${kill_})`);
      t.diagnostic(`kill ${kill_}: both pchecks AVAIL on the one new copy ${Math.round(performance.now() - t0)} ms after the kill`);
      await sleep(1000);
      const log = `pcheck A:\n${logOf(pcA)}\npcheck B:\n${logOf(pcB)}`;
      assert.deepEqual(app.pids(), [pid], `kill ${kill_}: one copy\n${log}`);
      assert.equal(app.runs(), runs + 1, `kill ${kill_}: the restart script ran once\n${log}`);
      assert.ok(logOf(pcA).includes(HELD_BACK) || logOf(pcB).includes(HELD_BACK), `one pcheck held its script back\n${log}`);
    }
    kill(pcA.pid, 'SIGTERM');
    kill(pcB.pid, 'SIGTERM');
    await Promise.all([pcA.exited, pcB.exited]);
  });
});

describe('a pcheck whose program\'s restart lock another process holds (a process standing in for the other pcheck)', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  /** pcheck watching the program; the lock is taken by `flock` before the kill. */
  async function killedWhileLocked(sb: Sandbox) {
    const app = program(sb);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 1, RESTART_WAIT: 3 }, pents: [`${app.pname}:${app.script}:0:3:none`] });
    spawnSync(app.script, { stdio: 'ignore' });
    const pid = await waitFor(() => app.pids()[0], 5000, 'the program to run');
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${app.pname} ,pid=${pid}) Up`);
    const path = join(LOCK_DIRS[0], lockName({ program: app.pname, includeStrings: [], excludeStrings: [], uid: null }));
    // one process that takes the lock and keeps it (through exec) until it is killed
    const holder = spawn('bash', ['-c', `exec 9>>'${path}' && flock -n 9 && exec sleep 30`], { stdio: 'ignore' });
    sb.track(holder.pid!);
    await sleep(300);
    kill(pid, 'SIGKILL');
    await pc.waitLine(`(${app.pname}) another pcheck ${HELD_BACK}`, 5000);
    return { app, pfile, pc, holder };
  }

  it('the copy the other starts meanwhile is adopted: the held-back script is not run', async () => {
    const sb = box();
    const { app, pfile, pc, holder } = await killedWhileLocked(sb);
    await sleep(1000);
    assert.equal(app.runs(), 1, 'held back: only the start-up run');
    // the other pcheck's restart: its copy, then its lock let go
    spawn(app.script, { stdio: 'ignore' });
    const other = await waitFor(() => app.pids()[0], 5000, 'the other copy');
    await pc.waitLine(`(${app.pname} ,pid=${other}) Up`);
    kill(holder.pid!, 'SIGKILL');
    await pc.waitLine(`Restart script of (${app.pname}) not run`, 5000);
    await sleep(500);
    assert.deepEqual(app.pids(), [other], `one copy\n${logOf(pc)}`);
    assert.equal(sb.showPent(pfile)[0].proc_sts, 'AVAIL');
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });

  it('the other lets go without starting the program: the held-back script runs at once, one copy', async (t) => {
    const sb = box();
    const { app, pfile, pc, holder } = await killedWhileLocked(sb);
    await sleep(1000);
    const t0 = performance.now();
    kill(holder.pid!, 'SIGKILL');
    const healed = await waitFor(() => {
      const v = sb.showPent(pfile)[0];
      return v.proc_sts === 'AVAIL' && v;
    }, 5000, 'the entry healed by its own script');
    const ms = performance.now() - t0;
    t.diagnostic(`healed ${Math.round(ms)} ms after the lock was let go`);
    assert.ok(ms < 2000, `healed ${Math.round(ms)} ms after the lock was let go`);
    await sleep(500);
    assert.deepEqual(app.pids(), [Number(healed.pid)], `one copy\n${logOf(pc)}`);
    assert.equal(app.runs(), 2);
    assert.equal(healed.retry_count, '1');
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });

  it('SIGTERM while the script is held back: pcheck stops at once and nothing starts', async () => {
    const sb = box();
    const { app, pc, holder } = await killedWhileLocked(sb);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    kill(holder.pid!, 'SIGKILL');
    await sleep(1000);
    assert.equal(app.runs(), 1);
    assert.deepEqual(app.pids(), []);
  });
});
