// Hostile probe of issue 11 (FailSafe mode at 3 a.m.), with the real pcheck --config and real
// scripts, OS actions rehearsed: a clock stepped back past an OS final action, and the operator's
// hand on a group while the daemon is busy with it (docs/failsafe.md).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill } from '../helpers/harness';

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
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(sb.admin('monitor', 'clear', 'app-check').code, 0);
      await second.waitLine('REHEARSE: would reboot', 20_000);
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      sb.cleanup();
    }
  });
});
