import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupStep, initialGroupState, type GroupAction, type GroupEvent, type GroupMachineConfig, type GroupRunState } from '../../src/core/group-machine';
import { GROUP_STATES } from '../../src/core/failsafe-model';

const cfg: GroupMachineConfig = { name: 'web', activationRetries: 1, finalAction: 'stop_daemon' };
const okStart: GroupEvent = { type: 'scriptExited', phase: 'start', ok: true, detail: 'exit 0' };
const badStart: GroupEvent = { type: 'scriptExited', phase: 'start', ok: false, detail: 'exit 1' };
const okStop: GroupEvent = { type: 'scriptExited', phase: 'stop', ok: true, detail: 'exit 0' };

function run(events: GroupEvent[], g: GroupRunState = initialGroupState(), c: GroupMachineConfig = cfg): { run: GroupRunState; actions: GroupAction[] } {
  const actions: GroupAction[] = [];
  for (const e of events) {
    const r = groupStep(g, e, c);
    g = r.run;
    actions.push(...r.actions);
  }
  return { run: g, actions };
}
const scripts = (a: GroupAction[]) => a.flatMap((x) => (x.type === 'runScript' ? [`${x.phase}:${x.event}`] : []));

describe('group machine', () => {
  it('starts with its start script (PS_EVENT=START) and is Online when it succeeds', () => {
    const r = run([{ type: 'start' }, okStart]);
    assert.equal(r.run.state, 'Online');
    assert.deepEqual(scripts(r.actions), ['start:START']);
  });

  it('a restart is the stop script then the start script, both with PS_EVENT=RESTART, and counts', () => {
    const r = run([{ type: 'start' }, okStart, { type: 'restart' }, okStop, okStart]);
    assert.equal(r.run.state, 'Online');
    assert.equal(r.run.restarts, 1);
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:RESTART', 'start:RESTART']);
  });

  it('a start that fails is tried again activation_retries times, each after the stop script, then the group is Error and its final action runs', () => {
    const r = run([{ type: 'start' }, badStart, okStop, badStart]);
    assert.equal(r.run.state, 'Error');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:START', 'start:START']);
    assert.deepEqual(r.actions.filter((a) => a.type === 'finalAction'), [{ type: 'finalAction', action: 'stop_daemon' }]);
  });

  it('a stop asked for while starting runs once the start has finished', () => {
    const r = run([{ type: 'start' }, { type: 'stop' }, okStart, okStop]);
    assert.equal(r.run.state, 'Offline');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:STOP']);
  });

  it('a start asked for while stopping runs once the stop has finished', () => {
    const r = run([{ type: 'start' }, okStart, { type: 'stop' }, { type: 'start' }, okStop, okStart]);
    assert.equal(r.run.state, 'Online');
  });

  it('reports each state change once, in order', () => {
    const r = run([{ type: 'start' }, okStart, { type: 'restart' }, okStop, okStart]);
    assert.deepEqual(
      r.actions.flatMap((a) => (a.type === 'stateChanged' ? [`${a.from}>${a.to}`] : [])),
      ['Offline>Starting', 'Starting>Online', 'Online>Stopping', 'Stopping>Starting', 'Starting>Online'],
    );
  });

  it('a group in Error can be started again, or stopped to clean up', () => {
    const err = run([{ type: 'start' }, badStart, okStop, badStart]).run;
    assert.equal(run([{ type: 'start' }, okStart], err).run.state, 'Online');
    assert.equal(run([{ type: 'stop' }, okStop], err).run.state, 'Offline');
  });

  it('every state answers every event without throwing', () => {
    const events: GroupEvent[] = [{ type: 'start' }, { type: 'stop' }, { type: 'restart' }, { type: 'restart', stopFirst: true }, { type: 'adopt' }, okStart, badStart, okStop];
    for (const state of GROUP_STATES) for (const e of events) groupStep({ ...initialGroupState(), state }, e, cfg);
  });
});

describe('group machine: activation retries', () => {
  it('a retry inside a restart runs with PS_EVENT=RESTART, as the restart it belongs to', () => {
    const r = run([{ type: 'start' }, okStart, { type: 'restart' }, okStop, badStart, okStop, okStart]);
    assert.equal(r.run.state, 'Online');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:RESTART', 'start:RESTART', 'stop:RESTART', 'start:RESTART']);
  });

  it('the stop script runs between a failed start and its retry (a half-started application is ended, not doubled); the group stays Starting', () => {
    const r = run([{ type: 'start' }, badStart]);
    assert.equal(r.run.state, 'Starting');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:START']);
    assert.deepEqual(r.actions.filter((a) => a.type === 'stateChanged'), [{ type: 'stateChanged', from: 'Offline', to: 'Starting' }]);
    // a late start exit while the stop script runs changes nothing
    assert.deepEqual(scripts(groupStep(r.run, okStart, cfg).actions), []);
    const failedStop = run([{ type: 'scriptExited', phase: 'stop', ok: false, detail: 'exit 1' }, okStart], r.run);
    assert.equal(failedStop.run.state, 'Online');
    assert.ok(failedStop.actions.some((a) => a.type === 'log' && a.message.includes('stop script before the activation retry failed (exit 1); starting again anyway')));
  });

  it('a stop asked for while the stop script before a retry runs: no retry, Offline once it has run (not a second stop script)', () => {
    const r = run([{ type: 'start' }, badStart, { type: 'stop' }, okStop]);
    assert.equal(r.run.state, 'Offline');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:START']);
    assert.deepEqual(r.actions.filter((a) => a.type === 'finalAction'), []);
  });

  it('padmin group stop, then group start, both while the stop script before a retry runs: the start is the last word, the retry runs (it was lost: Offline)', () => {
    const r = run([{ type: 'start' }, badStart, { type: 'stop' }, { type: 'start' }, okStop, okStart]);
    assert.equal(r.run.state, 'Online');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:START', 'start:START']);
  });

  it('a group start, or a monitor restart, while the stop script before a retry runs: no second script, the retry runs once it has ended', () => {
    const r = run([{ type: 'start' }, badStart, { type: 'start' }, { type: 'restart' }, okStop, okStart]);
    assert.equal(r.run.state, 'Online');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:START', 'start:START']);
  });

  it('no stop script configured: the retry line says so rather than "the stop script first"', () => {
    const r = run([{ type: 'start' }, badStart], initialGroupState(), { ...cfg, hasStop: false });
    assert.ok(r.actions.some((a) => a.type === 'log' && a.message === 'Group web: start failed (exit 1); activation retry 1/1 (no stop script to end what the failed start left)'));
  });

  it('activation_retries 0: no stop script after the failed start; Error keeps what it left until padmin group stop runs the stop script', () => {
    const r = run([{ type: 'start' }, badStart], initialGroupState(), { ...cfg, activationRetries: 0 });
    assert.equal(r.run.state, 'Error');
    assert.deepEqual(scripts(r.actions), ['start:START']);
    assert.deepEqual(scripts(run([{ type: 'stop' }], r.run).actions), ['stop:STOP']);
  });
});

describe('group machine: pcheck restarted, pcheck stopping', () => {
  it('adopt takes a group that still runs as Online, without a script', () => {
    const r = run([{ type: 'adopt' }]);
    assert.equal(r.run.state, 'Online');
    assert.deepEqual(scripts(r.actions), []);
    assert.deepEqual(r.actions.filter((a) => a.type === 'stateChanged'), [{ type: 'stateChanged', from: 'Offline', to: 'Online' }]);
  });

  it('restart with stopFirst from Offline runs the stop script, then the start script, both RESTART, and counts', () => {
    const r = run([{ type: 'restart', stopFirst: true }, okStop, okStart]);
    assert.equal(r.run.state, 'Online');
    assert.equal(r.run.restarts, 1);
    assert.deepEqual(scripts(r.actions), ['stop:RESTART', 'start:RESTART']);
  });

  it('a stop asked for while starting, and the start then fails (killed as pcheck stops): the stop script runs, no activation retry', () => {
    const r = run([{ type: 'start' }, { type: 'stop' }, badStart, okStop]);
    assert.equal(r.run.state, 'Offline');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:STOP']);
    assert.deepEqual(r.actions.filter((a) => a.type === 'finalAction'), []);
  });

  it('a stop while a restart stops: the start that was to follow does not run', () => {
    const r = run([{ type: 'start' }, okStart, { type: 'restart' }, { type: 'stop' }, okStop]);
    assert.equal(r.run.state, 'Offline');
    assert.deepEqual(scripts(r.actions), ['start:START', 'stop:RESTART']);
  });
});
