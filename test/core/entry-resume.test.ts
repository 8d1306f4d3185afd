// The entry machine when pcheck starts again after being killed (SIGKILL, OOM, a crash): the
// state file of the previous pcheck says where each entry was, and the new one must neither
// lose the count nor run a second restart script (test/reliability/pcheck-killed.test.ts
// proves the same with the real pcheck).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextDeadline, step } from '../../src/core/entry-machine';
import { type Clock, type EntryAction, type EntryConfig, type EntryEvent, type EntryState, type RestoredEntry } from '../../src/core/entry-model';
import { startEntry } from '../../src/core/entry-start';
import { PROC_STATES } from '../../src/core/states';

const cfg: EntryConfig = { pentId: 1, pname: '/usr/bin/java', retryLimit: 3, grace: 60, retryOverAction: 'exit', restartWait: 30, initialWait: 10 };
const t0: Clock = { mono: 2_000_000, wall: Date.UTC(2026, 10, 30, 9, 0, 0) };
const at = (s: number): Clock => ({ mono: t0.mono + s * 1000, wall: t0.wall + s * 1000 });
const logs = (a: EntryAction[]) => a.flatMap((x) => (x.type === 'log' ? [x.message] : []));
const kinds = (a: EntryAction[]) => a.map((x) => x.type);

function restored(over: Partial<RestoredEntry> = {}): RestoredEntry {
  return {
    retryCount: 1,
    restartCount: 4,
    rerunTime: Date.UTC(2026, 10, 30, 8, 0, 0),
    monitorSts: 'on',
    sameBoot: true,
    procSts: 'RESTARTING',
    pid: null,
    startTime: null,
    upSinceMono: null,
    scriptRunning: true,
    deadlineMono: null,
    liveScript: null,
    ...over,
  };
}

describe('entry machine: resuming after pcheck was killed', () => {
  it('without a state file: WAIT for the initial wait, counters at 0', () => {
    const r = startEntry(cfg, t0);
    assert.deepEqual([r.state.procSts, r.state.retryCount, r.state.deadlineMono], ['WAIT', 0, at(10).mono]);
    assert.deepEqual(kinds(r.actions), ['seek']);
  });

  it('killed while the script ran, and it still runs: wait for that script, run none, count nothing more', () => {
    const r = startEntry(cfg, t0, restored({ liveScript: { pid: 4242, startTime: 99 } }));
    assert.deepEqual([r.state.procSts, r.state.scriptRunning, r.state.retryCount, r.state.restartCount], ['RESTARTING', true, 1, 4]);
    assert.equal(nextDeadline(r.state, cfg), null, 'no RESTART_WAIT while the script runs');
    assert.deepEqual(logs(r.actions), [
      '(/usr/bin/java) restart script of the previous pcheck still runs (pid=4242): waiting for it to end instead of running it again',
    ]);
    assert.deepEqual(r.actions[1], { type: 'awaitScript', pid: 4242, startTime: 99 });
    assert.ok(!kinds(r.actions).includes('runScript'));

    // the script ends: RESTART_WAIT from then; the program found: AVAIL with the same counts
    const gone = step(r.state, { type: 'scriptGone', pid: 4242, timedOut: false }, cfg, at(2));
    assert.deepEqual(logs(gone.actions), ['(/usr/bin/java) restart script of the previous pcheck (pid=4242) has ended']);
    assert.equal(gone.state.deadlineMono, at(32).mono);
    const up = step(gone.state, { type: 'found', pid: 5000, startTime: 7 }, cfg, at(3));
    assert.deepEqual([up.state.procSts, up.state.retryCount, up.state.restartCount], ['AVAIL', 1, 4]);
  });

  it('the awaited script killed at its timeout is logged as a timeout; no program by the end of RESTART_WAIT is the next failure', () => {
    const s = startEntry(cfg, t0, restored({ liveScript: { pid: 4242, startTime: 99 } })).state;
    const gone = step(s, { type: 'scriptGone', pid: 4242, timedOut: true }, cfg, at(1));
    assert.deepEqual(logs(gone.actions), ['Restart script of (/usr/bin/java) timed out; killed it and what it started']);
    const r = step(gone.state, { type: 'timer' }, cfg, at(31));
    assert.deepEqual(logs(r.actions), ['Set pid fail (/usr/bin/java)', 'Try to restart (/usr/bin/java)']);
    assert.equal(r.state.retryCount, 2);
    assert.equal(r.state.restartCount, 5);
  });

  it('killed during RESTART_WAIT: the wait goes on to its old deadline, not a new one', () => {
    const r = startEntry(cfg, t0, restored({ scriptRunning: false, deadlineMono: at(12).mono }));
    assert.deepEqual([r.state.procSts, r.state.scriptRunning, r.state.deadlineMono], ['RESTARTING', false, at(12).mono]);
    assert.deepEqual(logs(r.actions), ['(/usr/bin/java) was restarting when the previous pcheck stopped: waiting up to 12.0s for it to appear']);
    assert.deepEqual(step(r.state, { type: 'timer' }, cfg, at(11.9)).actions, []);
    assert.deepEqual(logs(step(r.state, { type: 'timer' }, cfg, at(12)).actions)[0], 'Set pid fail (/usr/bin/java)');
  });

  it('a deadline that passed while no pcheck ran is due at once', () => {
    const r = startEntry(cfg, t0, restored({ scriptRunning: false, deadlineMono: at(-100).mono }));
    assert.match(logs(r.actions)[0], /waiting up to 0\.0s/);
    assert.equal(nextDeadline(r.state, cfg), at(-100).mono);
  });

  it('killed with the script due or just started but not found running now: RESTART_WAIT from now, no second script', () => {
    const r = startEntry(cfg, t0, restored({ scriptRunning: true, liveScript: null }));
    assert.deepEqual([r.state.procSts, r.state.scriptRunning, r.state.deadlineMono], ['RESTARTING', false, at(30).mono]);
    assert.ok(!kinds(r.actions).includes('runScript'));
  });

  it('a state file of another boot: only the counters are kept (its pids and monotonic times mean nothing)', () => {
    const r = startEntry(cfg, t0, restored({ sameBoot: false, liveScript: { pid: 4242, startTime: 99 }, upSinceMono: 5 }));
    assert.deepEqual([r.state.procSts, r.state.retryCount, r.state.restartCount, r.state.lastUp], ['WAIT', 1, 4, null]);
    assert.deepEqual(kinds(r.actions), ['seek']);
  });

  it('monitoring off is restored', () => {
    assert.equal(startEntry(cfg, t0, restored({ procSts: 'AVAIL', monitorSts: 'off' })).state.monitorSts, 'off');
  });

  describe('grace across a restart of pcheck', () => {
    const wasUp = restored({ procSts: 'AVAIL', pid: 300, startTime: 77, upSinceMono: at(-50).mono, scriptRunning: false });

    it('the same process (pid AND start time) found again keeps its grace window', () => {
      const s = startEntry(cfg, t0, wasUp).state;
      assert.equal(s.procSts, 'WAIT');
      const up = step(s, { type: 'found', pid: 300, startTime: 77 }, cfg, at(1));
      assert.equal(up.state.upSinceMono, at(-50).mono);
      assert.equal(nextDeadline(up.state, cfg), at(10).mono, 'retry_count goes back to 0 60 s after the first Up, not after this one');
      assert.equal(up.state.lastUp, null);
    });

    it('another process on the same pid (pid reused) is a new process: its grace window starts now', () => {
      const up = step(startEntry(cfg, t0, wasUp).state, { type: 'found', pid: 300, startTime: 78 }, cfg, at(1));
      assert.equal(up.state.upSinceMono, at(1).mono);
    });

    it('not found by the end of the initial wait: a failure, counted once', () => {
      const r = step(startEntry(cfg, t0, wasUp).state, { type: 'timer' }, cfg, at(10));
      assert.deepEqual(logs(r.actions), ['(/usr/bin/java) process not found', 'Try to restart (/usr/bin/java)']);
      assert.deepEqual([r.state.retryCount, r.state.restartCount, r.state.lastUp], [2, 5, null]);
    });
  });

  describe('scriptGone in every state keeps the invariants', () => {
    for (const sts of PROC_STATES) {
      it(`${sts} + scriptGone`, () => {
        const s: EntryState = {
          ...startEntry(cfg, t0).state,
          procSts: sts,
          pid: sts === 'AVAIL' ? 1 : null,
          startTime: sts === 'AVAIL' ? 1 : null,
          scriptRunning: true,
          deadlineMono: sts === 'WAIT' ? at(10).mono : null,
        };
        const r = step(s, { type: 'scriptGone', pid: 9, timedOut: false }, cfg, at(1));
        assert.equal(r.state.procSts, sts, 'the end of a script changes no proc_sts');
        assert.equal(r.state.scriptRunning, false);
        assert.equal(r.state.deadlineMono !== null, sts === 'RESTARTING' || sts === 'WAIT');
      });
    }
  });

  it('a process found while its restart script runs and gone before the script ends is a step of the script: not counted, the script decides', () => {
    let s = startEntry(cfg, t0).state;
    s = step(s, { type: 'found', pid: 10, startTime: 1 }, cfg, at(1)).state;
    s = step(s, { type: 'died' }, cfg, at(2)).state; // script 1 runs
    s = step(s, { type: 'found', pid: 11, startTime: 2 }, cfg, at(3)).state; // `nginx -t`, while the script still runs
    assert.equal(s.procSts, 'AVAIL');
    const gone = step(s, { type: 'died' }, cfg, at(4));
    assert.deepEqual(logs(gone.actions), [
      'Process [/usr/bin/java , pid=11] Down',
      '(/usr/bin/java) pid=11 exited while its restart script still ran: what runs when the script has ended decides',
    ]);
    assert.deepEqual(kinds(gone.actions), ['log', 'log', 'seek']);
    assert.deepEqual([gone.state.procSts, gone.state.retryCount, gone.state.restartCount, gone.state.scriptRunning], ['RESTARTING', 1, 1, true]);
    // the script then starts the program, which stays: Up, still one retry
    const up = step(gone.state, { type: 'found', pid: 12, startTime: 3 }, cfg, at(4.5)).state;
    const ended = step(up, { type: 'scriptExited', code: 0, signal: null, timedOut: false, spawnError: null }, cfg, at(5));
    assert.deepEqual([ended.state.procSts, ended.state.retryCount, ended.actions.length], ['AVAIL', 1, 0]);
    // or it does not: decided as the script ends (no RESTART_WAIT), the death counted once
    const none = step(gone.state, { type: 'scriptExited', code: 0, signal: null, timedOut: false, spawnError: null }, cfg, at(5)).state;
    assert.equal(nextDeadline(none, cfg), at(5).mono);
    const failed = step(none, { type: 'timer' }, cfg, at(5));
    assert.deepEqual(logs(failed.actions), ['Try to restart (/usr/bin/java)']);
    assert.equal(failed.state.retryCount, 2);
    // once the script has ended, a death is a failure again
    const later = step(up, { type: 'scriptExited', code: 0, signal: null, timedOut: false, spawnError: null }, cfg, at(5)).state;
    assert.deepEqual(logs(step(later, { type: 'died' }, cfg, at(6)).actions).slice(0, 1), ['Process [/usr/bin/java , pid=12] Down']);
  });

  it('10,000 random resumes and event sequences: never a script run while one is known to run, never past the retry limit', () => {
    let seed = 99;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const events: EntryEvent[] = [
      { type: 'found', pid: 42, startTime: 42 },
      { type: 'died' },
      { type: 'scriptExited', code: 0, signal: null, timedOut: false, spawnError: null },
      { type: 'scriptGone', pid: 9, timedOut: false },
      { type: 'timer' },
      { type: 'monitorOff' },
      { type: 'monitorOn' },
    ];
    for (let run = 0; run < 10_000; run++) {
      const sts = PROC_STATES[rand(PROC_STATES.length)];
      const r = startEntry(
        cfg,
        at(0),
        restored({
          procSts: sts,
          sameBoot: rand(4) !== 0,
          retryCount: rand(cfg.retryLimit + 1),
          scriptRunning: rand(2) === 0,
          deadlineMono: rand(2) === 0 ? null : at(rand(60) - 30).mono,
          liveScript: rand(2) === 0 ? { pid: 9, startTime: 1 } : null,
          pid: sts === 'AVAIL' ? 42 : null,
          startTime: sts === 'AVAIL' ? 42 : null,
        }),
      );
      assert.ok(!kinds(r.actions).includes('runScript'), 'a resume never runs a script by itself');
      let s = r.state;
      let t = 0;
      for (let i = 0; i < 25; i++) {
        t += rand(40);
        const e = events[rand(events.length)];
        const next = step(s, e, cfg, at(t));
        if (kinds(next.actions).includes('runScript')) {
          // one script per entry: a new one only when none runs, or as the running one ends
          const ends = e.type === 'scriptExited' || e.type === 'scriptGone';
          assert.ok(!s.scriptRunning || ends, `a second script from ${s.procSts} + ${e.type}`);
          assert.equal(next.state.scriptRunning, true);
        }
        if (next.state.pendingEnv !== null) assert.ok(next.state.procSts === 'RESTARTING' && next.state.scriptRunning);
        assert.ok(next.state.retryCount <= cfg.retryLimit);
        s = next.state;
      }
    }
  });
});
