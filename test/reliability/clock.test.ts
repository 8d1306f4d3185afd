// The wall clock jumping forwards and backwards (NTP step, an operator's `date -s`) must not
// change when retry_count goes back to 0 (grace), when RESTART_WAIT or INITIAL_WAIT ends:
// every duration is measured on CLOCK_MONOTONIC; the wall clock is only shown (rerun_time,
// log time stamps).
//
// Two proofs: the pure entry machine with an injected clock whose wall jumps ±1 h while the
// monotonic time does not; and the real pcheck under libfaketime (Debian package `faketime`),
// whose wall clock the test moves by rewriting a timestamp file while CLOCK_MONOTONIC stays real.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextDeadline, step } from '../../src/core/entry-machine';
import { type Clock, type EntryConfig, type EntryEvent, type EntryState } from '../../src/core/entry-model';
import { startEntry } from '../../src/core/entry-start';
import { Sandbox, kill, waitFor } from '../helpers/harness';

const HOUR = 3600_000;
const cfg: EntryConfig = { pentId: 1, pname: '/usr/bin/app', retryLimit: 2, grace: 60, retryOverAction: 'none', restartWait: 30, initialWait: 10 };
const T0 = 5_000_000;
const WALL0 = Date.UTC(2026, 2, 29, 0, 59, 0); // an hour before a DST change in Europe, for good measure
/** The monotonic time `s` seconds after T0, with the wall clock `jump` ms off. */
const at = (s: number, jump = 0): Clock => ({ mono: T0 + s * 1000, wall: WALL0 + s * 1000 + jump });
const exited: EntryEvent = { type: 'scriptExited', code: 0, signal: null, timedOut: false, spawnError: null };
const messages = (r: { actions: { type: string }[] }) => r.actions.flatMap((a) => ('message' in a ? [a.message as string] : []));

describe('clock jumps, in the pure entry machine (wall ±1 h, monotonic steady)', () => {
  /** AVAIL after one restart, up since 10 s. */
  function upAfterRestart(jump: number): EntryState {
    let s = step(startEntry(cfg, at(0)).state, { type: 'found', pid: 10, startTime: 1 }, cfg, at(1)).state;
    s = step(s, { type: 'died' }, cfg, at(5, jump)).state;
    s = step(s, exited, cfg, at(6, jump)).state;
    return step(s, { type: 'found', pid: 11, startTime: 2 }, cfg, at(10, jump)).state;
  }

  for (const jump of [HOUR, -HOUR]) {
    const label = jump > 0 ? 'forwards' : 'backwards';

    it(`grace: a wall clock jumping ${label} 1 h neither resets retry_count early nor delays it`, () => {
      const s = upAfterRestart(0);
      assert.equal(s.retryCount, 1);
      assert.equal(nextDeadline(s, cfg), at(70).mono, 'deadline on the monotonic clock');
      // the jump happens while the process is up: nothing before 60 s of monotonic time
      assert.equal(step(s, { type: 'timer' }, cfg, at(69.999, jump)).state.retryCount, 1);
      const r = step(s, { type: 'timer' }, cfg, at(70, jump));
      assert.equal(r.state.retryCount, 0);
      assert.deepEqual(messages(r), ['(/usr/bin/app) up for 60s: retry_count reset to 0']);
    });

    it(`RESTART_WAIT: a wall clock jumping ${label} 1 h neither cuts it short nor stretches it`, () => {
      let s = step(startEntry(cfg, at(0)).state, { type: 'found', pid: 10, startTime: 1 }, cfg, at(1)).state;
      s = step(s, { type: 'died' }, cfg, at(2)).state;
      s = step(s, exited, cfg, at(3)).state;
      assert.equal(nextDeadline(s, cfg), at(33).mono);
      assert.deepEqual(step(s, { type: 'timer' }, cfg, at(32.999, jump)).actions, []);
      assert.deepEqual(messages(step(s, { type: 'timer' }, cfg, at(33, jump))).slice(0, 1), ['Set pid fail (/usr/bin/app)']);
    });

    it(`INITIAL_WAIT: a wall clock jumping ${label} 1 h does not change it`, () => {
      const s = startEntry(cfg, at(0)).state;
      assert.deepEqual(step(s, { type: 'timer' }, cfg, at(9.999, jump)).actions, []);
      assert.equal(step(s, { type: 'timer' }, cfg, at(10, jump)).state.procSts, 'RESTARTING');
    });

    it(`rerun_time shows the wall clock as it is (${label}): display only`, () => {
      const s = step(upAfterRestart(0), { type: 'died' }, cfg, at(20, jump)).state;
      assert.equal(s.rerunTime, at(20, jump).wall);
    });
  }

  it('10,000 random event sequences under random wall jumps give the same states as without them (but rerun_time)', () => {
    const events: EntryEvent[] = [{ type: 'found', pid: 42, startTime: 42 }, { type: 'died' }, exited, { type: 'timer' }, { type: 'monitorOff' }, { type: 'monitorOn' }, { type: 'reset' }];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const strip = (s: EntryState) => ({ ...s, rerunTime: null });
    for (let run = 0; run < 10_000; run++) {
      let a = startEntry(cfg, at(0)).state;
      let b = a;
      let t = 0;
      let jump = 0;
      for (let i = 0; i < 30; i++) {
        t += rand(40);
        if (rand(4) === 0) jump += (rand(2) === 0 ? 1 : -1) * (1 + rand(48)) * HOUR;
        const e = events[rand(events.length)];
        const ra = step(a, e, cfg, at(t));
        const rb = step(b, e, cfg, at(t, jump));
        assert.deepEqual(strip(rb.state), strip(ra.state));
        assert.deepEqual(rb.actions, ra.actions);
        a = ra.state;
        b = rb.state;
      }
    }
  });
});

// ---- the real pcheck under libfaketime ----------------------------------------------------

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib64/faketime/libfaketime.so.1'].find(
  existsSync,
);

describe('clock jumps, in a real pcheck under libfaketime (wall ±1 h, CLOCK_MONOTONIC real)', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('grace resets and RESTART_WAIT take their monotonic time whatever the wall clock does', async () => {
    assert.ok(LIBFAKETIME, 'libfaketime is installed (apt-get install faketime)');
    const offset = join(sb.dir, 'faketime');
    writeFileSync(offset, '+0\n');
    const svc = sb.service('app');
    const GRACE = 2;
    const WAIT = 1.5;
    const pfile = sb.pfile({ param: { RESTART_WAIT: WAIT, INITIAL_WAIT: 0.5 }, pents: [`${svc.pname}:${svc.script}:${GRACE}:1:none`] });
    const first = await sb.startService(svc);
    const pc = sb.pcheck(pfile, [], {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: offset,
      FAKETIME_NO_CACHE: '1',
      DONT_FAKE_MONOTONIC: '1',
    });
    await pc.waitLine(`(${svc.pname} ,pid=${first}) Up`);
    const figures: string[] = [];
    let victim = first;

    for (const [label, jump] of [
      ['+1h', HOUR],
      ['-1h', -HOUR],
    ] as const) {
      const from = pc.lines.length;
      kill(victim, 'SIGKILL');
      const up = await pc.waitLine(/\/app ,pid=\d+\) Up/, 10_000, from);
      victim = Number(/pid=(\d+)/.exec(up.text)![1]);
      writeFileSync(offset, `${label}\n`);
      const reset = await pc.waitLine('retry_count reset to 0', 15_000, from);
      const took = (reset.at - up.at) / 1000;
      // pcheck saw the jump: its log time stamp is an hour off the real clock
      const stamp = Date.parse(reset.text.slice(0, 23).replace(' ', 'T'));
      const seen = stamp - Date.now();
      assert.ok(Math.abs(seen - jump) < 5 * 60_000, `pcheck's wall clock is ${label} (off by ${(seen / HOUR).toFixed(2)} h)`);
      // as without a jump: GRACE seconds after Up, not at once (+1 h) nor an hour later (-1 h);
      // the upper bound leaves room for a loaded machine, and is still far below an hour
      assert.ok(took >= GRACE - 0.2 && took < GRACE + 20, `grace reset ${took.toFixed(2)} s after Up, wall ${label}`);
      figures.push(`grace ${GRACE} s with the wall clock ${label}: reset after ${took.toFixed(2)} s`);
      writeFileSync(offset, '+0\n');
    }

    // RESTART_WAIT: the script starts nothing; the wall clock jumps while pcheck waits
    writeFileSync(svc.script, '#!/bin/bash\nexit 0\n');
    for (const label of ['+1h', '-1h']) {
      const from = pc.lines.length;
      if (label === '+1h') kill(victim, 'SIGKILL');
      else assert.equal(sb.padmin(pfile, 'reset pent 1').code, 0);
      const tried = await pc.waitLine(`Try to restart (${svc.pname})`, 10_000, from);
      writeFileSync(offset, `${label}\n`);
      const failed = await pc.waitLine(`Set pid fail (${svc.pname})`, 15_000, from);
      const took = (failed.at - tried.at) / 1000;
      assert.ok(took >= WAIT - 0.2 && took < WAIT + 20, `Set pid fail ${took.toFixed(2)} s after the restart, wall ${label}`);
      figures.push(`RESTART_WAIT ${WAIT} s with the wall clock ${label}: Set pid fail after ${took.toFixed(2)} s`);
      await pc.waitLine('RETRY_OVER:NONE', 10_000, from);
      writeFileSync(offset, '+0\n');
    }
    await waitFor(() => sb.showPent(pfile)[0].proc_sts === 'RETRY_OVER', 5000, 'RETRY_OVER');
    if (process.env.PROCSAFE_FIGURES) process.stdout.write(`# figures\n${figures.map((f) => `# ${f}`).join('\n')}\n`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
