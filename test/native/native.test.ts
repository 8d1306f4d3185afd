// The addon itself: datagrams byte for byte, pidfd errors, watch lifetimes, teardown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative, nativeAddonFile, nativeLoadError, type NativeBinding } from '../../src/native';

const NATIVE_JS = join(__dirname, '..', '..', 'src', 'native', 'index.js');
const ENOENT = 2;
const EAGAIN = 11;
const ECONNREFUSED = 111;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fdIsOpen = (fd: number) => existsSync(`/proc/self/fd/${fd}`);

/** A datagram receiver (python3 is on every machine that can build the addon: node-gyp
 *  needs it). It prints "ready", then each datagram as JSON, or just sleeps if !read. */
function receiver(path: string, read: boolean): Promise<{ proc: ChildProcess; lines: string[] }> {
  const py = [
    'import socket, sys, json, time',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(path)})`,
    'print("ready", flush=True)',
    read ? 'while True: print(json.dumps(s.recv(65536).decode()), flush=True)' : 'time.sleep(60)',
  ].join('\n');
  const proc = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) {
        if (p === 'ready') resolve({ proc, lines });
        else lines.push(JSON.parse(p) as string);
      }
    });
    proc.once('exit', (code) => reject(new Error(`python3 receiver exited (${code})`)));
  });
}
function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return Promise.resolve();
  const done = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    process.kill(proc.pid, 'SIGKILL');
  } catch {
    // exited and reaped already; 'exit' is on its way
  }
  return done;
}

describe('native addon', () => {
  let native: NativeBinding;
  let dir: string;
  const procs: ChildProcess[] = [];

  before(() => {
    const n = loadNative();
    assert.ok(n, `native addon not loaded (${nativeLoadError()}): run node scripts/build-native.js --verbose`);
    native = n;
    dir = mkdtempSync(join(tmpdir(), 'procsafe-native-'));
  });
  after(async () => {
    await Promise.all(procs.map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the local build of a checkout (native/build/Release) and is cached', () => {
    assert.match(nativeAddonFile() ?? '', /native\/build\/Release\/procsafe_native\.node$/);
    assert.equal(loadNative(), native);
    assert.equal(nativeLoadError(), null);
  });

  it('names the platform it has no build for, and the command that compiles one', () => {
    // node-gyp-build: PREBUILDS_ONLY skips build/Release; npm_config_arch stands for another machine
    const script = `const n = require(${JSON.stringify(NATIVE_JS)}); console.log(JSON.stringify([n.loadNative(), n.nativeLoadError(), n.nativeAddonFile()]))`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, PREBUILDS_ONLY: '1', npm_config_arch: 'riscv64' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [binding, error, file] = JSON.parse(r.stdout) as [unknown, string, string | null];
    assert.equal(binding, null);
    assert.equal(file, null);
    assert.match(error, /^no build or prebuild for platform=linux arch=riscv64 runtime=node .*libc=glibc node=\d+\.\d+\.\d+; compile one with procsafe-build-native$/);
  });

  it('is not loaded when PROCSAFE_NATIVE=off', () => {
    const script = `const n = require(${JSON.stringify(NATIVE_JS)}); console.log(JSON.stringify([n.loadNative(), n.nativeLoadError()]))`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, PROCSAFE_NATIVE: 'off' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [null, 'disabled by PROCSAFE_NATIVE=off']);
  });

  describe('syslogSend', () => {
    it('sends the message as one datagram, byte for byte, and returns 0', async () => {
      const path = join(dir, 'recv.sock');
      const r = await receiver(path, true);
      procs.push(r.proc);
      const msg = '<29>Nov  3 07:04:05 pcheck[1234]: (/usr/bin/java ,pid=12742) Up — ü';
      assert.equal(native.syslogSend(path, msg), 0);
      assert.equal(native.syslogSend(path, 'second'), 0);
      for (let i = 0; i < 200 && r.lines.length < 2; i++) await sleep(10);
      assert.deepEqual(r.lines, [msg, 'second']);
      await stop(r.proc);
      // The socket file stays behind with nobody reading it.
      assert.equal(native.syslogSend(path, 'x'), ECONNREFUSED);
    });

    it('returns ENOENT when the socket does not exist', () => {
      assert.equal(native.syslogSend(join(dir, 'missing.sock'), 'x'), ENOENT);
    });

    it('blocks on a full socket for about one second, then returns EAGAIN', async () => {
      const path = join(dir, 'full.sock');
      const r = await receiver(path, false);
      procs.push(r.proc);
      let err = 0;
      let slowest = 0;
      for (let i = 0; i < 10_000 && err === 0; i++) {
        const t0 = Date.now();
        err = native.syslogSend(path, 'x'.repeat(100));
        slowest = Math.max(slowest, Date.now() - t0);
      }
      assert.equal(err, EAGAIN);
      assert.ok(slowest >= 900 && slowest < 3000, `the blocked send took ${slowest} ms`);
      await stop(r.proc);
    });
  });

  describe('pidfd', () => {
    it('pidfdOpen throws an Error whose code is ESRCH for a pid that does not exist', () => {
      assert.throws(() => native.pidfdOpen(2 ** 22 + 1), { code: 'ESRCH' });
    });

    it('pidfdOpen refuses a pid that is not a positive integer', () => {
      assert.throws(() => native.pidfdOpen(0), TypeError);
      assert.throws(() => native.pidfdOpen('1' as unknown as number), TypeError);
    });

    it('pidfdWatch calls back once when the process exits, then closes the fd', async () => {
      const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
      procs.push(c);
      assert.ok(c.pid);
      const fd = native.pidfdOpen(c.pid);
      assert.ok(fdIsOpen(fd));
      let calls = 0;
      let handle = undefined as unknown as ReturnType<NativeBinding['pidfdWatch']>;
      const fired = new Promise<void>((resolve) => {
        handle = native.pidfdWatch(fd, () => {
          calls++;
          resolve();
        });
      });
      await sleep(20);
      assert.equal(calls, 0, 'no callback while the process lives');
      process.kill(c.pid, 'SIGKILL');
      await fired;
      await sleep(20);
      assert.equal(calls, 1);
      assert.equal(fdIsOpen(fd), false, 'the pidfd is closed after the callback');
      assert.equal(native.pidfdUnwatch(handle), false, 'unwatch after firing is a no-op');
      assert.equal(native.pidfdUnwatch(handle), false);
    });

    it('pidfdUnwatch stops the watch, closes the fd, and is safe to repeat', async () => {
      const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
      procs.push(c);
      assert.ok(c.pid);
      const fd = native.pidfdOpen(c.pid);
      let called = false;
      const h = native.pidfdWatch(fd, () => (called = true));
      assert.equal(native.pidfdUnwatch(h), true);
      assert.equal(native.pidfdUnwatch(h), false);
      process.kill(c.pid, 'SIGKILL');
      await sleep(50);
      assert.equal(called, false);
      assert.equal(fdIsOpen(fd), false);
    });

    it('pidfdUnwatch rejects anything that is not a watch handle', () => {
      assert.throws(() => native.pidfdUnwatch({}), TypeError);
      assert.throws(() => native.pidfdUnwatch(42 as unknown as object), TypeError);
    });

    it('pidfdWatch leaves the fd open for the caller when it fails', () => {
      assert.throws(() => native.pidfdWatch(-1, () => undefined), TypeError);
      assert.throws(() => native.pidfdWatch(0, 'x' as unknown as () => void), TypeError);
      const fd = openSync(__filename, 'r'); // epoll refuses regular files
      try {
        assert.throws(() => native.pidfdWatch(fd, () => undefined), { code: 'EPERM' });
        assert.ok(fdIsOpen(fd));
      } finally {
        closeSync(fd);
      }
    });

    it('an exception thrown by the callback reaches uncaughtException like any other', () => {
      const script = `
        const n = require(${JSON.stringify(NATIVE_JS)}).loadNative();
        process.on('uncaughtException', (e) => { console.log('caught ' + e.message); process.exit(0); });
        const c = require('child_process').spawn('sleep', ['1000'], { stdio: 'ignore' });
        n.pidfdWatch(n.pidfdOpen(c.pid), () => { throw new Error('boom'); });
        c.kill('SIGKILL');`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.stdout.trim(), 'caught boom', r.stderr);
      assert.equal(r.status, 0);
    });

    it('a worker thread that ends while watching shuts down cleanly', () => {
      const script = `
        const { Worker } = require('worker_threads');
        const code = \`
          const n = require(${JSON.stringify(NATIVE_JS)}).loadNative();
          const c = require('child_process').spawn('sleep', ['1000'], { stdio: 'ignore' });
          require('worker_threads').parentPort.postMessage(c.pid);
          n.pidfdWatch(n.pidfdOpen(c.pid), () => {});
          setTimeout(() => process.exit(0), 50);\`;
        const w = new Worker(code, { eval: true });
        let pid = 0;
        w.on('message', (p) => (pid = p));
        w.on('exit', (code) => {
          process.kill(pid, 'SIGKILL');
          const fds = require('fs').readdirSync('/proc/self/fd').map((f) => { try { return require('fs').readlinkSync('/proc/self/fd/' + f); } catch { return ''; } });
          console.log(code, fds.filter((l) => l.includes('pidfd')).length);
        });`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), '0 0', 'worker exit code, pidfds left open');
    });

    it('keeps no descriptor open after many watches that fire or are stopped', async () => {
      const count = () => readdirSync('/proc/self/fd').length;
      const before = count();
      const kids = Array.from({ length: 20 }, () => spawn('sleep', ['1000'], { stdio: 'ignore' }));
      procs.push(...kids);
      const fired: Promise<void>[] = [];
      kids.forEach((c, i) => {
        const fd = native.pidfdOpen(c.pid ?? 0);
        let h = undefined as unknown as ReturnType<NativeBinding['pidfdWatch']>;
        fired.push(new Promise<void>((resolve) => (h = native.pidfdWatch(fd, resolve))));
        if (i % 2 === 1) {
          native.pidfdUnwatch(h);
          fired.pop();
        }
      });
      for (const c of kids) c.kill('SIGKILL');
      await Promise.all(fired);
      await Promise.all(kids.map(stop));
      for (let i = 0; i < 50 && count() !== before; i++) await sleep(10);
      assert.equal(count(), before);
    });
  });
});
