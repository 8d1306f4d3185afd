// Hostile probe of issue 11 (FailSafe mode at 3 a.m.), with the real pcheck --config and real
// scripts, OS actions rehearsed: a clock stepped back past an OS final action, and the operator's
// hand on a group while the daemon is busy with it (docs/failsafe.md).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox, livePids } from '../helpers/failsafe';
import { kill, sleep } from '../helpers/harness';

const YEAR = 365 * 24 * 3600 * 1000;

describe('FailSafe mode under a hostile operator', () => {
  it('an OS final action recorded in the future (the clock was stepped back, e.g. an RTC ahead until NTP fixed it) holds back OS actions for one final_action_window, not until the clock catches up', async () => {
    const sb = new FailsafeSandbox();
    try {
      const broken = join(sb.dir, 'broken');
      writeFileSync(broken, '');
      const check = sb.script('check.sh', `[ ! -e ${broken} ]`);
      const start = sb.script('start.sh', 'echo started');
      sb.ini(
        `[group:app]\nstart = "${start}"\n\n` +
          `[monitor:app-check]\ntype = custom\ncommand = "${check}"\ntarget = app\ninterval = 0.3\ntimeout = 2\nretries = 0\nrestart_threshold = 0\ngrace = 3600\nfinal_action = reboot\n`,
        `state_file = ${sb.stateFile}\nfinal_action_window = 3\n`,
      );
      const first = sb.failsafe(['--rehearse']);
      await first.waitLine('REHEARSE: would reboot', 20_000);
      kill(first.pid, 'SIGTERM');
      assert.equal(await first.exited, 0);
      // the reboot was recorded while the clock was a year ahead
      const state = JSON.parse(readFileSync(sb.stateFile, 'utf8')) as { finalActions: { at: number }[] };
      assert.equal(state.finalActions.length, 1);
      state.finalActions[0].at += YEAR;
      writeFileSync(sb.stateFile, JSON.stringify(state), { mode: 0o600 });

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine('Monitor app-check still failing; final action reboot already done', 20_000);
      assert.equal(sb.admin('monitor', 'clear', 'app-check').code, 0);
      await second.waitLine(/Final action reboot \(monitor app-check\) not done: 1 OS final action within the last 3s/, 20_000);
      // one window (3 s) later, the operator clears the chain again: the next reboot is allowed
      await sleep(3500);
      assert.equal(sb.admin('monitor', 'clear', 'app-check').code, 0);
      await second.waitLine('REHEARSE: would reboot', 20_000);
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      sb.cleanup();
    }
  });

  it('pcheck SIGKILLed while a group start script runs: the next pcheck stops that script before it restarts the group, so the application does not start twice', async () => {
    const sb = new FailsafeSandbox();
    const pids = join(sb.dir, 'app.pids');
    const live = (): number[] => livePids(pids);
    try {
      // as operators write them: the start waits for its application to come up, the stop kills what the start started
      const start = sb.script('start.sh', `echo "start $PS_EVENT"\nsleep 2\nnohup sleep 1000 >/dev/null 2>&1 &\necho $! >> ${pids}\necho "app started"`);
      const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"\n[ -f ${pids} ] && kill $(cat ${pids}) 2>/dev/null\nexit 0`);
      sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\n`, `state_file = ${sb.stateFile}\n`);
      const first = sb.failsafe(['--rehearse']);
      await first.waitLine('Group app start: start START', 10_000);
      await sleep(300); // the state file says Starting
      kill(first.pid, 'SIGKILL');
      await first.exited;

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine('Group app: Online', 15_000);
      await second.waitLine(/Group app: the start script of the previous pcheck \(pid=\d+\) still runs: stopped it: killed pid=\d+/);
      await sleep(3000); // the first start script would have started its copy by now
      assert.equal(live().length, 1, `one copy of the application: ${readFileSync(pids, 'utf8')}`);
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
      assert.equal(live().length, 0, 'the stop script stopped it');
    } finally {
      for (const p of live()) kill(p, 'SIGKILL');
      sb.cleanup();
    }
  });

  it('a start script that starts its application and then fails (exit 1): the stop script runs before the activation retry, so one copy runs, not two', async () => {
    const sb = new FailsafeSandbox();
    const pids = join(sb.dir, 'app.pids');
    const tried = join(sb.dir, 'tried');
    const live = (): number[] => livePids(pids);
    try {
      // as operators write them: the application in the background, then a check that fails the first time
      const start = sb.script('start.sh', `echo "start $PS_EVENT"\nnohup sleep 1000 >/dev/null 2>&1 &\necho $! >> ${pids}\nif [ ! -e ${tried} ]; then touch ${tried}; echo "app did not answer in time"; exit 1; fi\necho "app started"`);
      const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"\n[ -f ${pids} ] && kill $(cat ${pids}) 2>/dev/null\nexit 0`);
      sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\nactivation_retries = 1\n`);
      const pc = sb.failsafe(['--rehearse']);
      const retry = await pc.waitLine('Group app: start failed (exit 1); activation retry 1/1 (the stop script first', 10_000);
      await pc.waitLine('Group app stop: stop START', 10_000, retry.index);
      await pc.waitLine('Group app: Starting -> Online', 10_000, retry.index);
      assert.equal(live().length, 1, `one copy of the application: ${readFileSync(pids, 'utf8')}`);
      assert.equal(sb.group('app').state, 'Online');
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
      assert.equal(live().length, 0, 'the stop script stopped it');
    } finally {
      for (const p of live()) kill(p, 'SIGKILL');
      sb.cleanup();
    }
  });

  it('a group start script saved with Windows (CRLF) line endings, as copied from the CLUSTERPRO Builder on a PC, is refused at load with its ini line and dos2unix, not run into a start failure that says "no such file"', async () => {
    const sb = new FailsafeSandbox();
    try {
      const start = join(sb.dir, 'start.sh');
      writeFileSync(start, '#! /bin/sh\r\nif [ "$CLP_EVENT" = "START" ]\r\nthen\r\n  clplogcmd -m "app started" -l INFO\r\nfi\r\nexit 0\r\n', { mode: 0o755 });
      sb.ini(`[group:app]\nstart = "${start}"\n`);
      const pc = sb.failsafe(['--rehearse']);
      const code = await Promise.race([pc.exited, sleep(10_000).then(() => 'still running')]);
      if (code === 'still running') kill(pc.pid, 'SIGTERM');
      assert.equal(code, 2, pc.lines.map((l) => l.text).join('\n'));
      assert.match(pc.stderr, new RegExp(`procsafe.ini:\\d+: \\[group:app\\] start = .*has Windows \\(CRLF\\) line endings.*dos2unix ${start}`));
      assert.equal(pc.count('Group app: starting'), 0, 'no group was started');
    } finally {
      sb.cleanup();
    }
  });
});
