// [schedule:NAME] with the real pcheck --config: across daylight saving time in a real time
// zone (TZ=Europe/Berlin), with the wall clock moved by libfaketime (Debian package
// `faketime`; CLOCK_MONOTONIC stays real), a 02:30 schedule runs once on the spring-forward
// day (at 03:00, when the clock jumps) and once on the fall-back day (the first 02:30); and a
// schedule's suspension window ends only the suspension the schedule made.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, sleep, type Pcheck } from '../helpers/harness';

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib64/faketime/libfaketime.so.1'].find(
  existsSync,
);

/** pcheck in Berlin, whose wall clock reads `offsetFile` (an offset from the real clock, in seconds). */
function startInBerlin(sb: FailsafeSandbox, offsetFile: string): Pcheck {
  assert.ok(LIBFAKETIME, 'libfaketime is installed (apt-get install faketime)');
  return sb.failsafe(['--rehearse'], {
    TZ: 'Europe/Berlin',
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    DONT_FAKE_MONOTONIC: '1',
  });
}

/** Moves the faked wall clock so that it reads `utcMs` now. */
function setWall(offsetFile: string, utcMs: number): void {
  writeFileSync(offsetFile, `${((utcMs - Date.now()) / 1000).toFixed(3)}\n`.replace(/^(?=\d)/, '+'));
}

/** The local time stamp pcheck wrote at the start of a line: `2027-03-28 03:00:00`. */
const stamp = (line: string): string => line.slice(0, 19);

/** A 02:30 schedule, and a pulse every 5 s whose log lines show pcheck's wall clock. */
const ini = (sb: FailsafeSandbox): void => {
  const start = sb.script('start.sh', 'echo "start $PS_EVENT"');
  sb.ini(
    `[group:app]\nstart = "${start}"\n\n[group:pulse]\n\n[schedule:nightly]\ncron = 30 2 * * *\naction = restart_group app\n\n` +
      `[schedule:pulse]\ncron = */5 * * * * *\naction = restart_group pulse\n`,
  );
};

describe('schedules across daylight saving time (TZ=Europe/Berlin, wall clock moved by libfaketime)', () => {
  const sb = new FailsafeSandbox();
  const offset = join(sb.dir, 'faketime');
  after(() => sb.cleanup());

  it('spring forward: a 02:30 schedule runs once, at 03:00 CEST when the clock jumps from 02:00 CET, and not at 03:30', async () => {
    ini(sb);
    // 2027-03-28 01:59:52 CET = 00:59:52 UTC; at 01:00:00 UTC the clock reads 03:00:00 CEST
    setWall(offset, Date.UTC(2027, 2, 28, 0, 59, 52));
    const pc = startInBerlin(sb, offset);
    await pc.waitLine('Group app: Starting -> Online');
    const run = await pc.waitLine('Schedule nightly (30 2 * * *): restart group app', 20_000);
    assert.match(stamp(run.text), /^2027-03-28 03:00:0\d$/, `ran at ${stamp(run.text)}`);
    await pc.waitLine('Group app start: start RESTART', 10_000, run.index);
    // half an hour later (03:29:55 CEST): 03:30 is not the 02:30 run again
    setWall(offset, Date.UTC(2027, 2, 28, 1, 29, 55));
    await sleep(8000);
    assert.equal(pc.count('Schedule nightly'), 1, 'one run on the spring-forward day');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('fall back: a 02:30 schedule runs once, at the first 02:30 (CEST), not again at 02:30 CET an hour later', async () => {
    ini(sb);
    // 2027-10-31 02:29:52 CEST = 00:29:52 UTC; at 01:00 UTC the clock goes back to 02:00 CET
    setWall(offset, Date.UTC(2027, 9, 31, 0, 29, 52));
    const pc = startInBerlin(sb, offset);
    await pc.waitLine('Group app: Starting -> Online');
    const run = await pc.waitLine('Schedule nightly (30 2 * * *): restart group app', 20_000);
    assert.match(stamp(run.text), /^2027-10-31 02:30:0\d$/, `ran at ${stamp(run.text)}`);
    // an hour later the clock reads 02:29:52 again (CET now): 02:30 comes a second time
    setWall(offset, Date.UTC(2027, 9, 31, 1, 29, 52));
    const back = await pc.waitLine(/^2027-10-31 02:29:5\d/, 15_000, run.index);
    await pc.waitLine(/^2027-10-31 02:30:(0[5-9]|1\d).*Schedule pulse/, 25_000, back.index); // 02:30 CET has passed
    assert.equal(pc.count('Schedule nightly'), 1, 'one run on the fall-back day');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

describe("a schedule's suspension window ends only the suspension the schedule made", () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('an operator suspension before or during the window stays suspended after it', async () => {
    const start = sb.script('start.sh', 'exit 0');
    const check = sb.script('check.sh', 'exit 0');
    sb.ini(
      `[group:app]\nstart = "${start}"\n\n[monitor:chk]\ntype = custom\ncommand = "${check}"\ntarget = app\ninterval = 0.5\n\n` +
        `[schedule:backup]\ncron = */5 * * * * *\naction = suspend_monitor chk 2\n`,
    );
    const pc = sb.failsafe(['--rehearse']);
    await sb.until('chk Normal', (s) => s.monitors[0].status === 'Normal');

    // before the window: the operator's suspension is left as it is, and stays
    assert.equal(sb.admin('monitor', 'suspend', 'chk').code, 0);
    let from = pc.lines.length;
    const win = await pc.waitLine('Schedule backup (*/5 * * * * *): suspend monitor chk for 2s', 10_000, from);
    await pc.waitLine('Monitor chk is already suspended by the operator: the schedule leaves it as it is', 5000, win.index);
    await pc.waitLine('Schedule backup: suspension of monitor chk over', 5000, win.index);
    await pc.waitLine('Monitor chk stays suspended: the operator suspended it', 5000, win.index);
    await sleep(500);
    assert.equal(sb.monitor('chk').status, 'Suspended');

    // during the window: the operator takes the suspension over
    assert.equal(sb.admin('monitor', 'resume', 'chk').code, 0);
    from = pc.lines.length;
    const next = await pc.waitLine('Monitor chk suspended by a schedule', 10_000, from);
    assert.equal(sb.admin('monitor', 'suspend', 'chk').code, 0);
    await pc.waitLine("by the operator now: the schedule's window no longer ends it", 5000, next.index);
    await pc.waitLine('Schedule backup: suspension of monitor chk over', 5000, next.index);
    await sleep(500);
    assert.equal(sb.monitor('chk').status, 'Suspended');

    // and the schedule's own suspension ends with its window
    assert.equal(sb.admin('monitor', 'resume', 'chk').code, 0);
    from = pc.lines.length;
    const own = await pc.waitLine('Monitor chk suspended by a schedule', 10_000, from);
    await pc.waitLine('Monitor chk resumed', 5000, own.index);
    assert.equal(sb.monitor('chk').status, 'Normal');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
