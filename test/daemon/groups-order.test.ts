import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { activationMaxMs } from '../../src/daemon/failsafe/groups';

describe('groups start in file order', () => {
  it('the next group waits for the longest activation: every try of the start script and the stop script before each retry (a hanging stop there let the next group start beside a group still Starting)', () => {
    // start_timeout 60, stop_timeout 120, activation_retries 2: 60 + 120 + 60 + 120 + 60 s of scripts
    const ms = activationMaxMs({ startTimeout: 60, stopTimeout: 120, activationRetries: 2 });
    assert.ok(ms >= (60 * 3 + 120 * 2) * 1000, `${ms} ms`);
    assert.equal(activationMaxMs({ startTimeout: 10, stopTimeout: 300, activationRetries: 0 }), 15_000, 'no retry: no stop script to wait for');
  });
});
