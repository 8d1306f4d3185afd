import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupResume, type PersistedGroup } from '../../src/core/group-resume';

const g = (over: Partial<PersistedGroup>): PersistedGroup => ({ state: 'Online', stoppedBy: null, restarts: 0, ...over });

describe('what a starting pcheck does with a group', () => {
  it('no record: it is started', () => {
    assert.deepEqual(groupResume(undefined, true), { kind: 'start' });
  });

  it('stopped by the operator or by its final action: left stopped, in this boot or another', () => {
    assert.deepEqual(groupResume(g({ state: 'Offline', stoppedBy: 'operator' }), true), { kind: 'leaveStopped', by: 'operator', finishStop: false });
    assert.deepEqual(groupResume(g({ state: 'Offline', stoppedBy: 'final_action' }), false), { kind: 'leaveStopped', by: 'final_action', finishStop: false });
  });

  it('stopped on purpose but caught Starting or Stopping in this boot (pcheck SIGKILLed before the stop ended): left stopped, its stop script run once more', () => {
    assert.deepEqual(groupResume(g({ state: 'Stopping', stoppedBy: 'operator' }), true), { kind: 'leaveStopped', by: 'operator', finishStop: true });
    assert.deepEqual(groupResume(g({ state: 'Starting', stoppedBy: 'operator' }), true), { kind: 'leaveStopped', by: 'operator', finishStop: true });
    assert.deepEqual(groupResume(g({ state: 'Stopping', stoppedBy: 'final_action' }), false), { kind: 'leaveStopped', by: 'final_action', finishStop: false });
  });

  it('Online in this boot (pcheck killed, or --keep-running): adopted if it still runs', () => {
    assert.deepEqual(groupResume(g({}), true), { kind: 'adoptIfRunning' });
  });

  it('caught Starting, Stopping or in Error in this boot: restarted, stop script first', () => {
    for (const state of ['Starting', 'Stopping', 'Error'] as const) assert.deepEqual(groupResume(g({ state }), true), { kind: 'restart', was: state });
  });

  it('another boot, or Offline after the previous pcheck stopped it: started', () => {
    assert.deepEqual(groupResume(g({}), false), { kind: 'start' });
    assert.deepEqual(groupResume(g({ state: 'Offline' }), true), { kind: 'start' });
  });
});
