// What a new pcheck takes over from the previous one's state file: everything after a kill in
// this boot; fresh counters (but the operator's monitor_sts) after an end on purpose or a reboot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Clock, type EntryConfig, type RestoredEntry } from '../../src/core/entry-model';
import { startEntry } from '../../src/core/entry-start';
import { freshReason, resumedEntry } from '../../src/core/resume-policy';

const cfg: EntryConfig = { pentId: 1, pname: '/usr/bin/java', retryLimit: 1, grace: 0, retryOverAction: 'exit', restartWait: 30, initialWait: 10 };
const t0: Clock = { mono: 5_000_000, wall: Date.UTC(2026, 11, 1, 3, 0, 0) };

function left(over: Partial<RestoredEntry> = {}): RestoredEntry {
  return {
    retryCount: 1,
    restartCount: 7,
    rerunTime: Date.UTC(2026, 11, 1, 2, 0, 0),
    monitorSts: 'on',
    sameBoot: true,
    procSts: 'RETRY_OVER',
    pid: null,
    startTime: null,
    upSinceMono: null,
    scriptRunning: false,
    deadlineMono: null,
    liveScript: null,
    ...over,
  };
}

const counters = (r: RestoredEntry) => [r.retryCount, r.restartCount, r.rerunTime, r.monitorSts];

describe('resume policy: counters after an exit of pcheck', () => {
  it('killed (SIGKILL, crash: the file still says running) in this boot: everything is resumed', () => {
    const r = left({ procSts: 'AVAIL', pid: 300, startTime: 9, upSinceMono: 100 });
    assert.equal(resumedEntry(r, null), r);
    assert.equal(freshReason(null, true), null);
  });

  it('after a retry-over exit: fresh counters, so the first death after a failback is restarted, not RETRY_OVER', () => {
    const r = resumedEntry(left(), 'RETRY_OVER:EXIT');
    assert.deepEqual(counters(r), [0, 0, null, 'on']);
    assert.equal(r.procSts, 'WAIT');
    const s = startEntry(cfg, t0, r).state;
    assert.deepEqual([s.procSts, s.retryCount, s.restartCount], ['WAIT', 0, 0]);
    assert.match(freshReason('RETRY_OVER:EXIT', true) ?? '', /exited after RETRY_OVER:EXIT/);
  });

  it('stopped by SIGTERM or SIGINT, or stopped by FailSafe mode: fresh counters', () => {
    for (const how of ['SIGTERM', 'SIGINT', 'stopped']) {
      assert.deepEqual(counters(resumedEntry(left({ procSts: 'AVAIL', pid: 300, startTime: 9 }), how)), [0, 0, null, 'on'], how);
      assert.notEqual(freshReason(how, true), null);
    }
  });

  it('written in another boot: fresh counters even if that pcheck was killed (the machine went down with it)', () => {
    const r = resumedEntry(left({ sameBoot: false }), null);
    assert.deepEqual(counters(r), [0, 0, null, 'on']);
    assert.equal(freshReason(null, false), 'was written before this boot');
  });

  it('monitoring turned off by the operator stays off, whatever ended the previous pcheck', () => {
    assert.equal(resumedEntry(left({ monitorSts: 'off' }), 'SIGTERM').monitorSts, 'off');
    assert.equal(resumedEntry(left({ monitorSts: 'off', sameBoot: false }), null).monitorSts, 'off');
  });

  it('a restart script of the previous pcheck still running in this boot is awaited, never run a second time', () => {
    const r = resumedEntry(left({ procSts: 'RESTARTING', scriptRunning: true, liveScript: { pid: 4242, startTime: 77 } }), 'SIGTERM');
    assert.deepEqual(counters(r), [0, 0, null, 'on']);
    const s = startEntry(cfg, t0, r);
    assert.equal(s.state.procSts, 'RESTARTING');
    assert.ok(s.actions.some((a) => a.type === 'awaitScript'));
    assert.ok(!s.actions.some((a) => a.type === 'runScript'));
  });
});
