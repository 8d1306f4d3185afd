// Field case 10: after a retry-over exit and a cluster failback, a new pcheck restored
// retry_count at its limit, so the first death was an immediate RETRY_OVER:EXIT. A pcheck that
// ended on purpose (SIGTERM, retry-over exit) now leaves `ended` in its state file and the next
// one starts fresh; one that was killed (SIGKILL) is resumed, counters and all.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, sandboxes, waitFor, type Pcheck, type Service } from '../helpers/harness';
import type { StateSnapshot } from '../../src/state/state-file';

const { box, cleanup } = sandboxes();
after(cleanup);

const stateOf = (sb: Sandbox): StateSnapshot => JSON.parse(readFileSync(join(sb.dir, 'state.dmp'), 'utf8')) as StateSnapshot;

/** A pcheck watching the running service (started as a cluster's start script would). */
async function watch(sb: Sandbox, svc: Service, pfile: string): Promise<{ pc: Pcheck; pid: number }> {
  const pid = sb.pidsOf(svc)[0] ?? (await sb.startService(svc));
  const pc = sb.pcheck(pfile);
  await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
  return { pc, pid };
}

/** Kills the watched process and waits for its restart; returns the new pid. */
async function killAndHeal(sb: Sandbox, svc: Service, pc: Pcheck, pid: number): Promise<number> {
  const from = pc.lines.length;
  kill(pid, 'SIGKILL');
  await pc.waitLine(`Try to restart (${svc.pname})`, 10_000, from);
  await pc.waitLine(`(${svc.pname} ,pid=`, 10_000, from);
  return waitFor(() => sb.pidsOf(svc).find((p) => p !== pid), 5000, 'the new process');
}

/** A pcheck that has healed one kill (retry_count 1, restart_count 1, on disk), then is ended by `signal`. */
async function healedThenEnded(name: string, signal: 'SIGTERM' | 'SIGKILL') {
  const sb = box();
  const svc = sb.service(name);
  const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:5:exit`] });
  const first = await watch(sb, svc, pfile);
  await killAndHeal(sb, svc, first.pc, first.pid);
  await waitFor(() => stateOf(sb).entries[0].restartCount === 1, 5000, 'the state file');
  kill(first.pc.pid, signal);
  const code = await first.pc.exited;
  return { sb, svc, pfile, code };
}

describe('counters after an exit of pcheck', () => {
  it('retry_count 1 and exit: kill twice → pcheck exits 1; failback: start again → a kill is healed, not RETRY_OVER', async () => {
    const sb = box();
    const svc = sb.service('app');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:1:exit`] });
    const first = await watch(sb, svc, pfile);
    const pid = await killAndHeal(sb, svc, first.pc, first.pid);
    kill(pid, 'SIGKILL');
    await first.pc.waitLine(`(${svc.pname}) RETRY_OVER:EXIT`);
    assert.equal(await first.pc.exited, 1);
    assert.equal(stateOf(sb).ended, 'RETRY_OVER:EXIT');
    assert.equal(stateOf(sb).entries[0].retryCount, 1, 'the file keeps the counts for padmin');

    // the cluster fails the group back: its start script starts the program, then pcheck
    const second = await watch(sb, svc, pfile);
    await second.pc.waitLine('says the previous pcheck exited after RETRY_OVER:EXIT: counters start at 0');
    assert.deepEqual([sb.showPent(pfile)[0].retry_count, sb.showPent(pfile)[0].restart_count], ['0', '0']);
    await killAndHeal(sb, svc, second.pc, second.pid);
    assert.equal(second.pc.count(`(${svc.pname}) RETRY_OVER`), 0);
    assert.equal(second.pc.child.exitCode, null, 'pcheck still runs');
    assert.equal(sb.showPent(pfile)[0].retry_count, '1');
  });

  it('SIGTERM, then start: fresh counters (the file says ended SIGTERM)', async () => {
    const { sb, svc, pfile, code } = await healedThenEnded('web', 'SIGTERM');
    assert.equal(code, 0);
    assert.equal(stateOf(sb).ended, 'SIGTERM');
    const second = await watch(sb, svc, pfile);
    await second.pc.waitLine('says the previous pcheck was stopped by SIGTERM: counters start at 0');
    const e = sb.showPent(pfile)[0];
    assert.deepEqual([e.retry_count, e.restart_count, e.rerun_time], ['0', '0', '-----']);
  });

  it('SIGKILL, then start: the counters are resumed (the file still says running)', async () => {
    const { sb, svc, pfile } = await healedThenEnded('db', 'SIGKILL');
    assert.equal(stateOf(sb).ended, null);
    const second = await watch(sb, svc, pfile);
    await second.pc.waitLine(`(${svc.pname}) restored: retry_count=1 restart_count=1 monitor_sts=on`);
    assert.deepEqual([sb.showPent(pfile)[0].retry_count, sb.showPent(pfile)[0].restart_count], ['1', '1']);
  });

  it('a file of an earlier boot: fresh counters even after a kill (the machine went down with it)', async () => {
    const { sb, svc, pfile } = await healedThenEnded('mq', 'SIGKILL');
    writeFileSync(join(sb.dir, 'state.dmp'), JSON.stringify({ ...stateOf(sb), bootId: '00000000-0000-4000-8000-000000000000' }));
    const second = await watch(sb, svc, pfile);
    await second.pc.waitLine('was written before this boot: counters start at 0');
    assert.equal(sb.showPent(pfile)[0].restart_count, '0');
  });

  it('monitoring turned off with stop pent stays off across a SIGTERM restart of pcheck', async () => {
    const sb = box();
    const svc = sb.service('batch');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:5:exit`] });
    const first = await watch(sb, svc, pfile);
    assert.equal(sb.padmin(pfile, 'stop pent 1').code, 0);
    await waitFor(() => stateOf(sb).entries[0].monitorSts === 'off', 5000, 'the state file');
    kill(first.pc.pid, 'SIGTERM');
    assert.equal(await first.pc.exited, 0);
    const second = await watch(sb, svc, pfile);
    await second.pc.waitLine(`(${svc.pname}) restored: monitor_sts=off (padmin start pent 1 turns it on)`);
    assert.equal(sb.showPent(pfile)[0].monitor_sts, 'off');
  });
});
