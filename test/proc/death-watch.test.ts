import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextImmediate, setTimeout as delay } from 'node:timers/promises';
import { CPU_BUDGET, createPollDeathWatcher } from '../../src/proc/death-watch';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestProcesses, buildLeaderExits, killPid, statField, statusState, waitFor } from '../fixtures/proc/processes';

const procs = new TestProcesses();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-death-watch-'));
after(async () => {
  await procs.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Descriptors of this process that point at /proc/PID/statm of `pid` (what the poll reads). */
function statFdsOf(pid: number): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/statm`) n++;
    } catch {
      /* the fd of the readdir itself, closed by now */
    }
  }
  return n;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** A promise of the next onDeath call and the performance.now() it happened at. */
function deathSignal(): { onDeath: () => void; died: Promise<number>; count: () => number } {
  let calls = 0;
  let resolve!: (t: number) => void;
  const died = new Promise<number>((r) => (resolve = r));
  return {
    onDeath: () => {
      calls++;
      resolve(performance.now());
    },
    died,
    count: () => calls,
  };
}

describe('createPollDeathWatcher', () => {
  it('reports the death of a killed process within 100 ms', async (t) => {
    const watcher = createPollDeathWatcher();
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await procs.sleep();
      const d = deathSignal();
      watcher.watch(s, d.onDeath);
      await delay(7 * i); // kill at different points of the 20 ms poll period
      const killedAt = performance.now();
      killPid(s.pid);
      latencies.push((await d.died) - killedAt);
      assert.equal(d.count(), 1);
    }
    watcher.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    t.diagnostic(`death latency (interval 20 ms): ${sorted.map((x) => x.toFixed(1)).join(', ')} ms`);
    // The median holds the 100 ms promise; a single late timer on an overloaded machine
    // (the test suite runs files in parallel) is allowed up to 500 ms.
    assert.ok(sorted[2] < 100, `median ${sorted[2]} ms`);
    assert.ok(sorted[4] < 500, `slowest ${sorted[4]} ms`);
  });

  it('calls onDeath once, even if the process stays a zombie', async () => {
    const watcher = createPollDeathWatcher();
    const child = await procs.unreapedChild();
    const d = deathSignal();
    watcher.watch(child, d.onDeath);
    const killedAt = performance.now();
    killPid(child.pid);
    const latency = (await d.died) - killedAt;
    assert.equal(statusState(child.pid), 'Z', 'nobody reaps it: the watcher saw the zombie state');
    assert.ok(latency < 500, `${latency} ms`); // the latency itself is measured above
    await delay(100);
    assert.equal(d.count(), 1);
    watcher.close();
  });

  it('reports a process that is already a zombie at once, after watch() has returned', async () => {
    const watcher = createPollDeathWatcher({ intervalMs: 10_000 }); // so no poll can be the one
    const z = await procs.zombie();
    const d = deathSignal();
    watcher.watch(z, d.onDeath);
    assert.equal(d.count(), 0, 'never called from inside watch()');
    await nextImmediate();
    assert.equal(d.count(), 1);
    assert.equal(statFdsOf(z.pid), 0);
    watcher.close();
  });

  it('does not report a process whose main thread exited while its other threads run', async () => {
    const bin = buildLeaderExits(tmp);
    assert.ok(bin !== null, 'no C compiler (cc) to build the fixture: apt-get install gcc');
    const s = await procs.run(bin, [], 'leader-exits');
    await waitFor('the main thread to exit', () => statField(s.pid, 3) === 'Z');
    const watcher = createPollDeathWatcher();
    const d = deathSignal();
    watcher.watch(s, d.onDeath);
    await delay(100);
    assert.equal(d.count(), 0, 'a Z leader with live threads is alive');
    killPid(s.pid);
    await d.died;
    watcher.close();
  });

  it('reports a pid that is already gone', async () => {
    const watcher = createPollDeathWatcher({ intervalMs: 10_000 });
    const s = await procs.sleep();
    await procs.kill(s.pid); // killed and reaped
    const d = deathSignal();
    watcher.watch(s, d.onDeath);
    assert.equal(d.count(), 0);
    await nextImmediate();
    assert.equal(d.count(), 1);
    watcher.close();
  });

  it('reports a live pid whose start time is not the watched one (the pid was reused)', async () => {
    const watcher = createPollDeathWatcher({ intervalMs: 10_000 });
    const s = await procs.sleep();
    const d = deathSignal();
    watcher.watch({ pid: s.pid, startTime: s.startTime - 1 }, d.onDeath);
    await nextImmediate();
    assert.equal(d.count(), 1);
    assert.equal(statFdsOf(s.pid), 0);
    watcher.close();
  });

  it('unwatch stops the callbacks and closes the descriptor', async () => {
    const watcher = createPollDeathWatcher();
    const s = await procs.sleep();
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const d = deathSignal();
    const unwatch = watcher.watch(s, d.onDeath);
    assert.equal(statFdsOf(s.pid), 1);
    assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore + 1);
    unwatch();
    unwatch(); // harmless twice
    assert.equal(statFdsOf(s.pid), 0);
    assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore);
    await procs.kill(s.pid);
    await delay(100);
    assert.equal(d.count(), 0);
    watcher.close();
  });

  it('unwatch before the asynchronous report of a dead pid cancels it', async () => {
    const watcher = createPollDeathWatcher();
    const z = await procs.zombie();
    const d = deathSignal();
    watcher.watch(z, d.onDeath)();
    await delay(30);
    assert.equal(d.count(), 0);
    watcher.close();
  });

  it('keeps one timer while something is watched and none after', async () => {
    const watcher = createPollDeathWatcher();
    const [a, b] = [await procs.sleep(), await procs.sleep()];
    const base = timers();
    const stopA = watcher.watch(a, () => {});
    const stopB = watcher.watch(b, () => {});
    assert.equal(timers(), base + 1);
    stopA();
    assert.equal(timers(), base + 1);
    stopB();
    assert.equal(timers(), base);
  });

  it('close stops every watch and releases the descriptors and the timer', async () => {
    const watcher = createPollDeathWatcher();
    const [a, b] = [await procs.sleep(), await procs.sleep()];
    const base = timers();
    const da = deathSignal();
    const db = deathSignal();
    watcher.watch(a, da.onDeath);
    watcher.watch(b, db.onDeath);
    watcher.close();
    assert.equal(statFdsOf(a.pid) + statFdsOf(b.pid), 0);
    assert.equal(timers(), base);
    killPid(a.pid);
    killPid(b.pid);
    await delay(60);
    assert.equal(da.count() + db.count(), 0);
  });

  it('an exception in one onDeath neither stops the other watches nor goes unreported', async () => {
    const errors: unknown[] = [];
    const watcher = createPollDeathWatcher({ onError: (e) => errors.push(e) });
    const [a, b] = [await procs.sleep(), await procs.sleep()];
    const d = deathSignal();
    watcher.watch(a, () => {
      throw new Error('callback bug');
    });
    watcher.watch(b, d.onDeath);
    killPid(a.pid);
    killPid(b.pid);
    await d.died;
    await waitFor('the error report', () => errors.length > 0, 1000);
    assert.equal((errors[0] as Error).message, 'callback bug');
    watcher.close();
  });

  it('with 1,000 watches the polls keep to their CPU budget, and still report the death within a second', async (t) => {
    const watcher = createPollDeathWatcher();
    const s = await procs.sleep();
    let deaths = 0;
    let lastAt = 0;
    for (let i = 0; i < 1000; i++) {
      watcher.watch(s, () => {
        deaths++;
        lastAt = performance.now();
      });
    }
    await delay(1000); // the period settles
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await delay(3000);
    const used = process.cpuUsage(cpu0);
    const share = (used.user + used.system) / 1000 / (performance.now() - t0);
    t.diagnostic(`1,000 watches: ${(share * 100).toFixed(2)} % of a CPU (budget ${(CPU_BUDGET * 100).toFixed(1)} %)`);
    assert.ok(share < CPU_BUDGET * 2.5, `${(share * 100).toFixed(2)} % of a CPU`);
    const killedAt = performance.now();
    killPid(s.pid);
    await waitFor('1,000 deaths reported', () => deaths === 1000, 5000);
    t.diagnostic(`all reported ${(lastAt - killedAt).toFixed(0)} ms after the kill`);
    assert.ok(lastAt - killedAt < 1000, `${lastAt - killedAt} ms`);
    watcher.close();
  });

  it('refuses an interval that is not a positive number, quoting it', () => {
    assert.throws(() => createPollDeathWatcher({ intervalMs: 0 }), /positive.*got 0/);
    assert.throws(() => createPollDeathWatcher({ intervalMs: NaN }), /got NaN/);
  });
});
