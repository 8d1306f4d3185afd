// sd_notify without libsystemd: the notifier, the heartbeat and the daemon link against a
// real AF_UNIX datagram socket (a path and an abstract name) that a python3 receiver binds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver } from '../helpers/notify-receiver';
import { waitFor } from '../helpers/harness';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative, nativeLoadError, type NativeBinding } from '../../src/native';
import { createNotifier, findSystemdNotify, statusText, watchdogInterval, type Notifier } from '../../src/systemd/notify';
import { createLoopProbe, staleAfterFor, startHeartbeat } from '../../src/systemd/heartbeat';
import { createSystemdLink, formatStatus, type StatusEntry } from '../../src/systemd/daemon-link';

const ENOENT = 2;
const EINVAL = 22;
const ENAMETOOLONG = 36;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CLOCK_MONOTONIC in ms, the clock python's time.monotonic_ns() reads too. */
const monoMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

describe('systemd notifications', () => {
  let native: NativeBinding;
  let dir: string;
  const receivers: Receiver[] = [];
  let seq = 0;
  const pathSocket = async () => {
    const r = await Receiver.start(join(dir, `notify-${seq++}.sock`));
    receivers.push(r);
    return r;
  };
  const abstractSocket = async () => {
    const r = await Receiver.start(`@procsafe-test-${process.pid}-${seq++}-${Date.now()}`);
    receivers.push(r);
    return r;
  };
  const notifierFor = (r: Receiver, extra: Record<string, string> = {}): Notifier => {
    const n = createNotifier({ NOTIFY_SOCKET: r.address, ...extra }, native);
    assert.ok(n);
    return n;
  };

  before(() => {
    const n = loadNative();
    assert.ok(n, `native addon not loaded (${nativeLoadError()}): run node scripts/build-native.js --verbose`);
    native = n;
    dir = mkdtempSync(join(tmpdir(), 'procsafe-systemd-'));
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe('createNotifier', () => {
    it('returns null when NOTIFY_SOCKET is unset or empty', () => {
      assert.equal(createNotifier({}, native), null);
      assert.equal(createNotifier({ NOTIFY_SOCKET: '' }, native), null);
    });

    it('sends READY=1 with a STATUS line, STATUS, WATCHDOG=1 and STOPPING=1 as one datagram each, byte for byte', async () => {
      const r = await pathSocket();
      const n = notifierFor(r);
      assert.equal(n.disabledReason, null);
      assert.equal(n.socket, r.address);
      n.ready('watching 2 entries: 2 AVAIL — ü');
      n.status('watching 2 entries: 1 AVAIL, 1 RESTARTING');
      n.watchdog();
      n.ready();
      n.stopping('stopping: SIGTERM');
      n.stopping();
      await r.waitCount(6);
      assert.deepEqual(r.texts(), [
        'READY=1\nSTATUS=watching 2 entries: 2 AVAIL — ü',
        'STATUS=watching 2 entries: 1 AVAIL, 1 RESTARTING',
        'WATCHDOG=1',
        'READY=1',
        'STOPPING=1\nSTATUS=stopping: SIGTERM',
        'STOPPING=1',
      ]);
    });

    it('reaches an abstract socket named with a leading @, as systemd may set NOTIFY_SOCKET', async () => {
      const r = await abstractSocket();
      const n = notifierFor(r);
      n.ready('up');
      n.watchdog();
      await r.waitCount(2);
      assert.deepEqual(r.texts(), ['READY=1\nSTATUS=up', 'WATCHDOG=1']);
    });

    it('keeps a status on one line and short enough for systemd to take it', async () => {
      assert.equal(statusText('a\nb\r\nc\u0000d'), 'a b cd');
      assert.equal(statusText('x'.repeat(5000)).length, 1000);
      assert.ok(statusText('x'.repeat(5000)).endsWith('...'));
      const r = await pathSocket();
      notifierFor(r).status('one\nREADY=1');
      await r.waitCount(1);
      assert.deepEqual(r.texts(), ['STATUS=one READY=1'], 'a newline in the text must not become a second assignment');
    });

    it('never throws when nobody listens, and reports each distinct error once and the recovery once', async () => {
      const errors: string[] = [];
      const path = join(dir, 'later.sock');
      const n = createNotifier({ NOTIFY_SOCKET: path }, native, { onError: (m) => errors.push(m) });
      assert.ok(n);
      for (let i = 0; i < 3; i++) n.watchdog();
      assert.deepEqual(errors, [`sd_notify to ${path} failed: ENOENT`]);
      const r = await Receiver.start(path);
      receivers.push(r);
      n.status('back');
      await r.waitCount(1);
      await r.stop();
      for (let i = 0; i < 3; i++) n.watchdog();
      assert.deepEqual(errors, [`sd_notify to ${path} failed: ENOENT`, `sd_notify to ${path} works again`, `sd_notify to ${path} failed: ECONNREFUSED`]);
    });

    it('never throws when the error callback or the addon itself throws', () => {
      const throwing: NativeBinding = {
        ...native,
        syslogSend: () => {
          throw new Error('boom');
        },
      };
      const n = createNotifier({ NOTIFY_SOCKET: '/nonexistent/notify' }, throwing, {
        onError: () => {
          throw new Error('log sink broken');
        },
      });
      assert.ok(n);
      assert.doesNotThrow(() => {
        n.ready('x');
        n.status('x');
        n.watchdog();
        n.stopping();
      });
    });

    it('is a no-op that says why when neither the native addon nor systemd-notify can send', async () => {
      const r = await pathSocket();
      const n = createNotifier({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: '400000' }, null, { systemdNotify: null });
      assert.ok(n, 'NOTIFY_SOCKET is set: the caller gets a notifier to ask why');
      assert.match(n.disabledReason ?? '', /native addon is not loaded.* and systemd-notify\(1\) was not found/);
      assert.equal(n.via, null);
      assert.equal(n.watchdogIntervalMs, 200);
      n.ready('x');
      n.watchdog();
      n.stopping();
      await sleep(200);
      assert.deepEqual(r.texts(), []);
    });

    it('sends as this process (the pid NotifyAccess=main accepts): by the addon, and without it by systemd-notify', async () => {
      const withAddon = await pathSocket();
      notifierFor(withAddon).ready('up');
      const r = await pathSocket();
      const tool = findSystemdNotify();
      assert.ok(tool, 'systemd-notify not found: apt-get install systemd');
      const n = createNotifier({ NOTIFY_SOCKET: r.address }, null);
      assert.ok(n);
      assert.equal(n.disabledReason, null);
      assert.equal(n.via, 'systemd-notify');
      n.ready('watching 1 entry: 1 AVAIL — ü');
      n.watchdog();
      await r.waitCount(2);
      n.stopping('stopping: SIGTERM');
      await r.waitCount(3);
      await withAddon.waitCount(1);
      // systemd-notify adds MAINPID= (our own pid: no change for systemd)
      const lines = (d: { text: string }) => d.text.split('\n').filter((l) => l !== `MAINPID=${process.pid}`);
      assert.deepEqual(r.got.map(lines), [['READY=1', 'STATUS=watching 1 entry: 1 AVAIL — ü'], ['WATCHDOG=1'], ['STOPPING=1', 'STATUS=stopping: SIGTERM']]);
      assert.deepEqual([...withAddon.got, ...r.got].map((d) => d.pid), [process.pid, process.pid, process.pid, process.pid]);
    });

    it('without the addon, STATUS and WATCHDOG do not wait for systemd-notify, and a burst is merged into few datagrams ending with the last STATUS', async () => {
      const r = await pathSocket();
      const n = createNotifier({ NOTIFY_SOCKET: r.address }, null);
      assert.ok(n);
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) n.status(`change ${i}`);
      n.watchdog();
      const took = performance.now() - t0;
      await r.waitFor((d) => d.text.includes('STATUS=change 49'), 'the last STATUS');
      await sleep(200);
      assert.ok(took < 300, `50 STATUS calls took ${took.toFixed(1)} ms: they waited for systemd-notify`);
      assert.ok(r.got.length <= 3, `${r.got.length} datagrams for 50 changes: ${JSON.stringify(r.texts())}`);
      assert.ok(r.got.some((d) => d.text.includes('WATCHDOG=1')));
      assert.ok(r.got.at(-1)?.text.includes('STATUS=change 49'), 'the latest STATUS arrives last');
    });

    it('says once that systemd-notify failed, and once that it works again', async () => {
      const errors: string[] = [];
      const path = join(dir, 'late.sock');
      const n = createNotifier({ NOTIFY_SOCKET: path }, null, { onError: (m) => errors.push(m) });
      assert.ok(n);
      n.ready('a'); // READY and STOPPING wait for systemd-notify: the error is known at once
      n.stopping('b');
      assert.equal(errors.length, 1);
      assert.match(errors[0], new RegExp(`^sd_notify to ${path} failed: .*systemd-notify exited with 1`));
      n.status('c'); // in the background: same error, not repeated
      await sleep(300);
      assert.equal(errors.length, 1);
      const r = await Receiver.start(path);
      receivers.push(r);
      n.status('d');
      await r.waitCount(1);
      await waitFor(() => errors.length === 2, 3000, 'the recovery to be reported');
      assert.deepEqual(errors.slice(1), [`sd_notify to ${path} works again`]);
    });

    it('is a no-op for an address that is not a unix socket path or @name', () => {
      const n = createNotifier({ NOTIFY_SOCKET: 'vsock:2:1234' }, native);
      assert.ok(n);
      assert.match(n.disabledReason ?? '', /not a unix socket path or @abstract name/);
      assert.doesNotThrow(() => n.ready('x'));
      const long = createNotifier({ NOTIFY_SOCKET: `/${'x'.repeat(110)}` }, native);
      assert.match(long?.disabledReason ?? '', /too long/);
    });
  });

  describe('watchdogIntervalMs', () => {
    it('is half of WATCHDOG_USEC, in milliseconds (WATCHDOG_USEC=400000: every 200 ms)', () => {
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '400000' }), 200);
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '30000000' }), 15_000);
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '1000' }), 1, 'never a 0 ms interval');
      assert.equal(createNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '400000' }, native)?.watchdogIntervalMs, 200);
    });

    it('applies only when WATCHDOG_PID is unset or names this process', () => {
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) }), 200);
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '400000', WATCHDOG_PID: '1' }), null);
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '400000', WATCHDOG_PID: '' }), 200);
      assert.equal(watchdogInterval({ WATCHDOG_USEC: '400000', WATCHDOG_PID: '4242' }, 4242), 200);
    });

    it('is null without WATCHDOG_USEC or with one that is not a positive integer', () => {
      for (const v of [undefined, '', '0', '-5', '12abc', '1e6', ' 400000']) {
        assert.equal(watchdogInterval({ WATCHDOG_USEC: v }), null, `WATCHDOG_USEC=${String(v)}`);
      }
    });
  });

  describe('the addon with abstract socket names', () => {
    it('takes names up to the full 108 bytes of sun_path and refuses longer ones', async () => {
      const name = `procsafe-${process.pid}-`;
      const full = `@${name}${'a'.repeat(107 - name.length)}`;
      assert.equal(Buffer.byteLength(full), 108);
      const r = await Receiver.start(full);
      receivers.push(r);
      assert.equal(native.syslogSend(full, 'WATCHDOG=1'), 0);
      await r.waitCount(1);
      assert.deepEqual(r.texts(), ['WATCHDOG=1']);
      assert.equal(native.syslogSend(`${full}b`, 'x'), ENAMETOOLONG);
      assert.equal(native.syslogSend('@', 'x'), EINVAL);
    });

    it('matches the name exactly: a prefix or a longer name is another socket', async () => {
      const r = await abstractSocket();
      assert.notEqual(native.syslogSend(r.address.slice(0, -1), 'x'), 0);
      assert.notEqual(native.syslogSend(`${r.address}x`, 'x'), 0);
      await sleep(100);
      assert.deepEqual(r.texts(), []);
    });

    it('still treats every other string as a path: ENOENT, and ENAMETOOLONG from 108 bytes', () => {
      assert.equal(native.syslogSend(join(dir, 'missing.sock'), 'x'), ENOENT);
      assert.equal(native.syslogSend(`/${'p'.repeat(106)}`, 'x'), ENOENT);
      assert.equal(native.syslogSend(`/${'p'.repeat(107)}`, 'x'), ENAMETOOLONG);
    });
  });

  describe('startHeartbeat', () => {
    it('sends WATCHDOG=1 at once and then every interval while alive() says yes', async () => {
      const r = await pathSocket();
      const hb = startHeartbeat(notifierFor(r), { intervalMs: 50, alive: () => true });
      await sleep(520);
      hb.stop();
      await sleep(100);
      const n = r.got.length;
      assert.ok(n >= 8 && n <= 13, `${n} beats in 520 ms at 50 ms`);
      assert.ok(r.texts().every((t) => t === 'WATCHDOG=1'));
      assert.equal(hb.beats, n);
      assert.equal(hb.skipped, 0);
      await sleep(150);
      assert.equal(r.got.length, n, 'nothing after stop()');
    });

    it('sends nothing while alive() says no (or throws), and beats again once it says yes', async () => {
      const r = await pathSocket();
      let state: 'yes' | 'no' | 'throw' = 'yes';
      const hb = startHeartbeat(notifierFor(r), {
        intervalMs: 40,
        alive: () => {
          if (state === 'throw') throw new Error('probe broke');
          return state === 'yes';
        },
      });
      await sleep(200);
      state = 'no';
      await sleep(20);
      const t0 = monoMs();
      await sleep(200);
      state = 'throw';
      await sleep(200);
      const t1 = monoMs();
      state = 'yes';
      await sleep(200);
      hb.stop();
      const during = r.got.filter((d) => d.mono > t0 && d.mono < t1);
      assert.deepEqual(during, [], 'no beat while the loop made no progress');
      assert.ok(r.got.some((d) => d.mono > t1), 'beats resume');
      assert.ok(hb.skipped >= 8, `${hb.skipped} ticks skipped`);
    });

    it('never beats faster than asked, even for an interval beyond what setInterval takes', async () => {
      let beats = 0;
      const hb = startHeartbeat({ watchdog: () => beats++ }, { intervalMs: watchdogInterval({ WATCHDOG_USEC: '18446744073709551614' }) ?? 0, alive: () => true });
      await sleep(100);
      hb.stop();
      assert.equal(beats, 1, 'only the one sent at start');
    });

    it('sends nothing at all while the event loop is blocked', async () => {
      const r = await pathSocket();
      const hb = startHeartbeat(notifierFor(r), { intervalMs: 50, alive: () => true });
      await sleep(200);
      const t0 = monoMs();
      while (monoMs() - t0 < 500) {
        // a wedged loop: the timer cannot run
      }
      const t1 = monoMs();
      await sleep(200);
      hb.stop();
      await sleep(50);
      assert.deepEqual(
        r.got.filter((d) => d.mono > t0 + 5 && d.mono < t1),
        [],
        'a beat arrived while the loop was blocked',
      );
      const before = r.got.filter((d) => d.mono <= t0 + 5).length;
      const afterwards = r.got.filter((d) => d.mono >= t1).length;
      assert.ok(before >= 3 && afterwards >= 3, `beats before ${before}, after ${afterwards}`);
    });
  });

  describe('createLoopProbe', () => {
    it('is alive while the last pass is at most staleAfterMs old, on the monotonic clock', () => {
      let now = 1000;
      const p = createLoopProbe({ staleAfterMs: 100, now: () => now });
      assert.equal(p.alive(), true, 'counts from its creation');
      now = 1100;
      assert.equal(p.alive(), true);
      now = 1101;
      assert.equal(p.alive(), false);
      p.pass();
      assert.equal(p.lastPassMs, 1101);
      assert.equal(p.alive(), true);
      now = 1300;
      assert.equal(p.alive(), false);
      p.staleAfterMs = 500;
      assert.equal(p.alive(), true, 'a reload may widen the window');
    });

    it('allows two monitor intervals: one late tick is fine, a second missing one is not', () => {
      assert.equal(staleAfterFor(10), 20_000);
      assert.equal(staleAfterFor(0.1), 200);
    });
  });

  describe('formatStatus', () => {
    const e = (proc_sts: StatusEntry['proc_sts'], restart_count = 0, monitor_sts: StatusEntry['monitor_sts'] = 'on'): StatusEntry => ({
      proc_sts,
      restart_count,
      monitor_sts,
    });

    it('counts the entries by state, in a fixed order, with the restarts', () => {
      assert.equal(formatStatus([]), 'watching 0 entries');
      assert.equal(formatStatus([e('AVAIL')]), 'watching 1 entry: 1 AVAIL; restarts: 0');
      assert.equal(
        formatStatus([e('RETRY_OVER', 3), e('RESTARTING', 1), e('AVAIL', 2), e('AVAIL'), e('WAIT')]),
        'watching 5 entries: 2 AVAIL, 1 WAIT, 1 RESTARTING, 1 RETRY_OVER; restarts: 6',
      );
      assert.equal(formatStatus([e('DOWN', 0, 'off'), e('AVAIL')]), 'watching 2 entries: 1 AVAIL, 1 DOWN; restarts: 0; monitoring off: 1');
    });
  });

  describe('createSystemdLink', () => {
    const entries: StatusEntry[] = [];
    const reset = (...list: StatusEntry[]) => entries.splice(0, entries.length, ...list);

    it('does nothing at all without NOTIFY_SOCKET', () => {
      const link = createSystemdLink({ notifier: createNotifier({}), status: () => formatStatus(entries), monitorIntervalSec: 10 });
      assert.equal(link.active, false);
      assert.doesNotThrow(() => {
        link.ready();
        link.changed();
        link.pass();
        link.setMonitorInterval(5);
        link.stopping('SIGTERM');
      });
    });

    it('sends READY=1 with the status first, then a STATUS line only when the text changes, once per loop turn', async () => {
      const r = await pathSocket();
      reset({ proc_sts: 'AVAIL', restart_count: 0, monitor_sts: 'on' });
      const link = createSystemdLink({ notifier: notifierFor(r), status: () => formatStatus(entries), monitorIntervalSec: 10 });
      assert.equal(link.active, true);
      link.changed(); // before READY: nothing
      await sleep(20);
      link.ready();
      link.ready(); // once
      link.changed(); // same text: nothing
      await sleep(20);
      entries[0] = { proc_sts: 'RESTARTING', restart_count: 1, monitor_sts: 'on' };
      link.changed();
      entries[0] = { proc_sts: 'AVAIL', restart_count: 1, monitor_sts: 'on' };
      link.changed(); // the same turn: one line, with the state at the end of the turn
      await sleep(20);
      entries[0] = { proc_sts: 'RESTARTING', restart_count: 2, monitor_sts: 'on' };
      link.changed();
      await sleep(20);
      link.stopping('SIGTERM');
      link.changed();
      link.stopping('again');
      await sleep(100);
      assert.deepEqual(r.texts(), [
        'READY=1\nSTATUS=watching 1 entry: 1 AVAIL; restarts: 0',
        'STATUS=watching 1 entry: 1 AVAIL; restarts: 1',
        'STATUS=watching 1 entry: 1 RESTARTING; restarts: 2',
        'STOPPING=1\nSTATUS=stopping: SIGTERM',
      ]);
    });

    it('beats every WATCHDOG_USEC/2 from READY on while the loop passes, stops when it stops passing, and for good on stopping()', async () => {
      const r = await pathSocket();
      reset();
      // MONITOR_INTERVAL 0.1 s: the beats stop once no pass came for 200 ms
      const link = createSystemdLink({ notifier: notifierFor(r, { WATCHDOG_USEC: '100000' }), status: () => formatStatus(entries), monitorIntervalSec: 0.1 });
      const passing = setInterval(() => link.pass(), 50);
      await sleep(150);
      assert.deepEqual(r.texts(), [], 'no beat before READY');
      link.ready();
      await sleep(400);
      clearInterval(passing);
      const stalled = monoMs();
      await sleep(600);
      const resumed = monoMs();
      const passing2 = setInterval(() => link.pass(), 50);
      await sleep(400);
      link.stopping('SIGTERM');
      const stoppedAt = monoMs();
      await sleep(300);
      clearInterval(passing2);
      const beats = r.got.filter((d) => d.text === 'WATCHDOG=1');
      const inRange = (a: number, b: number) => beats.filter((d) => d.mono > a && d.mono < b).length;
      assert.equal(r.got[0].text.split('\n')[0], 'READY=1');
      assert.ok(inRange(0, stalled) >= 6, `${inRange(0, stalled)} beats while passing`);
      assert.equal(inRange(stalled + 300, resumed), 0, 'beats went on although the loop stopped passing');
      assert.ok(inRange(resumed, stoppedAt) >= 5, 'beats resume once the loop passes again');
      assert.equal(inRange(stoppedAt + 5, Infinity), 0, 'no beat after STOPPING=1');
      assert.equal(r.got.at(-1)?.text, 'STOPPING=1\nSTATUS=stopping: SIGTERM');
    });

    it('warns once, at READY, when NOTIFY_SOCKET is set but nothing can be sent', () => {
      const warnings: string[] = [];
      const link = createSystemdLink({
        notifier: createNotifier({ NOTIFY_SOCKET: '/run/systemd/notify' }, null, { systemdNotify: null }),
        status: () => formatStatus(entries),
        monitorIntervalSec: 10,
        warn: (m) => warnings.push(m),
      });
      link.ready();
      link.ready();
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /NOTIFY_SOCKET is set but systemd cannot be notified: the native addon is not loaded.*systemd-notify\(1\) was not found.*Type=notify unit will time out/);
    });
  });
});
