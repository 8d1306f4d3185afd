import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clampToNow, mayRunFinalAction, recentActions, type FinalActionRecord } from '../../src/core/final-action-limit';

const HOUR = 3_600_000;
const at = (ms: number): FinalActionRecord => ({ action: 'reboot', at: ms, source: 'monitor web' });

describe('the limit of OS final actions', () => {
  it('the default, one per hour: the first runs, a second within the hour does not, one after the hour does', () => {
    const limit = { max: 1, windowSec: 3600 };
    assert.deepEqual(mayRunFinalAction([], 10 * HOUR, limit), { allowed: true });
    const r = mayRunFinalAction([at(10 * HOUR)], 10 * HOUR + 1000, limit);
    assert.deepEqual(r, { allowed: false, within: 1, reason: '1 OS final action within the last 3600s (max_final_actions 1 per final_action_window)' });
    assert.deepEqual(mayRunFinalAction([at(10 * HOUR)], 11 * HOUR + 1, limit), { allowed: true });
  });

  it('max_final_actions 2 lets a second run and holds the third', () => {
    const limit = { max: 2, windowSec: 600 };
    assert.equal(mayRunFinalAction([at(0)], 1000, limit).allowed, true);
    assert.equal(mayRunFinalAction([at(0), at(1000)], 2000, limit).allowed, false);
  });

  it('max_final_actions 0 never runs an OS final action', () => {
    assert.equal(mayRunFinalAction([], 0, { max: 0, windowSec: 60 }).allowed, false);
    // the reason is the setting, not a window that holds "0 OS final actions"
    assert.deepEqual(mayRunFinalAction([], 0, { max: 0, windowSec: 60 }), { allowed: false, within: 0, reason: 'max_final_actions 0: no OS final action is ever done' });
  });

  it('a record in the future (the clock was stepped back) still counts: a clock step allows no second reboot', () => {
    assert.equal(mayRunFinalAction([at(5 * HOUR)], 1 * HOUR, { max: 1, windowSec: 3600 }).allowed, false);
  });

  it('a record in the future is moved to now: it holds back one window from now, not until the clock catches up', () => {
    const limit = { max: 1, windowSec: 3600 };
    const history = clampToNow([at(1 * HOUR), at(9000 * HOUR)], 2 * HOUR);
    assert.deepEqual(history, [at(1 * HOUR), at(2 * HOUR)]);
    assert.equal(mayRunFinalAction(history, 2 * HOUR + 1000, limit).allowed, false);
    assert.equal(mayRunFinalAction(history, 3 * HOUR + 1, limit).allowed, true);
  });

  it('only the records of the window are kept', () => {
    assert.deepEqual(recentActions([at(0), at(2 * HOUR)], 2 * HOUR + 10, { max: 1, windowSec: 3600 }), [at(2 * HOUR)]);
  });
});
