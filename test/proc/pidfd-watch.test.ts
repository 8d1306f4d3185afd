import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadNative, nativeLoadError, type NativeBinding } from '../../src/native';
import { createPidfdDeathWatcher } from '../../src/proc/pidfd-watch';
import type { DeathWatcher, ProcId } from '../../src/proc/types';

// A tiny stand-in for src/proc/proc-table.ts: pid AND start time, zombies are dead.
function stat(pid: number): { state: string; startTime: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
    return { state: f[0] ?? '?', startTime: Number(f[19]) }; // field 22
  } catch {
    return null;
  }
}
const table = {
  read(id: ProcId): ProcId | null {
    const s = stat(id.pid);
    return s && s.state !== 'Z' && s.state !== 'X' && s.startTime === id.startTime ? id : null;
  },
};
function idOf(pid: number): ProcId {
  const s = stat(pid);
  assert.ok(s, `process ${pid} should exist`);
  return { pid, startTime: s.startTime };
}

const started: number[] = [];
function sleeper(): number {
  const c = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  c.unref();
  assert.ok(c.pid);
  started.push(c.pid);
  return c.pid;
}
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(2);
  }
  return cond();
}
const openFds = () => readdirSync('/proc/self/fd').length;

describe('pidfd death watcher', () => {
  let native: NativeBinding;
  let watcher: DeathWatcher;

  before(() => {
    const n = loadNative();
    assert.ok(n, `native addon not loaded (${nativeLoadError()}): run node scripts/build-native.js --verbose`);
    native = n;
    watcher = createPidfdDeathWatcher(native, table);
  });
  after(() => {
    watcher.close();
    for (const pid of started) killQuietly(pid);
  });

  it('reports its mode as pidfd', () => {
    assert.equal(watcher.mode, 'pidfd');
  });

  it('calls onDeath within 100 ms of a SIGKILL, every time', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const pid = sleeper();
      const id = idOf(pid);
      let t0 = 0n;
      const died = new Promise<number>((resolve) => watcher.watch(id, () => resolve(Number(process.hrtime.bigint() - t0) / 1e6)));
      await sleep(5);
      t0 = process.hrtime.bigint();
      process.kill(pid, 'SIGKILL');
      latencies.push(await died);
    }
    latencies.sort((a, b) => a - b);
    const summary = `kill -> onDeath: min ${latencies[0]?.toFixed(2)} ms, median ${latencies[5]?.toFixed(2)} ms, max ${latencies[9]?.toFixed(2)} ms`;
    console.log(summary);
    assert.ok((latencies[9] ?? Infinity) < 100, summary);
  });

  it('calls onDeath at once, asynchronously, for a process that is already a zombie', async () => {
    // The background sleep's parent execs into another sleep that never reaps it, so once
    // killed it stays a zombie for as long as we need.
    const parent = spawn('sh', ['-c', 'sleep 1000 & echo $!; exec sleep 1000 >/dev/null'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    parent.unref();
    assert.ok(parent.pid);
    started.push(parent.pid);
    const childPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    started.push(childPid);
    const id = idOf(childPid);
    process.kill(childPid, 'SIGKILL');
    assert.ok(await until(() => stat(childPid)?.state === 'Z', 1000), 'the killed child should be a zombie');

    let called = 0;
    const t0 = Date.now();
    const died = new Promise<void>((resolve) =>
      watcher.watch(id, () => {
        called++;
        resolve();
      }),
    );
    assert.equal(called, 0, 'onDeath must not be called synchronously');
    await died;
    assert.ok(Date.now() - t0 < 50, `took ${Date.now() - t0} ms`);
    assert.equal(stat(childPid)?.state, 'Z', 'still a zombie when reported dead');
    await sleep(20);
    assert.equal(called, 1, 'onDeath is called once');
    killQuietly(parent.pid);
  });

  it('calls onDeath at once, asynchronously, for a pid that no longer exists', async () => {
    const c = spawn('true', { stdio: 'ignore' });
    assert.ok(c.pid);
    const id = idOf(c.pid);
    await new Promise((r) => c.once('exit', r));
    await sleep(10); // reaped by node
    assert.equal(stat(id.pid), null);

    let called = 0;
    const died = new Promise<void>((resolve) =>
      watcher.watch(id, () => {
        called++;
        resolve();
      }),
    );
    assert.equal(called, 0, 'onDeath must not be called synchronously');
    await died;
    await sleep(20);
    assert.equal(called, 1);
  });

  it('calls onDeath at once when the pid is alive but has another start time (a reused pid)', async () => {
    const pid = sleeper();
    const id = idOf(pid);
    const t0 = Date.now();
    await new Promise<void>((resolve) => watcher.watch({ pid, startTime: id.startTime - 1 }, () => resolve()));
    assert.ok(Date.now() - t0 < 50);
    assert.ok(table.read(id), 'the process itself is still alive');
    killQuietly(pid);
  });

  it('does not call onDeath after the returned stop function was called', async () => {
    const pid = sleeper();
    let called = false;
    const stop = watcher.watch(idOf(pid), () => {
      called = true;
    });
    stop();
    stop(); // twice is harmless
    process.kill(pid, 'SIGKILL');
    await sleep(150);
    assert.equal(called, false);
  });

  it('does not call onDeath for an already-dead pid when stopped before the next tick', async () => {
    let called = false;
    const stop = watcher.watch({ pid: 2 ** 22 + 1, startTime: 1 }, () => {
      called = true;
    });
    stop();
    await sleep(20);
    assert.equal(called, false);
  });

  it('leaks no descriptor: after deaths, stops and close() every pidfd is closed', async () => {
    const w = createPidfdDeathWatcher(native, table);
    await sleep(10);
    const before = openFds();
    const [a, b, c, d] = [sleeper(), sleeper(), sleeper(), sleeper()];
    let stopA: () => void = () => undefined;
    const deaths = [
      new Promise<void>((resolve) => (stopA = w.watch(idOf(a), () => resolve()))),
      new Promise<void>((resolve) => w.watch(idOf(b), () => resolve())),
    ];
    const stopC = w.watch(idOf(c), () => assert.fail('c was stopped'));
    w.watch(idOf(d), () => assert.fail('the watcher was closed'));
    assert.equal(openFds(), before + 4);
    process.kill(a, 'SIGKILL');
    process.kill(b, 'SIGKILL');
    await Promise.all(deaths);
    stopA(); // after it fired: harmless
    stopC();
    w.close(); // stops d
    killQuietly(c);
    killQuietly(d);
    w.close();
    assert.ok(await until(() => openFds() === before, 500), `${openFds() - before} descriptors left open`);
    assert.throws(() => w.watch(idOf(process.pid), () => undefined), /closed/);
  });

  it('throws the errno name (not ESRCH) so the caller can fall back to polling', () => {
    const failing: NativeBinding = {
      ...native,
      pidfdOpen: () => {
        throw Object.assign(new Error('pidfd_open: Function not implemented'), { code: 'ENOSYS' });
      },
    };
    const w = createPidfdDeathWatcher(failing, table);
    assert.throws(() => w.watch(idOf(process.pid), () => undefined), { code: 'ENOSYS' });
    w.close();
  });
});
