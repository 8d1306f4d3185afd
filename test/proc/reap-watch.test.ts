// The wait for a dead process's reap (src/proc/reap-watch.ts), with real zombies: children of a
// parent that never calls wait(), reaped by PID 1 (or a subreaper) once that parent is killed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { createReapWatch } from '../../src/proc/reap-watch';
import { TestProcesses, statusState } from '../fixtures/proc/processes';

const procs = new TestProcesses();
after(() => procs.cleanup());

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('createReapWatch', () => {
  it('a process already reaped ends the wait at once, with no timer', async () => {
    const watch = createReapWatch();
    const s = await procs.sleep();
    await procs.kill(s.pid); // node reaps its own child
    const before = timers();
    const wait = watch.wait(s, performance.now() + 5000);
    assert.equal(timers(), before);
    assert.deepEqual(await wait, { reaped: true, parent: null });
    watch.close();
  });

  it('a zombie ends the wait once its parent is gone and it is reaped, well before the deadline', async () => {
    const watch = createReapWatch();
    const z = await procs.zombie();
    const t0 = performance.now();
    const wait = watch.wait(z, t0 + 10_000);
    await procs.kill(z.parentPid); // orphaned: PID 1 (or a subreaper) reaps it
    assert.deepEqual(await wait, { reaped: true, parent: null });
    assert.equal(statusState(z.pid), null, 'gone from /proc when the wait ends');
    assert.ok(performance.now() - t0 < 9000);
    watch.close();
  });

  it('a zombie that its parent never reaps ends the wait at the deadline, naming the parent', async () => {
    const watch = createReapWatch();
    const z = await procs.zombie();
    const t0 = performance.now();
    const r = await watch.wait(z, t0 + 300);
    const waited = performance.now() - t0;
    assert.deepEqual(r, { reaped: false, parent: z.parentPid });
    assert.ok(waited >= 299 && waited < 1500, `ended at the deadline (${Math.round(waited)} ms)`);
    assert.equal(statusState(z.pid), 'Z');
    watch.close();
  });

  it('200 zombies waited for at once share one timer, and all end when they are reaped', async () => {
    const watch = createReapWatch();
    const { zombies, parentPid } = await procs.zombies(200);
    const before = timers();
    const waits = zombies.map((z) => watch.wait(z, performance.now() + 10_000));
    assert.equal(timers(), before + 1, 'one timer for all the waits');
    await procs.kill(parentPid);
    const results = await Promise.all(waits);
    assert.ok(results.every((r) => r.reaped));
    assert.equal(timers(), before, 'no timer left once nothing is waited for');
    watch.close();
  });

  it('close() stops the timer; the waits still open never end (nothing follows them once pcheck stops)', async () => {
    const watch = createReapWatch();
    const z = await procs.zombie();
    const before = timers();
    let ended = false;
    void watch.wait(z, performance.now() + 100).then(() => (ended = true));
    assert.equal(timers(), before + 1);
    watch.close();
    assert.equal(timers(), before);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ended, false);
  });
});
