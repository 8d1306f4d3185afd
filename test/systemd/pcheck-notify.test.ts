// The real pcheck under a stand-in for systemd: NOTIFY_SOCKET names a datagram socket that
// a python3 receiver binds, WATCHDOG_USEC=400000 asks for a WATCHDOG=1 every ~200 ms.
// The contract (src/systemd/daemon-link.ts): READY=1 + STATUS= once monitoring runs (padmin
// answers by then), STATUS= on state changes, WATCHDOG=1 while the monitoring loop runs and
// none while it is stuck (SIGSTOP; a full stdout pipe that blocks its synchronous log
// writes), STOPPING=1 on SIGTERM and on retry-over exit.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, type Datagram } from '../helpers/notify-receiver';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Sandbox, kill, sleep, waitFor } from '../helpers/harness';
import { formatStatus } from '../../src/systemd/daemon-link';

const WATCHDOG_USEC = '400000'; // WatchdogSec=0.4s: a beat every 200 ms
/** CLOCK_MONOTONIC in ms, the clock python's time.monotonic_ns() reads too. */
const monoMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

/** Largest gap between consecutive beats, and the count, in [from, to). */
function beatStats(beats: Datagram[]): { count: number; maxGap: number } {
  let maxGap = 0;
  for (let i = 1; i < beats.length; i++) maxGap = Math.max(maxGap, beats[i].mono - beats[i - 1].mono);
  return { count: beats.length, maxGap };
}

const avail = (restarts = 0) => formatStatus([{ proc_sts: 'AVAIL', restart_count: restarts, monitor_sts: 'on' }]);

describe('pcheck under Type=notify', () => {
  // one sandbox (directory, IPCKEY) per test, so a failed test leaves nothing in the next one's way
  const boxes: Sandbox[] = [];
  const receivers: Receiver[] = [];
  after(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    boxes.forEach((b) => b.cleanup());
  });
  function sandbox(): Sandbox {
    const sb = new Sandbox();
    boxes.push(sb);
    return sb;
  }

  /** A receiver, and pcheck's environment pointing at it. */
  async function systemd(sb: Sandbox, watchdog: boolean, extra: Record<string, string> = {}): Promise<{ r: Receiver; env: Record<string, string> }> {
    const r = await Receiver.start(join(sb.dir, 'notify.sock'));
    receivers.push(r);
    // set explicitly, so that a test run that itself runs under systemd leaks nothing in
    const env = { NOTIFY_SOCKET: r.address, WATCHDOG_USEC: watchdog ? WATCHDOG_USEC : '', WATCHDOG_PID: '', JOURNAL_STREAM: '', ...extra };
    return { r, env };
  }

  it('sends READY=1 with a STATUS line once monitoring runs, and padmin answers by then', async () => {
    const sb = sandbox();
    const svc = sb.service('ready');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    const { r, env } = await systemd(sb, false);
    const pc = sb.pcheck(pfile, [], env);
    const ready = await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    assert.equal(r.got[0], ready, 'READY=1 is the first notification');
    assert.equal(ready.text, `READY=1\nSTATUS=${avail()}`);
    const [e] = sb.showPent(pfile);
    assert.equal(e.proc_sts, 'AVAIL');
    await pc.waitLine('Start pcheck');
    await sleep(600);
    assert.deepEqual(r.beats(), [], 'no WATCHDOG=1 without WATCHDOG_USEC');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('sends WATCHDOG=1 every WATCHDOG_USEC/2: with 400000, about every 200 ms', async () => {
    const sb = sandbox();
    const svc = sb.service('beat');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    const { r, env } = await systemd(sb, true);
    const pc = sb.pcheck(pfile, [], env);
    const ready = await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    await sleep(2100);
    const s = beatStats(r.beats(ready.mono, ready.mono + 2000));
    assert.ok(s.count >= 8 && s.count <= 12, `${s.count} beats in 2 s`);
    assert.ok(s.maxGap < 350, `a gap of ${s.maxGap.toFixed(0)} ms between beats`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('sends no WATCHDOG=1 when WATCHDOG_PID names another process', async () => {
    const sb = sandbox();
    const svc = sb.service('otherpid');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    const { r, env } = await systemd(sb, true, { WATCHDOG_PID: '1' });
    const pc = sb.pcheck(pfile, [], env);
    await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    await sleep(800);
    assert.deepEqual(r.beats(), []);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('sends a STATUS line when the entry goes down and is restarting, and again when it is back', async () => {
    const sb = sandbox();
    const pname = join(sb.dir, 'status');
    const svc = sb.service('status', {
      scriptBody: `sleep 0.5\nsetsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &\n`,
    });
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    const pid = await sb.startService(svc);
    const { r, env } = await systemd(sb, true);
    const pc = sb.pcheck(pfile, [], env);
    await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    kill(pid, 'SIGKILL');
    const restarting = formatStatus([{ proc_sts: 'RESTARTING', restart_count: 1, monitor_sts: 'on' }]);
    await r.waitFor((d) => d.text === `STATUS=${restarting}`, `STATUS=${restarting}`);
    await r.waitFor((d) => d.text === `STATUS=${avail(1)}`, `STATUS=${avail(1)}`);
    const st = r.statuses();
    assert.deepEqual(st.slice(0, 1), [avail(0)]);
    assert.ok(st.indexOf(restarting) < st.lastIndexOf(avail(1)));
    for (let i = 1; i < st.length; i++) assert.notEqual(st[i], st[i - 1], `STATUS repeated: ${st[i]}`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('sends STOPPING=1 on SIGTERM, and no WATCHDOG=1 after it, then exits 0', async () => {
    const sb = sandbox();
    const svc = sb.service('stop');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    const { r, env } = await systemd(sb, true);
    const pc = sb.pcheck(pfile, [], env);
    await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    await sleep(500);
    kill(pc.pid, 'SIGTERM');
    const stopping = await r.waitFor((d) => d.head === 'STOPPING=1', 'STOPPING=1');
    assert.equal(await pc.exited, 0);
    await sleep(300);
    assert.deepEqual(r.beats(stopping.mono), []);
    assert.equal(r.got.filter((d) => d.head === 'STOPPING=1').length, 1);
    assert.equal(r.got.at(-1), stopping);
  });

  it('sends STOPPING=1 before it exits 1 on retry-over exit', async () => {
    const sb = sandbox();
    const svc = sb.service('retryover');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:0:exit`] });
    const pid = await sb.startService(svc);
    const { r, env } = await systemd(sb, true);
    const pc = sb.pcheck(pfile, [], env);
    await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    kill(pid, 'SIGKILL');
    assert.equal(await pc.exited, 1);
    await r.waitFor((d) => d.head === 'STOPPING=1', 'STOPPING=1', 2000);
  });

  it('stops beating while pcheck is stopped by SIGSTOP, and beats again after SIGCONT', async () => {
    const sb = sandbox();
    const svc = sb.service('sigstop');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    const { r, env } = await systemd(sb, true);
    const pc = sb.pcheck(pfile, [], env);
    const ready = await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
    await sleep(600);
    assert.ok(r.beats(ready.mono).length >= 2, 'beating before the stop');
    kill(pc.pid, 'SIGSTOP');
    const t0 = monoMs();
    await sleep(1200);
    const t1 = monoMs();
    kill(pc.pid, 'SIGCONT');
    assert.deepEqual(r.beats(t0 + 20, t1), [], 'a beat from a stopped process');
    const again = await r.waitFor((d) => d.head === 'WATCHDOG=1' && d.mono > t1, 'a beat after SIGCONT', 2000);
    assert.ok(again.mono - t1 < 500, `first beat ${(again.mono - t1).toFixed(0)} ms after SIGCONT`);
    await sleep(1000);
    assert.ok(r.beats(t1).length >= 4, 'beating regularly again');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('beats on while its stdout is not read (lines queued, then the oldest dropped), and says how many were dropped once it is read again', async () => {
    const sb = sandbox();
    // A crash loop whose restart script prints 200 lines of 4,000 bytes each time: pcheck logs
    // its first 16 KiB and last 20 lines (~96 KB a run) to stdout. Unread, stdout (a socket, as
    // journald's stream is) fills: a pcheck that waited for it would stop beating, healing and
    // answering (SPEC §10: logging never stops healing). The script waits for the program: its
    // death is reaped at once (an orphan would wait for PID 1's reap, and each restart for it).
    const pname = join(sb.dir, 'noisy');
    const script = join(sb.dir, 'start-noisy.sh');
    writeFileSync(
      script,
      '#!/bin/bash\n' +
        `yes "$(printf 'noise-%03994d' 0)" | head -n 200\n` +
        `setsid bash -c 'exec -a "$0" sleep 0.3' '${pname}' </dev/null >/dev/null 2>&1 &\n` +
        'wait\n',
    );
    chmodSync(script, 0o755);
    const pfile = sb.pfile({ pents: [`${pname}:${script}:3600:100000:none`] });
    const { r, env } = await systemd(sb, true);
    const child = spawn(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    sb.track(child.pid!);
    let bytes = 0;
    let partial = '';
    const about: string[] = []; // pcheck's lines about its stdout
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      about.push(...lines.filter((l) => l.includes('stdout')));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      const ready = await r.waitFor((d) => d.head === 'READY=1', `READY=1 (stderr: ${stderr})`);
      // the crash loop is under way and read: beats go on
      await waitFor(() => bytes > 1_000_000, 20_000, 'the crash loop to print 1 MB');
      const readFrom = monoMs();
      await sleep(1500);
      const reading = beatStats(r.beats(Math.max(ready.mono, readFrom), monoMs()));
      assert.ok(reading.count >= 5 && reading.maxGap < 600, `beats while stdout is read: ${JSON.stringify(reading)}`);

      child.stdout.pause();
      const pausedAt = monoMs();
      const restarts0 = Number(sb.showPent(pfile)[0].restart_count);
      // long enough to fill the socket and pcheck's 1 MiB queue several times over
      await sleep(6000);
      const paused = beatStats(r.beats(pausedAt, monoMs()));
      assert.ok(paused.count >= 15 && paused.maxGap < 600, `beats while stdout is not read: ${JSON.stringify(paused)}`);
      const restarts = Number(sb.showPent(pfile)[0].restart_count) - restarts0;
      // each cycle prints 800 KB through `yes | head` and lives 0.3 s: 19 in 6 s on a quiet host; 1 seen while a benchmark loaded the host
      assert.ok(restarts >= 3, `the crash loop was healed meanwhile (${restarts} restarts)`);
      assert.equal(child.exitCode, null, 'pcheck is still there');
      child.stdout.resume();
      const back = await waitFor(() => about.find((l) => /stdout is reading again: \d+ line\(s\) were dropped from it since /.test(l)), 10_000, 'the count of dropped lines on stdout');
      const marker = about.find((l) => /\.\.\. \d+ line\(s\) dropped here: stdout was not read/.test(l));
      assert.ok(marker, `a marker where they were dropped: ${about.join('\n')}`);
      assert.ok(about.indexOf(marker) < about.indexOf(back));
    } finally {
      kill(child.pid!, 'SIGKILL');
      await exited;
    }
  });

  it('passes neither NOTIFY_SOCKET nor WATCHDOG_USEC to restart scripts', async () => {
    const sb = sandbox();
    const pname = join(sb.dir, 'envcheck');
    const svc = sb.service('envcheck', {
      scriptBody:
        'echo "env: NOTIFY_SOCKET=${NOTIFY_SOCKET-unset} WATCHDOG_USEC=${WATCHDOG_USEC-unset} WATCHDOG_PID=${WATCHDOG_PID-unset}"\n' +
        `setsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &\n`,
    });
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0 }, pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    const { env } = await systemd(sb, true, { WATCHDOG_PID: String(process.pid) });
    const pc = sb.pcheck(pfile, [], env);
    await pc.waitLine('script: env:');
    await pc.waitLine('script: env: NOTIFY_SOCKET=unset WATCHDOG_USEC=unset WATCHDOG_PID=unset');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('writes <N>-prefixed lines without its own timestamp to stdout when JOURNAL_STREAM is set', async () => {
    const sb = sandbox();
    const svc = sb.service('journal');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    await sb.startService(svc);
    const { env } = await systemd(sb, false, { JOURNAL_STREAM: '8:123456' });
    const pc = sb.pcheck(pfile, [], env);
    const start = await pc.waitLine('Start pcheck');
    assert.match(start.text, /^<[0-7]>Start pcheck \(pfile=/);
    await pc.waitLine(') Up');
    assert.ok(
      pc.lines.every((l) => /^<[0-7]>/.test(l.text)),
      pc.lines.map((l) => l.text).join('\n'),
    );
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
