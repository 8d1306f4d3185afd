// Hung processes (SPEC §10): with `hang_timeout=SECONDS`, a watched process stopped (T) or in
// uninterruptible sleep (D) that long is logged `Process [pname , pid=N] Hang`, killed with
// SIGKILL and restarted like a death (counted as a retry). T comes from SIGSTOP; D from a
// vfork() parent whose child never execs (the kernel holds the parent in a killable D).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxes, kill, sleep } from '../helpers/harness';
import { buildFixture } from '../fixtures/field/build';

function stateOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return null;
  }
}

const dead = (pid: number) => stateOf(pid) === null || stateOf(pid) === 'Z';

describe('hang_timeout', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('a process stopped (T) for hang_timeout seconds is logged Hang, killed and restarted; retry_count 1', async () => {
    const sb = box();
    const svc = sb.service('stopped');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:exit:hang_timeout=2`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    const t0 = performance.now();
    kill(pid, 'SIGSTOP');
    const hang = await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Hang`, 10_000);
    const hangMs = hang.at - t0;
    assert.ok(hangMs >= 1900 && hangMs < 4500, `Hang ${Math.round(hangMs)} ms after SIGSTOP (hang_timeout 2 s, sampled each second)`);
    await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Down`, 5000, hang.index);
    await pc.waitLine(`Try to restart (${svc.pname})`, 5000, hang.index);
    const up = await pc.waitLine(new RegExp(`\\(${svc.pname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ,pid=\\d+\\) Up`), 10_000, hang.index);
    assert.ok(dead(pid), 'the hung process was killed');
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid, e.retry_count], ['AVAIL', /pid=(\d+)/.exec(up.text)![1], '1']);
    console.log(`# SIGSTOP → Hang logged: ${Math.round(hangMs)} ms (hang_timeout=2)`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('a process in uninterruptible sleep (D) for hang_timeout seconds is killed and restarted; the vfork child it left is ended', async () => {
    const sb = box();
    const bin = buildFixture('vfork-hang', sb.dir, 'vforker');
    const once = join(sb.dir, 'hung-once');
    // the first copy hangs in D after 0.5 s; the restarted one does not (a 1-day delay)
    const script = sb.script(
      'start-vforker.sh',
      `if [ -e '${once}' ]; then d=86400000; else : > '${once}'; d=500; fi\nsetsid '${bin}' "$d" </dev/null >/dev/null 2>&1 &`,
    );
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3 }, pents: [`${bin}:${script}:0:3:exit:hang_timeout=2`] });
    const pc = sb.pcheck(pfile);
    const up = await pc.waitLine(`(${bin} ,pid=`, 10_000);
    const pid = Number(/pid=(\d+)/.exec(up.text)![1]);
    sb.track(pid);
    const t0 = performance.now();
    while (stateOf(pid) !== 'D' && performance.now() - t0 < 3000) await sleep(20);
    assert.equal(stateOf(pid), 'D', 'the first copy hangs in D');
    const hang = await pc.waitLine(`Process [${bin} , pid=${pid}] Hang`, 10_000);
    const ending = await pc.waitLine(`(${bin}) ending what the dead process left in its session`, 5000, hang.index);
    const child = Number(/pid=(\d+)/.exec(ending.text)![1]);
    const again = await pc.waitLine(new RegExp(`\\(${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ,pid=\\d+\\) Up`), 10_000, hang.index);
    const pid2 = Number(/pid=(\d+)/.exec(again.text)![1]);
    sb.track(pid2);
    assert.ok(dead(pid), 'the hung process was killed');
    assert.ok(dead(child), 'its vfork child was ended');
    await sleep(500);
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid, e.retry_count], ['AVAIL', String(pid2), '2']);
    console.log(`# D (vfork) → Hang logged ${Math.round(hang.at - t0)} ms after the process entered D`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
