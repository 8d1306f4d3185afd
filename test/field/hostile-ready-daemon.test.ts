// Hostile probe (field suite): a daemon whose start command returns only once the service is
// ready — the parent forks, waits 1.5 s for its child's start-up work, then exits; the child
// stays in the parent's session. The child is the program carrying on (one fresh fork of the
// dead process), not an orphaned worker to end: no second restart, one copy.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Sandbox, kill, sleep, waitFor, type Service } from '../helpers/harness';
import { buildFieldFixture } from '../helpers/field';

describe('a daemon whose parent waits 1.5 s for its child to be ready', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('is followed to the child after each kill: one copy, one script run per kill, retry_count 1 then 2', async () => {
    const bin = buildFieldFixture('ready-daemon', sb.dir, 'readyd');
    const script = sb.script('start-readyd.sh', `echo "starting"\n${bin}`);
    const svc: Service = { pname: bin, script };
    const pfile = sb.pfile({ param: { RESTART_WAIT: 5 }, pents: [`${bin}:${script}:0:3:exit`] });
    spawnSync(script, { stdio: 'ignore' });
    const first = await waitFor(() => (sb.pidsOf(svc).length === 1 ? sb.pidsOf(svc)[0] : undefined), 5000, 'the daemon');
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${bin} ,pid=${first}) Up`);
    let victim = first;
    for (const round of [1, 2]) {
      const from = pc.lines.length;
      kill(victim, 'SIGKILL');
      await pc.waitLine(`Try to restart (${bin})`, 10_000, from);
      await sleep(1500 + 2000); // the start-up work, then time for a wrong second restart to show
      const log = () => pc.lines.map((l) => l.text).join('\n');
      const view = () => {
        try {
          return sb.showPent(pfile)[0];
        } catch (err) {
          assert.fail(`${(err as Error).message}\n${log()}`);
        }
      };
      await waitFor(() => sb.pidsOf(svc).length === 1 && view().proc_sts === 'AVAIL', 8000, 'one copy, AVAIL').catch(() => undefined);
      const pids = sb.pidsOf(svc);
      const e = view();
      assert.equal(pids.length, 1, `copies after kill ${round}: ${pids.join(',')}\n${log()}`);
      assert.equal(e.pid, String(pids[0]), `the process watched is the one that stays\n${log()}`);
      assert.equal(e.proc_sts, 'AVAIL');
      assert.equal(e.retry_count, String(round), log());
      assert.equal(pc.count(`(${bin}) script: starting`), round, `one script run per kill\n${log()}`);
      victim = pids[0];
    }
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
