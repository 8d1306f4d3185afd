// SPEC §10 "No reboot loops", with the real pcheck --config (OS actions rehearsed): the monitor
// chains (failures, group restarts, final action done) persist in `[daemon] state_file` across a
// SIGTERM and a SIGKILL of pcheck, and an OS final action runs at most `max_final_actions` times
// per `final_action_window`, counted across restarts of pcheck (docs/failsafe.md "Persistence").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, type Pcheck } from '../helpers/harness';

/** A group whose check always fails: one restart, then the final action `reboot`. */
function persistentFault(sb: FailsafeSandbox, daemonKeys = ''): void {
  const broken = join(sb.dir, 'broken');
  writeFileSync(broken, '');
  const check = sb.script('check.sh', `[ ! -e ${broken} ]`);
  const start = sb.script('start.sh', `echo "start $PS_EVENT"`);
  const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"`);
  sb.ini(
    `[group:app]\nstart = "${start}"\nstop = "${stop}"\n\n` +
      `[monitor:app-check]\ntype = custom\ncommand = "${check}"\ntarget = app\ninterval = 0.3\ntimeout = 2\nretries = 0\nrestart_threshold = 1\ngrace = 3600\nfinal_action = reboot\n`,
    `state_file = ${sb.stateFile}\n${daemonKeys}`,
  );
}

const rehearsals = (sb: FailsafeSandbox): string[] => {
  const f = join(sb.runDir, 'rehearse.log');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
};

async function toFinalAction(sb: FailsafeSandbox): Promise<Pcheck> {
  const pc = sb.failsafe(['--rehearse']);
  await pc.waitLine('Monitor app-check failed 1 times after 1 restarts of group app: final action reboot', 20_000);
  await pc.waitLine('REHEARSE: would reboot');
  return pc;
}

describe('FailSafe counters persist across restarts of pcheck', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`a monitor whose final action is done does not do it again after a ${signal} of pcheck: its chain is restored`, async () => {
      const sb = new FailsafeSandbox();
      try {
        persistentFault(sb);
        const first = await toFinalAction(sb);
        kill(first.pid, signal);
        await first.exited;
        assert.equal(rehearsals(sb).length, 1);

        const second = sb.failsafe(['--rehearse']);
        await second.waitLine('Monitor app-check still failing; final action reboot already done', 20_000);
        const m = sb.monitor('app-check');
        assert.equal(m.finalActionDone, true);
        assert.equal(m.groupRestarts, 1);
        assert.equal(second.count('REHEARSE: would reboot'), 0, 'no second reboot');
        assert.equal(second.count('restarting group app'), 0, 'no new group restart: the chain is used up');
        assert.equal(rehearsals(sb).length, 1);
        kill(second.pid, 'SIGTERM');
        assert.equal(await second.exited, 0);
      } finally {
        sb.cleanup();
      }
    });
  }

  it('an OS final action runs at most max_final_actions times per final_action_window, also across a restart of pcheck; beyond it, nothing is done and the rehearsal says so', async () => {
    const sb = new FailsafeSandbox();
    try {
      persistentFault(sb); // the defaults: max_final_actions 1, final_action_window 1 h
      const first = await toFinalAction(sb);
      kill(first.pid, 'SIGTERM');
      await first.exited;

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine('Monitor app-check still failing; final action reboot already done', 20_000);
      // the operator clears the chain: it runs again to its final action, which the limit holds back
      assert.equal(sb.admin('monitor', 'clear', 'app-check').code, 0);
      await second.waitLine('Monitor app-check failed 1 times after 1 restarts of group app: final action reboot', 20_000);
      const held = await second.waitLine(/Final action reboot \(monitor app-check\) not done: 1 OS final action within the last 3600s \(max_final_actions 1 per final_action_window\); nothing is done/);
      assert.equal(second.count('REHEARSE: would reboot'), 0);
      assert.ok(second.count('FATAL') === 0 || second.lines.findIndex((l) => l.text.includes('FATAL')) > held.index, 'no FATAL before a held-back action');
      const log = rehearsals(sb);
      assert.equal(log.length, 2, `${log.join('\n')}\n--- first:\n${first.lines.map((l) => l.text).join('\n')}\n--- second:\n${second.lines.map((l) => l.text).join('\n')}`);
      assert.match(log[0], /REHEARSE reboot: would run/);
      assert.match(log[1], /REHEARSE reboot: not done: 1 OS final action within the last 3600s \(max_final_actions 1 per final_action_window\); nothing is done/);
      // the chain's end and padmin say it was not done (not "already done")
      await second.waitLine(/Monitor app-check still failing; final action reboot was not done \(1 OS final action within the last 3600s .*\) and is not tried again until padmin monitor clear app-check/, 20_000, held.index);
      const m = sb.monitor('app-check');
      assert.deepEqual([m.finalActionDone, m.finalActionRefused], [false, '1 OS final action within the last 3600s (max_final_actions 1 per final_action_window)']);
      assert.match(sb.admin('status').stdout, /app-check .*final reboot NOT DONE \(1 OS final action within the last 3600s/);
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      sb.cleanup();
    }
  });

  it('a final action refused (max_final_actions 0) is said not done in the alert, and after a SIGKILL of pcheck the chain is restored as not done: nothing is tried twice', async () => {
    const sb = new FailsafeSandbox();
    try {
      persistentFault(sb, 'max_final_actions = 0\n');
      writeFileSync(sb.iniPath, readFileSync(sb.iniPath, 'utf8') + '\n[alert]\nevents = final_action\nwebhook_url = http://127.0.0.1:1/hook\n');
      const why = 'max_final_actions 0: no OS final action is ever done';
      const first = sb.failsafe(['--rehearse']);
      await first.waitLine(`Final action reboot (monitor app-check) not done: ${why}; nothing is done`, 20_000);
      // the alert does not tell of a reboot that did not happen
      await first.waitLine(/ALERT final_action app-check: Monitor app-check failed 1 times after 1 restarts of group app: final action reboot: .*\(not done: max_final_actions 0: no OS final action is ever done\)/);
      await first.waitLine('Monitor app-check still failing; final action reboot was not done', 20_000);
      kill(first.pid, 'SIGKILL');
      await first.exited;

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine(`Monitor app-check restored: failures 0, group restarts 1/1, final action reboot not done (${why})`, 20_000);
      await second.waitLine(`Monitor app-check still failing; final action reboot was not done (${why}) and is not tried again until padmin monitor clear app-check or 3600s of health`, 20_000);
      assert.deepEqual([sb.monitor('app-check').finalActionDone, sb.monitor('app-check').finalActionRefused], [false, why]);
      assert.match(sb.admin('status').stdout, /app-check .*final reboot NOT DONE \(max_final_actions 0: no OS final action is ever done\)/);
      assert.equal(second.count('restarting group app'), 0, 'the chain is used up: no group restart');
      assert.equal(second.count('Final action reboot'), 0, 'not tried again');
      assert.equal(rehearsals(sb).filter((l) => l.includes('would run')).length, 0);
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      sb.cleanup();
    }
  });

  it('with max_final_actions 2 the second final action runs, the third does not', async () => {
    const sb = new FailsafeSandbox();
    try {
      persistentFault(sb, 'max_final_actions = 2\nfinal_action_window = 600\n');
      const pc = await toFinalAction(sb);
      assert.equal(sb.admin('monitor', 'clear', 'app-check').code, 0);
      await pc.waitLine('REHEARSE: would reboot', 20_000, pc.lines.findIndex((l) => l.text.includes('REHEARSE: would reboot')) + 1);
      assert.equal(sb.admin('monitor', 'clear', 'app-check').code, 0);
      await pc.waitLine(/Final action reboot \(monitor app-check\) not done: 2 OS final actions within the last 600s \(max_final_actions 2 per final_action_window\)/, 20_000);
      assert.equal(pc.count('REHEARSE: would reboot'), 2);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    } finally {
      sb.cleanup();
    }
  });
});
