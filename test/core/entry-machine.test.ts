import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSeeking, nextDeadline, step } from '../../src/core/entry-machine';
import { type Clock, type EntryAction, type EntryConfig, type EntryEvent, type EntryState, initialState } from '../../src/core/entry-model';
import { startEntry } from '../../src/core/entry-start';
import { PROC_STATES, type ProcSts } from '../../src/core/states';

const cfg: EntryConfig = {
  pentId: 1,
  pname: '/usr/bin/java',
  retryLimit: 2,
  grace: 60,
  retryOverAction: 'exit',
  restartWait: 30,
  initialWait: 10,
};
const t0: Clock = { mono: 1_000_000, wall: Date.UTC(2011, 9, 12, 10, 40, 48) };
const at = (s: number): Clock => ({ mono: t0.mono + s * 1000, wall: t0.wall + s * 1000 });

function avail(extra: Partial<EntryState> = {}): EntryState {
  return { ...initialState(), procSts: 'AVAIL', pid: 100, startTime: 5000, ...extra };
}
const logs = (a: EntryAction[]) => a.filter((x) => x.type === 'log').map((x) => (x.type === 'log' ? x.message : ''));
const kinds = (a: EntryAction[]) => a.map((x) => x.type);
const exited = (code: number | null = 0, extra: Partial<Extract<EntryEvent, { type: 'scriptExited' }>> = {}): EntryEvent => ({
  type: 'scriptExited',
  code,
  signal: null,
  timedOut: false,
  spawnError: null,
  ...extra,
});

describe('entry machine: the construction guide check', () => {
  it('starts in WAIT and asks to look for the process', () => {
    const r = startEntry(cfg, t0);
    assert.equal(r.state.procSts, 'WAIT');
    assert.equal(r.state.deadlineMono, t0.mono + 10_000);
    assert.deepEqual(kinds(r.actions), ['seek']);
  });

  it('a found process becomes AVAIL, is logged Up and watched', () => {
    const r = step(startEntry(cfg, t0).state, { type: 'found', pid: 12742, startTime: 77 }, cfg, at(1));
    assert.equal(r.state.procSts, 'AVAIL');
    assert.equal(r.state.pid, 12742);
    assert.deepEqual(logs(r.actions), ['(/usr/bin/java ,pid=12742) Up']);
    assert.deepEqual(r.actions[1], { type: 'watch', pid: 12742, startTime: 77 });
  });

  it('a death logs Down, Try to restart, counts one retry and runs the script with the PS_ environment', () => {
    const r = step(avail(), { type: 'died' }, cfg, at(5));
    assert.equal(r.state.procSts, 'RESTARTING');
    assert.equal(r.state.retryCount, 1);
    assert.equal(r.state.restartCount, 1);
    assert.equal(r.state.rerunTime, at(5).wall);
    assert.equal(r.state.pid, null);
    assert.deepEqual(logs(r.actions), ['Process [/usr/bin/java , pid=100] Down', 'Try to restart (/usr/bin/java)']);
    const run = r.actions.find((a) => a.type === 'runScript');
    assert.deepEqual(run, {
      type: 'runScript',
      env: { PS_PNAME: '/usr/bin/java', PS_PENT_ID: '1', PS_OLD_PID: '100', PS_RETRY_COUNT: '1', PS_RESTART_COUNT: '1' },
    });
  });

  it('the process appearing after the restart is Up and starts the grace window', () => {
    const down = step(avail(), { type: 'died' }, cfg, at(5)).state;
    const r = step(down, { type: 'found', pid: 101, startTime: 6000 }, cfg, at(6));
    assert.equal(r.state.procSts, 'AVAIL');
    assert.equal(r.state.retryCount, 1);
    assert.equal(r.state.upSinceMono, at(6).mono);
    assert.equal(nextDeadline(r.state, cfg), at(66).mono);
  });

  it('a failure with the retries used up is RETRY_OVER:EXIT then FATAL', () => {
    const r = step(avail({ retryCount: 2, restartCount: 2 }), { type: 'died' }, cfg, at(9));
    assert.equal(r.state.procSts, 'RETRY_OVER');
    assert.deepEqual(logs(r.actions), [
      'Process [/usr/bin/java , pid=100] Down',
      '(/usr/bin/java) RETRY_OVER:EXIT',
      '(/usr/bin/java) FATAL',
    ]);
    assert.deepEqual(r.actions.at(-1), { type: 'retryOver', action: 'exit' });
  });

  it('retry_count 0 makes the first failure a retry-over', () => {
    const r = step(avail(), { type: 'died' }, { ...cfg, retryLimit: 0 }, at(1));
    assert.equal(r.state.procSts, 'RETRY_OVER');
    assert.equal(r.state.restartCount, 0);
  });

  for (const action of ['none', 'group'] as const) {
    it(`retry-over ${action} logs RETRY_OVER:${action.toUpperCase()} without FATAL`, () => {
      const r = step(avail({ retryCount: 2 }), { type: 'died' }, { ...cfg, retryOverAction: action }, at(1));
      assert.deepEqual(logs(r.actions).slice(1), [`(/usr/bin/java) RETRY_OVER:${action.toUpperCase()}`]);
    });
  }

  for (const action of ['shutdown', 'reboot', 'panic'] as const) {
    it(`retry-over ${action} logs FATAL and asks for the OS action`, () => {
      const r = step(avail({ retryCount: 2 }), { type: 'died' }, { ...cfg, retryOverAction: action }, at(1));
      assert.deepEqual(logs(r.actions).slice(1), [`(/usr/bin/java) RETRY_OVER:${action.toUpperCase()}`, '(/usr/bin/java) FATAL']);
      assert.deepEqual(r.actions.at(-1), { type: 'retryOver', action });
    });
  }
});

describe('entry machine: waiting and restarting', () => {
  it('a process still missing when the initial wait ends counts as a failure and is restarted', () => {
    const s = startEntry(cfg, t0).state;
    assert.deepEqual(step(s, { type: 'timer' }, cfg, at(9.999)).actions, []);
    const r = step(s, { type: 'timer' }, cfg, at(10));
    assert.equal(r.state.procSts, 'RESTARTING');
    assert.deepEqual(logs(r.actions), ['(/usr/bin/java) process not found', 'Try to restart (/usr/bin/java)']);
  });

  it('RESTART_WAIT starts when the script exits, not when it starts', () => {
    const r = step(avail(), { type: 'died' }, cfg, at(0));
    assert.equal(nextDeadline(r.state, cfg), null, 'no deadline while the script runs');
    const e = step(r.state, exited(0), cfg, at(100));
    assert.equal(e.state.deadlineMono, at(130).mono);
    assert.deepEqual(kinds(e.actions), ['seek']);
  });

  it('no process within RESTART_WAIT is Set pid fail and counts as the next failure', () => {
    let s = step(avail(), { type: 'died' }, cfg, at(0)).state;
    s = step(s, exited(0), cfg, at(1)).state;
    const r = step(s, { type: 'timer' }, cfg, at(31));
    assert.deepEqual(logs(r.actions), ['Set pid fail (/usr/bin/java)', 'Try to restart (/usr/bin/java)']);
    assert.equal(r.state.retryCount, 2);
    assert.equal(r.state.restartCount, 2);
  });

  it('Set pid fail with the retries used up is a retry-over', () => {
    let s = step(avail({ retryCount: 1 }), { type: 'died' }, cfg, at(0)).state;
    s = step(s, exited(0), cfg, at(1)).state;
    const r = step(s, { type: 'timer' }, cfg, at(31));
    assert.equal(r.state.procSts, 'RETRY_OVER');
    assert.deepEqual(logs(r.actions), ['Set pid fail (/usr/bin/java)', '(/usr/bin/java) RETRY_OVER:EXIT', '(/usr/bin/java) FATAL']);
  });

  it('a script that fails is logged, but what counts is whether the process appears', () => {
    const s = step(avail(), { type: 'died' }, cfg, at(0)).state;
    const r = step(s, exited(3), cfg, at(1));
    assert.equal(r.state.procSts, 'RESTARTING');
    assert.deepEqual(logs(r.actions), ['Restart script of (/usr/bin/java) exited with status 3']);
    const up = step(r.state, { type: 'found', pid: 7, startTime: 8 }, cfg, at(2));
    assert.equal(up.state.procSts, 'AVAIL');
  });

  it('a script that timed out or could not run is logged as such', () => {
    const s = step(avail(), { type: 'died' }, cfg, at(0)).state;
    assert.match(logs(step(s, exited(null, { timedOut: true, signal: 'SIGKILL' }), cfg, at(1)).actions)[0], /timed out; killed it and what it started/);
    assert.match(logs(step(s, exited(null, { spawnError: 'EACCES' }), cfg, at(1)).actions)[0], /could not run: EACCES/);
  });

  it('a process found while its script still runs is Up; the script exit then changes nothing but the flag', () => {
    let s = step(avail(), { type: 'died' }, cfg, at(0)).state;
    s = step(s, { type: 'found', pid: 9, startTime: 9 }, cfg, at(0.2)).state;
    assert.equal(s.procSts, 'AVAIL');
    assert.equal(s.scriptRunning, true);
    const r = step(s, exited(0), cfg, at(1));
    assert.equal(r.state.procSts, 'AVAIL');
    assert.equal(r.state.scriptRunning, false);
    assert.deepEqual(r.actions, []);
  });
});

describe('entry machine: grace', () => {
  it('after grace seconds up, retry_count goes back to 0 and restart_count stays', () => {
    const s = avail({ retryCount: 2, restartCount: 5, upSinceMono: at(0).mono });
    assert.deepEqual(step(s, { type: 'timer' }, cfg, at(59)).state, s);
    const r = step(s, { type: 'timer' }, cfg, at(60));
    assert.equal(r.state.retryCount, 0);
    assert.equal(r.state.restartCount, 5);
    assert.equal(nextDeadline(r.state, cfg), null);
  });

  it('grace 0 never resets retry_count', () => {
    const c = { ...cfg, grace: 0 };
    const s = avail({ retryCount: 1, upSinceMono: at(0).mono });
    assert.equal(nextDeadline(s, c), null);
    assert.equal(step(s, { type: 'timer' }, c, at(1e6)).state.retryCount, 1);
  });

  it('a death before grace keeps counting toward the limit', () => {
    let s = avail({ retryCount: 1, upSinceMono: at(0).mono });
    s = step(s, { type: 'died' }, cfg, at(30)).state;
    assert.equal(s.retryCount, 2);
  });
});

describe('entry machine: padmin', () => {
  it('with monitoring off a death is logged Down and nothing is restarted', () => {
    const off = step(avail(), { type: 'monitorOff' }, cfg, at(0)).state;
    const r = step(off, { type: 'died' }, cfg, at(1));
    assert.equal(r.state.procSts, 'DOWN');
    assert.deepEqual(kinds(r.actions), ['log']);
    assert.equal(r.state.retryCount, 0);
  });

  it('with monitoring off a death is no alarm: Down at notice; with monitoring on it is err', () => {
    const off = step(avail(), { type: 'monitorOff' }, cfg, at(0)).state;
    const severityOf = (s: typeof off) => (step(s, { type: 'died' }, cfg, at(1)).actions[0] as { severity: string }).severity;
    assert.equal(severityOf(off), 'notice');
    assert.equal(severityOf(avail()), 'err');
  });

  it('monitoring back on gives a DOWN entry an initial wait, then it is restarted', () => {
    const off = step(avail({ monitorSts: 'off' }), { type: 'died' }, cfg, at(0)).state;
    const on = step(off, { type: 'monitorOn' }, cfg, at(100));
    assert.equal(on.state.procSts, 'WAIT');
    assert.equal(nextDeadline(on.state, cfg), at(110).mono);
    assert.equal(step(on.state, { type: 'timer' }, cfg, at(110)).state.procSts, 'RESTARTING');
  });

  it('a WAIT entry whose monitoring is off never times out', () => {
    const s = step(startEntry(cfg, t0).state, { type: 'monitorOff' }, cfg, at(0)).state;
    assert.equal(nextDeadline(s, cfg), null);
    assert.equal(step(s, { type: 'timer' }, cfg, at(1e6)).state.procSts, 'WAIT');
  });

  it('reset zeroes the counters and leaves RETRY_OVER for an immediate look and restart', () => {
    const over = step(avail({ retryCount: 2, restartCount: 2 }), { type: 'died' }, { ...cfg, retryOverAction: 'none' }, at(0)).state;
    const r = step(over, { type: 'reset' }, cfg, at(1));
    assert.equal(r.state.procSts, 'WAIT');
    assert.equal(r.state.retryCount, 0);
    assert.equal(r.state.restartCount, 0);
    assert.equal(r.state.rerunTime, null);
    assert.deepEqual(kinds(r.actions), ['seek']);
    assert.equal(step(r.state, { type: 'timer' }, cfg, at(1)).state.procSts, 'RESTARTING');
  });

  it('a process reappearing after retry-over none brings the entry back to AVAIL', () => {
    const over = step(avail({ retryCount: 2 }), { type: 'died' }, { ...cfg, retryOverAction: 'none' }, at(0)).state;
    assert.equal(over.procSts, 'RETRY_OVER');
    assert.ok(isSeeking(over));
    assert.equal(step(over, { type: 'found', pid: 5, startTime: 5 }, cfg, at(1)).state.procSts, 'AVAIL');
  });
});

describe('entry machine: every state and event', () => {
  const events: EntryEvent[] = [
    { type: 'found', pid: 42, startTime: 42 },
    { type: 'died' },
    exited(0),
    { type: 'timer' },
    { type: 'monitorOff' },
    { type: 'monitorOn' },
    { type: 'reset' },
  ];
  const sample = (sts: ProcSts): EntryState => ({
    ...initialState(),
    procSts: sts,
    pid: sts === 'AVAIL' ? 1 : null,
    startTime: sts === 'AVAIL' ? 1 : null,
    retryCount: 1,
    restartCount: 1,
    deadlineMono: sts === 'WAIT' || sts === 'RESTARTING' ? at(0).mono : null,
  });

  for (const sts of PROC_STATES) {
    for (const e of events) {
      it(`${sts} + ${e.type} gives a state that keeps the invariants`, () => {
        const r = step(sample(sts), e, cfg, at(1000));
        assertInvariants(r.state);
      });
    }
  }

  it('10,000 random event sequences keep the invariants and never exceed the retry limit', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 10_000; run++) {
      let s = startEntry(cfg, t0).state;
      let clock = 0;
      let scripts = 0;
      for (let i = 0; i < 30; i++) {
        clock += rand(40);
        const e = events[rand(events.length)];
        const r = step(s, e, cfg, at(clock));
        scripts += r.actions.filter((a) => a.type === 'runScript').length;
        if (e.type !== 'reset') assert.ok(r.state.restartCount >= s.restartCount, 'restart_count only grows');
        s = r.state;
        assertInvariants(s);
      }
      assert.ok(scripts <= 30);
    }
  });
});

function assertInvariants(s: EntryState): void {
  assert.ok(s.retryCount >= 0 && s.retryCount <= cfg.retryLimit + 1, `retry_count ${s.retryCount}`);
  assert.ok(s.retryCount <= cfg.retryLimit, `retry_count ${s.retryCount} above the limit`);
  if (s.procSts === 'AVAIL') assert.ok(s.pid !== null && s.startTime !== null, 'AVAIL has a pid');
  else assert.equal(s.pid, null, `${s.procSts} has no pid`);
  if (s.upSinceMono !== null) assert.equal(s.procSts, 'AVAIL');
}
