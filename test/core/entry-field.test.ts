// The entry machine's field rules (SPEC §10): a death with a successor, workers ended before a
// restart, and hang_timeout. Pure: state + event + clock in, state + actions out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextDeadline, scriptWanted, step } from '../../src/core/entry-machine';
import { type Clock, type EntryAction, type EntryConfig, type EntryState, initialState } from '../../src/core/entry-model';
import { HANG_KILL_WAIT_MS } from '../../src/core/hang-policy';

const cfg: EntryConfig = { pentId: 1, pname: '/usr/sbin/nginx', retryLimit: 2, grace: 0, retryOverAction: 'exit', restartWait: 30, initialWait: 10 };
const hangCfg: EntryConfig = { ...cfg, hangTimeout: 5 };
const t0: Clock = { mono: 1_000_000, wall: Date.UTC(2026, 0, 1) };
const at = (s: number): Clock => ({ mono: t0.mono + s * 1000, wall: t0.wall + s * 1000 });
const avail = (extra: Partial<EntryState> = {}): EntryState => ({ ...initialState(), procSts: 'AVAIL', pid: 100, startTime: 5000, ...extra });
const logs = (a: EntryAction[]) => a.flatMap((x) => (x.type === 'log' ? [x.message] : []));
const kinds = (a: EntryAction[]) => a.map((x) => x.type);

describe('entry machine: a death with a successor', () => {
  it('watches the successor: logged, Up, no Down, no restart, counters unchanged', () => {
    const s = avail({ retryCount: 1, restartCount: 1, upSinceMono: t0.mono });
    const r = step(s, { type: 'died', successor: { pid: 101, startTime: 5001 }, workers: [] }, cfg, at(1));
    assert.deepEqual(logs(r.actions), ['(/usr/sbin/nginx) pid=100 exited; pid=101 of the same program runs: watching it', '(/usr/sbin/nginx ,pid=101) Up']);
    assert.deepEqual(kinds(r.actions), ['log', 'log', 'watch']);
    assert.deepEqual([r.state.procSts, r.state.pid, r.state.startTime, r.state.retryCount, r.state.restartCount, r.state.upSinceMono], ['AVAIL', 101, 5001, 1, 1, t0.mono]);
  });

  it('without one, ends the workers the dead process left before its restart script', () => {
    const workers = [{ pid: 102, startTime: 5002 }];
    const r = step(avail(), { type: 'died', successor: null, workers }, cfg, at(1));
    assert.deepEqual(kinds(r.actions), ['log', 'endWorkers', 'log', 'runScript', 'seek']);
    assert.deepEqual(r.actions[1], { type: 'endWorkers', workers });
    assert.equal(r.state.retryCount, 1);
  });

  it('leaves the workers alone when nothing will be restarted (retry-over, monitoring off)', () => {
    const workers = [{ pid: 102, startTime: 5002 }];
    const over = step(avail({ retryCount: 2 }), { type: 'died', workers }, cfg, at(1));
    assert.equal(over.state.procSts, 'RETRY_OVER');
    assert.ok(!kinds(over.actions).includes('endWorkers'));
    const off = step(avail({ monitorSts: 'off' }), { type: 'died', workers }, cfg, at(1));
    assert.equal(off.state.procSts, 'DOWN');
    assert.deepEqual(kinds(off.actions), ['log']);
  });
});

describe('entry machine: hang_timeout', () => {
  it('a process seen stopped starts the hang clock; running again stops it', () => {
    const s = step(avail(), { type: 'sample', state: 'T' }, hangCfg, at(1)).state;
    assert.equal(s.stuckSinceMono, at(1).mono);
    assert.equal(nextDeadline(s, hangCfg), at(6).mono);
    const again = step(s, { type: 'sample', state: 'D' }, hangCfg, at(2)).state;
    assert.equal(again, s, 'still stuck: the same state, nothing to persist');
    const running = step(s, { type: 'sample', state: 'S' }, hangCfg, at(3)).state;
    assert.equal(running.stuckSinceMono, null);
    assert.equal(nextDeadline(running, hangCfg), null);
  });

  it('stuck for hang_timeout: logged Hang and killed; its death restarts it like any death (a retry)', () => {
    const s = step(avail(), { type: 'sample', state: 'D' }, hangCfg, at(0)).state;
    assert.deepEqual(step(s, { type: 'timer' }, hangCfg, at(4.9)).actions, []);
    const r = step(s, { type: 'timer' }, hangCfg, at(5));
    assert.deepEqual(logs(r.actions), ['Process [/usr/sbin/nginx , pid=100] Hang']);
    assert.deepEqual(r.actions[1], { type: 'kill', pid: 100, startTime: 5000 });
    assert.equal(r.state.procSts, 'AVAIL');
    const d = step(r.state, { type: 'died', successor: null, workers: [] }, hangCfg, at(5.1));
    assert.equal(d.state.procSts, 'RESTARTING');
    assert.equal(d.state.retryCount, 1);
    assert.deepEqual(logs(d.actions), ['Process [/usr/sbin/nginx , pid=100] Down', 'Try to restart (/usr/sbin/nginx)']);
  });

  it('a hung process that SIGKILL does not end (D) is restarted anyway after the kill wait', () => {
    let s = step(avail(), { type: 'sample', state: 'D' }, hangCfg, at(0)).state;
    s = step(s, { type: 'timer' }, hangCfg, at(5)).state;
    assert.equal(nextDeadline(s, hangCfg), at(5).mono + HANG_KILL_WAIT_MS);
    const r = step(s, { type: 'timer' }, hangCfg, { mono: at(5).mono + HANG_KILL_WAIT_MS, wall: 0 });
    assert.equal(r.state.procSts, 'RESTARTING');
    assert.match(logs(r.actions)[0], /pid=100 still there 5s after SIGKILL/);
    assert.ok(kinds(r.actions).includes('runScript'));
  });

  it('is off without the option, and while monitoring is off', () => {
    assert.equal(step(avail(), { type: 'sample', state: 'T' }, cfg, at(1)).state.stuckSinceMono, null);
    assert.equal(step(avail({ monitorSts: 'off' }), { type: 'sample', state: 'T' }, hangCfg, at(1)).state.stuckSinceMono, null);
  });
});

describe('entry machine: a restart script held back (reap, workers, queue) and due', () => {
  /** the restart decided at a death, its script not started yet */
  const restarting = () => step(avail(), { type: 'died', successor: null, workers: [] }, cfg, at(1)).state;

  it('is wanted while the entry is still restarting with monitoring on', () => {
    assert.equal(scriptWanted(restarting()), true);
  });

  it('the program found meanwhile (started by someone else): not run, the entry stays AVAIL on it', () => {
    const found = step(restarting(), { type: 'found', pid: 200, startTime: 6000 }, cfg, at(2)).state;
    assert.equal(scriptWanted(found), false);
    const r = step(found, { type: 'scriptSkipped' }, cfg, at(3));
    assert.deepEqual(logs(r.actions), ['Restart script of (/usr/sbin/nginx) not run: pid=200 of the program runs (found while the script waited)']);
    assert.deepEqual([r.state.procSts, r.state.pid, r.state.scriptRunning, r.state.provisional, r.state.retryCount], ['AVAIL', 200, false, false, 1]);
    // its death later is an ordinary death: a restart, not "a step of the script"
    const again = step(r.state, { type: 'died', successor: null, workers: [] }, cfg, at(4));
    assert.deepEqual(kinds(again.actions), ['log', 'log', 'runScript', 'seek']);
  });

  it('monitoring turned off meanwhile (stop, a FailSafe group going offline): not run, the entry is DOWN', () => {
    const off = step(restarting(), { type: 'monitorOff' }, cfg, at(2)).state;
    assert.equal(scriptWanted(off), false);
    const r = step(off, { type: 'scriptSkipped' }, cfg, at(3));
    assert.deepEqual(logs(r.actions), ['Restart script of (/usr/sbin/nginx) not run: monitoring is off']);
    assert.deepEqual([r.state.procSts, r.state.scriptRunning, r.state.deadlineMono], ['DOWN', false, null]);
    assert.equal(step(r.state, { type: 'monitorOn' }, cfg, at(4)).state.procSts, 'WAIT', 'on again: an initial wait, then a restart if nothing runs');
  });
});
