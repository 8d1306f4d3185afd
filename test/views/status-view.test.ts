import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../../src/views/status-view';
import { sampleStatus } from '../web/fixture';

describe('padmin status text', () => {
  it('a monitor with no target shows no group restarts (it restarts no group); one with a target does', () => {
    const text = formatStatus(sampleStatus());
    const line = (name: string) => text.split('\n').find((l) => l.includes(`${name} (`)) ?? '';
    assert.match(line('web-http'), /failures 0\/2 {2}group restarts 1\/2/);
    assert.match(line('disk'), /failures 0\/1(?! {2}group restarts)/);
    assert.doesNotMatch(line('disk'), /group restarts/);
  });

  it('a final action done says DONE; one max_final_actions refused says NOT DONE with the reason', () => {
    const v = sampleStatus();
    assert.match(formatStatus(v), /db-pid .*final stop_group DONE/);
    v.monitors[0] = { ...v.monitors[0], finalActionDone: false, finalActionRefused: '1 OS final action within the last 3600s' };
    const text = formatStatus(v);
    assert.match(text, /web-http .*final reboot NOT DONE \(1 OS final action within the last 3600s\)/);
    assert.doesNotMatch(text, /web-http .*final reboot DONE/);
  });
});
