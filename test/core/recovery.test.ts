import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialMonitorState, recoveryDeadline, recoveryStep, type MonitorAction, type MonitorEvent, type MonitorState, type RecoveryConfig } from '../../src/core/recovery';

const cfg: RecoveryConfig = { name: 'web-http', target: 'web', retries: 1, restartThreshold: 2, grace: 60, finalAction: 'reboot' };
const fail: MonitorEvent = { type: 'result', ok: false, detail: 'HTTP 500' };
const ok: MonitorEvent = { type: 'result', ok: true, detail: 'HTTP 200 in 3 ms' };
const kinds = (a: MonitorAction[]) => a.filter((x) => x.type !== 'log' && x.type !== 'statusChanged');

function run(events: MonitorEvent[], c = cfg, start = initialMonitorState(), t0 = 0): { state: MonitorState; actions: MonitorAction[] } {
  let state = start;
  const actions: MonitorAction[] = [];
  events.forEach((e, i) => {
    const r = recoveryStep(state, e, c, t0 + i * 1000);
    state = r.state;
    actions.push(...r.actions);
  });
  return { state, actions };
}

describe('recovery chain', () => {
  it('tolerates `retries` failures, then restarts the target group at retries + 1', () => {
    const one = run([fail]);
    assert.equal(one.state.status, 'Error');
    assert.deepEqual(kinds(one.actions), []);
    const two = run([fail, fail]);
    assert.deepEqual(kinds(two.actions), [{ type: 'restartGroup', group: 'web' }]);
    assert.equal(two.state.groupRestarts, 1);
    assert.equal(two.state.failures, 0);
  });

  it('restarts the group restart_threshold times, then does the final action once', () => {
    const r = run([fail, fail, fail, fail, fail, fail, fail, fail]);
    assert.deepEqual(kinds(r.actions), [
      { type: 'restartGroup', group: 'web' },
      { type: 'restartGroup', group: 'web' },
      { type: 'finalAction', action: 'reboot' },
    ]);
    assert.equal(r.state.finalActionDone, true);
  });

  it('logs each step in one line naming monitor, target, count and action', () => {
    const r = run([fail, fail, fail, fail, fail, fail]);
    const lines = r.actions.flatMap((a) => (a.type === 'log' ? [a.message] : []));
    assert.ok(lines.includes('Monitor web-http failed 2 times: restarting group web (group restart 1/2): HTTP 500'));
    assert.ok(lines.includes('Monitor web-http failed 2 times after 2 restarts of group web: final action reboot: HTTP 500'));
  });

  it('a success in between starts the count of consecutive failures again', () => {
    const r = run([fail, ok, fail, ok, fail]);
    assert.deepEqual(kinds(r.actions), []);
    assert.equal(r.state.status, 'Error');
  });

  it('with no target, the chain goes straight to the final action', () => {
    const r = run([fail, fail], { ...cfg, target: null });
    assert.deepEqual(kinds(r.actions), [{ type: 'finalAction', action: 'reboot' }]);
  });

  it('after grace seconds of health the group restarts and the final action reset', () => {
    const after = run([fail, fail, ok]).state;
    assert.equal(after.groupRestarts, 1);
    const due = recoveryDeadline(after, cfg)!;
    assert.equal(recoveryStep(after, { type: 'tick' }, cfg, due - 1).state.groupRestarts, 1);
    const r = recoveryStep(after, { type: 'tick' }, cfg, due);
    assert.equal(r.state.groupRestarts, 0);
    assert.equal(recoveryDeadline(r.state, cfg), null);
  });

  it('a final action refused by max_final_actions: the chain says it was not done, not "already done", until clear', () => {
    const end = run([fail, fail, fail, fail, fail, fail]).state;
    assert.equal(end.finalActionDone, true);
    const refused = recoveryStep(end, { type: 'finalActionRefused', reason: '1 OS final action within the last 3600s' }, cfg, 7000).state;
    assert.equal(refused.finalActionRefused, '1 OS final action within the last 3600s');
    const again = run([fail, fail], cfg, refused);
    assert.deepEqual(kinds(again.actions), [], 'not asked for again');
    const lines = again.actions.flatMap((a) => (a.type === 'log' ? [a.message] : []));
    assert.ok(
      lines.includes('Monitor web-http still failing; final action reboot was not done (1 OS final action within the last 3600s) and is not tried again until padmin monitor clear web-http or 60s of health: HTTP 500 (said again every 10 min while it fails)'),
      lines.join('\n'),
    );
    const done = run([fail, fail], cfg, end).actions.flatMap((a) => (a.type === 'log' ? [a.message] : []));
    assert.ok(done.includes('Monitor web-http still failing; final action reboot already done: HTTP 500 (said again every 10 min while it fails)'));
    const cleared = recoveryStep(refused, { type: 'clear' }, cfg, 8000).state;
    assert.deepEqual([cleared.finalActionDone, cleared.finalActionRefused], [false, null]);
    // a refusal before the chain's end (a stale answer) changes nothing
    assert.equal(recoveryStep(initialMonitorState(), { type: 'finalActionRefused', reason: 'x' }, cfg, 0).state.finalActionRefused, null);
  });

  it('a chain that has ended says it still fails once, then every 10 minutes, not at every check; a success in between makes the next failure say it at once', () => {
    const end = run([fail, fail, fail, fail, fail, fail]).state;
    const said = (events: MonitorEvent[], start: MonitorState, t0: number) =>
      run(events, cfg, start, t0).actions.flatMap((a) => (a.type === 'log' && a.message.includes('still failing') ? [a.message] : []));
    // one check a second for 10 minutes: said at the first, then once more 10 minutes later
    const tenMinutes: MonitorEvent[] = Array.from({ length: 601 }, () => fail);
    const lines = said(tenMinutes, end, 10_000);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.ok(lines[0].endsWith('(said again every 10 min while it fails)'));
    assert.ok(!lines[1].includes('said again'));
    const quiet = run(Array.from({ length: 5 }, () => fail), cfg, end, 10_000).state;
    assert.equal(said([ok, fail], quiet, 20_000).length, 1, 'after a success, the next failure says it at once');
    assert.equal(run([fail], cfg, end, 0).state.status, 'Error', 'the status is Error all the while');
  });

  it('a chain that has ended, its group restarted by the operator (active monitor: Offline, then Normal) and failing again within 10 minutes: said at once, with its new Error (its monitor_error alert had no log line)', () => {
    const end = run([fail, fail, fail, fail, fail, fail]).state;
    const said = run([fail], cfg, end, 10_000).state; // the first still failing line
    const restarted = run([{ type: 'targetOffline' }, { type: 'targetOnline' }, fail], cfg, said, 20_000);
    assert.ok(restarted.actions.some((a) => a.type === 'statusChanged' && a.to === 'Error'));
    assert.ok(restarted.actions.some((a) => a.type === 'log' && a.message.startsWith('Monitor web-http still failing; final action reboot already done')), 'the new episode is in the log');
    const suspended = run([{ type: 'suspend', by: 'operator' }, { type: 'resume', by: 'operator', targetOffline: false }, fail], cfg, said, 20_000);
    assert.ok(suspended.actions.some((a) => a.type === 'log' && a.message.startsWith('Monitor web-http still failing')), 'after suspend and resume too');
  });

  it('a refused final action is forgotten after `grace` seconds of health: the chain starts again and may ask for it again', () => {
    const end = run([fail, fail, fail, fail, fail, fail]).state;
    const refused = recoveryStep(end, { type: 'finalActionRefused', reason: '1 OS final action within the last 3600s' }, cfg, 6000).state;
    const healthy = run([ok, { type: 'tick' }], cfg, refused, 10_000);
    assert.equal(healthy.state.finalActionRefused, '1 OS final action within the last 3600s', 'one second of health is not enough');
    const later = recoveryStep(healthy.state, { type: 'tick' }, cfg, 10_000 + 60_000).state;
    assert.deepEqual([later.finalActionDone, later.finalActionRefused, later.groupRestarts], [false, null, 0]);
    const again = run([fail, fail, fail, fail, fail, fail], cfg, later, 80_000);
    assert.deepEqual(kinds(again.actions).at(-1), { type: 'finalAction', action: 'reboot' });
  });

  it('clear resets every counter, as padmin monitor clear', () => {
    const r = run([fail, fail, fail, fail, fail, fail, { type: 'clear' }]);
    assert.deepEqual([r.state.failures, r.state.groupRestarts, r.state.finalActionDone, r.state.status], [0, 0, false, 'Normal']);
  });

  it('a suspended monitor ignores results until resumed', () => {
    const r = run([{ type: 'suspend', by: 'operator' }, fail, fail, fail]);
    assert.equal(r.state.status, 'Suspended');
    assert.deepEqual(kinds(r.actions), []);
    const back = run([{ type: 'resume', by: 'operator', targetOffline: false }, fail], cfg, r.state);
    assert.equal(back.state.status, 'Error');
  });

  it('timing active: Offline while the target group is offline, Normal again when it is online', () => {
    const r = run([{ type: 'targetOffline' }, fail, fail]);
    assert.equal(r.state.status, 'Offline');
    assert.deepEqual(kinds(r.actions), []);
    assert.equal(run([{ type: 'targetOnline' }], cfg, r.state).state.status, 'Normal');
  });

  it('reports status changes for alerts: Normal → Error → Normal', () => {
    const r = run([fail, ok]);
    assert.deepEqual(
      r.actions.filter((a) => a.type === 'statusChanged'),
      [
        { type: 'statusChanged', from: 'Normal', to: 'Error' },
        { type: 'statusChanged', from: 'Error', to: 'Normal' },
      ],
    );
  });

  it('a warning result is Warning, not a failure', () => {
    const r = run([{ type: 'result', ok: true, warning: true, detail: 'slow: 900 ms' }]);
    assert.equal(r.state.status, 'Warning');
    assert.equal(r.state.failures, 0);
  });
});

describe('recovery chain: a failure counts only while the target group runs as the check saw it', () => {
  const during = (state: 'Starting' | 'Stopping' | 'Offline' | 'Error'): MonitorEvent => ({ ...fail, target: { state, restartedSinceCheck: false } });
  const online: MonitorEvent = { ...fail, target: { state: 'Online', restartedSinceCheck: false } };
  const stale: MonitorEvent = { ...fail, target: { state: 'Online', restartedSinceCheck: true } };
  const logs = (a: MonitorAction[]) => a.flatMap((x) => (x.type === 'log' ? [x.message] : []));

  it('two monitors failing at once: the second sees its group Stopping, and neither counts it nor sends an alert', () => {
    const c0: RecoveryConfig = { ...cfg, name: 'web-tcp', retries: 0 };
    const first = run([{ ...online }], { ...cfg, retries: 0 });
    assert.deepEqual(kinds(first.actions), [{ type: 'restartGroup', group: 'web' }]);
    const second = run([during('Stopping')], c0);
    assert.deepEqual(kinds(second.actions), []);
    assert.deepEqual(second.actions.filter((a) => a.type === 'statusChanged'), [], 'no status change: no monitor_error alert');
    assert.deepEqual([second.state.failures, second.state.groupRestarts, second.state.status], [0, 0, 'Normal']);
    assert.deepEqual(logs(second.actions), ['Monitor web-tcp failed while group web is Stopping: not counted: HTTP 500']);
  });

  it('a check that began before the group was restarted does not count either', () => {
    const r = run([stale, stale, stale], { ...cfg, retries: 0 });
    assert.deepEqual(kinds(r.actions), []);
    assert.equal(logs(r.actions).length, 1, 'logged once per run of uncounted failures');
    assert.match(logs(r.actions)[0], /was restarted while the check ran: not counted/);
  });

  it('a monitor never starts a group that is Offline or Error (stopped by the operator, by stop_group, or failed to start)', () => {
    for (const state of ['Offline', 'Error', 'Starting'] as const) {
      const r = run([during(state), during(state), during(state), during(state)]);
      assert.deepEqual(kinds(r.actions), [], state);
      assert.equal(r.state.notCounted, true);
    }
  });

  it('counting starts again at the first failure seen with the group Online', () => {
    const r = run([during('Stopping'), online, online]);
    assert.deepEqual(kinds(r.actions), [{ type: 'restartGroup', group: 'web' }]);
  });
});

describe('recovery chain: grace = 0', () => {
  it('counters are not reset by health: only padmin monitor clear resets them', () => {
    const c0 = { ...cfg, grace: 0 };
    const r = run([fail, fail, ok, ok, ok, { type: 'tick' }], c0);
    assert.equal(r.state.groupRestarts, 1);
    assert.equal(recoveryDeadline(r.state, c0), null);
    assert.equal(run([{ type: 'clear' }], c0, r.state).state.groupRestarts, 0);
  });
});

describe('recovery chain: who suspended the monitor', () => {
  const suspend = (by: 'operator' | 'schedule'): MonitorEvent => ({ type: 'suspend', by });
  const resume = (by: 'operator' | 'schedule', targetOffline = false): MonitorEvent => ({ type: 'resume', by, targetOffline });

  it("a schedule's window end does not resume a monitor the operator suspended before it", () => {
    const r = run([suspend('operator'), suspend('schedule'), resume('schedule')]);
    assert.equal(r.state.status, 'Suspended');
    assert.equal(r.state.suspendedBy, 'operator');
  });

  it("an operator's suspend during a schedule's window takes it over: the window's end leaves it suspended", () => {
    const r = run([suspend('schedule'), suspend('operator'), resume('schedule')]);
    assert.equal(r.state.status, 'Suspended');
    assert.equal(run([resume('operator')], cfg, r.state).state.status, 'Normal');
  });

  it("the schedule's own suspension ends with its window", () => {
    assert.equal(run([suspend('schedule'), resume('schedule')]).state.status, 'Normal');
  });

  it('resume of an active monitor whose group is Offline goes back to Offline', () => {
    const r = run([{ type: 'targetOffline' }, suspend('operator'), resume('operator', true)]);
    assert.equal(r.state.status, 'Offline');
    assert.equal(run([{ type: 'targetOnline' }], cfg, r.state).state.status, 'Normal');
  });
});

describe('recovery chain: the retry-overs of a process monitor', () => {
  it('an entry retried over with action group is a typed failure of the chain, named in its detail', () => {
    const over: MonitorEvent = { type: 'entryRetryOver', pname: '/usr/bin/java' };
    const r = run([over, over]);
    assert.deepEqual(kinds(r.actions), [{ type: 'restartGroup', group: 'web' }]);
    assert.equal(r.state.detail, '(/usr/bin/java) RETRY_OVER:GROUP');
  });

  it('a suspended process monitor does not act on a retry-over', () => {
    const r = run([{ type: 'suspend', by: 'operator' }, { type: 'entryRetryOver', pname: '/usr/bin/java' }, { type: 'entryRetryOver', pname: '/usr/bin/java' }]);
    assert.deepEqual(kinds(r.actions), []);
  });
});
