// Hostile probe of the stop script before an activation retry (docs/failsafe.md "Groups"): pcheck
// SIGKILLed while it runs, the operator's stop meanwhile, and the group's monitors meanwhile. Real
// pcheck --config, real scripts written as operators write them (`nohup app &`, a check that fails).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox, livePids } from '../helpers/failsafe';
import { kill, sleep, waitFor } from '../helpers/harness';

/** A group whose start starts its application and fails the first time (while `tried` does not
 *  exist; it makes `slow` then when `slowCleanup` exists), and whose stop kills what the starts
 *  started; the first stop that finds `slow` takes it and waits while `held` exists (the test
 *  removes it), later ones do not wait. */
function halfStartingGroup(sb: FailsafeSandbox, extra = '') {
  const pids = join(sb.dir, 'app.pids');
  const tried = join(sb.dir, 'tried');
  const slow = join(sb.dir, 'slow');
  const slowCleanup = join(sb.dir, 'slow-cleanup');
  const held = join(sb.dir, 'held');
  const live = (): number[] => livePids(pids);
  const start = sb.script('start.sh', `echo "start $PS_EVENT"\nnohup sleep 1000 >/dev/null 2>&1 &\necho $! >> ${pids}\nif [ ! -e ${tried} ]; then touch ${tried}; [ -e ${slowCleanup} ] && touch ${slow}; echo "app did not answer in time"; exit 1; fi\necho "app started"`);
  const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"\nif [ -e ${slow} ]; then rm -f ${slow}; touch ${held}; while [ -e ${held} ]; do sleep 0.1; done; fi\n[ -f ${pids} ] && kill $(cat ${pids}) 2>/dev/null\nexit 0`);
  writeFileSync(slow, '');
  sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\nactivation_retries = 1\nstop_timeout = 60\n${extra}`, `state_file = ${sb.stateFile}\n`);
  return { live, slow, held, tried, slowCleanup };
}

/** Waits until the state file records the group with `what` in its record. */
async function recorded(sb: FailsafeSandbox, what: RegExp): Promise<void> {
  await waitFor(() => existsSync(sb.stateFile) && what.test(readFileSync(sb.stateFile, 'utf8')), 5000, `the state file to match ${what}`);
}

describe('FailSafe: the stop script before an activation retry, under a hostile operator', () => {
  it('pcheck SIGKILLed while the stop script before a retry runs: the next pcheck stops that script and restarts the group (stop, then start): one copy of the application', async () => {
    const sb = new FailsafeSandbox();
    const { live, held } = halfStartingGroup(sb);
    try {
      const first = sb.failsafe(['--rehearse']);
      await first.waitLine('Group app stop: stop START', 10_000);
      await recorded(sb, /"phase":\s*"stop"/);
      kill(first.pid, 'SIGKILL');
      await first.exited;

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine(/Group app: the stop script of the previous pcheck \(pid=\d+\) still runs: stopped it/, 10_000);
      await second.waitLine('Group app: was Starting when the previous pcheck ended: restarting it (stop script, then start script)');
      await second.waitLine('Group app: Online', 10_000);
      assert.equal(live().length, 1, `one copy of the application: ${live().join(',')}`);
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
      assert.equal(live().length, 0);
    } finally {
      rmSync(held, { force: true });
      for (const p of live()) kill(p, 'SIGKILL');
      sb.cleanup();
    }
  });

  it('padmin group stop while the stop script before a retry runs, then pcheck SIGKILLed before it ends: the next pcheck runs the stop script again and leaves the group Offline, nothing of it running (it killed that stop script half way and left the application up)', async () => {
    const sb = new FailsafeSandbox();
    const { live, held } = halfStartingGroup(sb);
    try {
      const first = sb.failsafe(['--rehearse']);
      await first.waitLine('Group app stop: stop START', 10_000);
      const r = sb.admin('group', 'stop', 'app');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /group app: stop requested \(now Starting\)/);
      await recorded(sb, /"stoppedBy":\s*"operator"/);
      kill(first.pid, 'SIGKILL');
      await first.exited;

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine('Group app: stopped by the operator, but the previous pcheck ended while it was Starting: running its stop script again', 10_000);
      const stopped = await second.waitLine('Group app stop: stop STOP', 10_000);
      await second.waitLine('Group app: Offline', 10_000, stopped.index);
      assert.equal(live().length, 0, `nothing of the group runs: ${live().join(',')}`);
      assert.ok(!second.lines.some((l) => l.text.includes('Group app start:')), 'no start script');
      assert.equal(sb.group('app').state, 'Offline');
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      rmSync(held, { force: true });
      for (const p of live()) kill(p, 'SIGKILL');
      sb.cleanup();
    }
  });

  it("a group restart whose start fails: the group's monitor is held while the stop script before the retry runs (no failure counted, no second restart)", async () => {
    const sb = new FailsafeSandbox();
    const up = join(sb.dir, 'up');
    const check = sb.script('check.sh', `[ -e ${up} ]`);
    const { live, slow, held, tried, slowCleanup } = halfStartingGroup(
      sb,
      `\n[monitor:chk]\ntype = custom\ncommand = "${check}"\ntarget = app\ninterval = 0.3\ntimeout = 2\nretries = 0\nrestart_threshold = 2\ngrace = 3600\nfinal_action = none\n`,
    );
    try {
      rmSync(slow);
      writeFileSync(up, '');
      const pc = sb.failsafe(['--rehearse']);
      await pc.waitLine('Group app: Starting -> Online', 10_000);
      // the first start failed and was cleaned up; now the restart's start fails once more, its cleanup is slow
      rmSync(tried);
      writeFileSync(slowCleanup, '');
      rmSync(up);
      const retry = await pc.waitLine('Group app: start failed (exit 1); activation retry 1/1', 10_000);
      await waitFor(() => existsSync(held), 5000, 'the stop script before the retry to wait');
      await sleep(1500); // five checks' worth of the monitor failing, if it were not held
      rmSync(held);
      writeFileSync(up, '');
      const online = await pc.waitLine('Group app: Online', 10_000, retry.index);
      const between = pc.lines.slice(retry.index, online.index).map((l) => l.text);
      assert.deepEqual(between.filter((t) => t.includes('Monitor chk')), [], between.join('\n'));
      assert.equal(live().length, 1, `one copy of the application: ${live().join(',')}`);
      assert.equal(sb.monitor('chk').groupRestarts, 1);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    } finally {
      rmSync(held, { force: true });
      for (const p of live()) kill(p, 'SIGKILL');
      sb.cleanup();
    }
  });
});
