import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createProcTable, resolvePname } from '../../src/proc/proc-table';
import { isDead, parseStat, readBootTime, readStat, startTimeToEpochMs } from '../../src/proc/proc-stat';
import { TestProcesses, buildLeaderExits, statField, statusState, waitFor } from '../fixtures/proc/processes';

const PF_KTHREAD = 0x00200000;
const procs = new TestProcesses();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-proc-table-'));
const sleepPath = fs.realpathSync('/usr/bin/sleep');

after(async () => {
  await procs.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function token(): string {
  return `/opt/procsafe-test/${process.pid}-${Math.random().toString(36).slice(2)}/sleep`;
}

/** A stat line of 52 fields with `comm` and the given fields (1-based, as in proc(5)). */
function statLine(comm: string, fields: Record<number, string | number>): string {
  const out = ['42', `(${comm})`];
  for (let n = 3; n <= 52; n++) out.push(String(fields[n] ?? (n === 3 ? 'S' : n === 18 ? -2 : 0)));
  return out.join(' ') + '\n';
}

describe('parseStat', () => {
  it('counts fields from the last parenthesis, so comm may hold spaces and parentheses', () => {
    const buf = Buffer.from(statLine('a) b (c', { 3: 'S', 4: 7, 5: 8, 6: 9, 9: 4194560, 20: 3, 22: 123456, 48: 140721184574075 }));
    assert.deepEqual(parseStat(buf, buf.length), {
      comm: 'a) b (c',
      state: 'S',
      ppid: 7,
      pgrp: 8,
      session: 9,
      flags: 4194560,
      numThreads: 3,
      startTime: 123456,
      argStart: 140721184574075,
    });
  });

  it('ignores bytes after the given length, as a reused buffer holds them', () => {
    const buf = Buffer.alloc(1024, 0x29); // stale ')' bytes after the line
    const len = buf.write(statLine('x', { 22: 77 }));
    assert.equal(parseStat(buf, len)?.startTime, 77);
  });

  it('accepts a line of an old kernel that ends before arg_start', () => {
    const buf = Buffer.from('1 (x) R 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0 0\n');
    assert.deepEqual(parseStat(buf, buf.length), { comm: 'x', state: 'R', ppid: 0, pgrp: 1, session: 1, flags: 0, numThreads: 1, startTime: 77, argStart: 0 });
  });

  it('returns null for a truncated line that stops before field 22', () => {
    const buf = Buffer.from('1 (x) R 0 1 1 0');
    assert.equal(parseStat(buf, buf.length), null);
  });
});

describe('isDead', () => {
  it('takes Z and X as dead, but not a Z leader whose other threads still run', () => {
    assert.equal(isDead({ state: 'Z', numThreads: 1 }), true);
    assert.equal(isDead({ state: 'X', numThreads: 1 }), true);
    assert.equal(isDead({ state: 'Z', numThreads: 3 }), false);
    assert.equal(isDead({ state: 'S', numThreads: 1 }), false);
    assert.equal(isDead({ state: 'D', numThreads: 1 }), false);
  });
});

describe('createProcTable', () => {
  const table = createProcTable();

  it('a quick scan finds a process started after the last scan, and rereads a known one with a looked-for name', async () => {
    const quick = createProcTable();
    const argv0 = token();
    const known = await procs.unreapedChild(); // ['sleep', '1000'], reaped by nobody
    quick.scan(); // full: both are now known
    const s = await procs.sleep([argv0, '1000']);
    assert.ok(quick.scan({ recheck: new Set([argv0]), recheckSince: Infinity }).some((p) => p.pid === s.pid), 'the new process is in the quick scan');
    // the known `sleep 1000` dies (a zombie now): a quick scan looking for `sleep` reads it
    // afresh and leaves it out; one looking for something else reports what it saw last time
    process.kill(known.pid, 'SIGKILL');
    await waitFor(`pid ${known.pid} to be a zombie`, () => statusState(known.pid) === 'Z');
    assert.ok(quick.scan({ recheck: new Set([argv0]), recheckSince: Infinity }).some((p) => p.pid === known.pid), 'not looked for: taken from memory');
    assert.ok(!quick.scan({ recheck: new Set(['sleep']), recheckSince: Infinity }).some((p) => p.pid === known.pid), 'looked for: reread, a zombie is dead');
    assert.ok(!quick.scan().some((p) => p.pid === known.pid), 'a full scan reads everything');
  });

  it('a quick scan rereads a process first seen since recheckSince: a fork that execs later is found', async () => {
    const quick = createProcTable();
    const argv0 = token();
    const since = performance.now();
    // a shell first (as a restart script's child is), that execs into the program once told to
    const go = path.join(tmp, `go-${process.pid}`);
    const sh = await procs.run('bash', ['-c', `while [ ! -e ${go} ]; do sleep 0.01; done; exec -a "${argv0}" sleep 1000`], 'bash');
    assert.ok(quick.scan({ recheck: new Set([argv0]), recheckSince: since }).some((p) => p.pid === sh.pid && p.argv[0] === 'bash'));
    fs.writeFileSync(go, '');
    await waitFor('the exec', () => fs.readFileSync(`/proc/${sh.pid}/cmdline`, 'latin1').startsWith(argv0));
    const young = quick.scan({ recheck: new Set([argv0]), recheckSince: since }).find((p) => p.pid === sh.pid);
    assert.deepEqual(young?.argv, [argv0, '1000'], 'first seen after recheckSince: read afresh');
  });

  it('scan finds a sleep we started, with its pid, argv, exe, uid and start time (field 22)', async () => {
    const argv0 = token();
    const s = await procs.sleep([argv0, '1000']);
    const p = table.scan().find((q) => q.pid === s.pid);
    assert.ok(p, `pid ${s.pid} not in the scan`);
    assert.deepEqual(p.argv, [argv0, '1000']);
    assert.equal(p.exe, sleepPath);
    assert.equal(p.uid, process.getuid!());
    assert.equal(p.startTime, Number(statField(s.pid, 22)));
    assert.equal(p.startTime, s.startTime);
    assert.match(p.state, /^[RS]$/);
  });

  it('scan and read give a long command line whole (a java classpath of 100 KB), and a short one after it', async () => {
    const argv0 = token();
    const long = ['1000', '0'.repeat(5000), '0'.repeat(100_000)]; // sleep adds its arguments up
    const s = await procs.sleep([argv0, ...long]);
    const shortArgv = [token(), '1000'];
    const short = await procs.sleep(shortArgv);
    const fresh = createProcTable();
    const scanned = fresh.scan();
    assert.deepEqual(scanned.find((p) => p.pid === s.pid)?.argv, [argv0, ...long]);
    assert.deepEqual(scanned.find((p) => p.pid === short.pid)?.argv, shortArgv);
    assert.deepEqual(fresh.read(s)?.argv, [argv0, ...long]);
    assert.deepEqual(fresh.read(short)?.argv, shortArgv);
  });

  it('scan leaves out kernel threads', (t) => {
    const kthreads = fs
      .readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .filter((pid) => ((readStat(pid)?.flags ?? 0) & PF_KTHREAD) !== 0);
    assert.ok(kthreads.length > 0, 'no kernel thread visible (a pid namespace?): the test would prove nothing');
    const listed = new Set(table.scan().map((p) => p.pid));
    assert.deepEqual(kthreads.filter((pid) => listed.has(pid)), []);
    t.diagnostic(`${kthreads.length} kernel threads, none listed`);
  });

  it('scan leaves out a zombie while /proc still shows it as Z', async () => {
    const z = await procs.zombie();
    const listed = table.scan().some((p) => p.pid === z.pid);
    assert.equal(statusState(z.pid), 'Z', 'the zombie was reaped before the check; the test proved nothing');
    assert.equal(listed, false);
  });

  it('scan lists a process whose main thread has exited, though its stat says Z', async () => {
    const bin = buildLeaderExits(tmp);
    assert.ok(bin !== null, 'no C compiler (cc) to build the fixture: apt-get install gcc');
    const s = await procs.run(bin, [], 'leader-exits');
    await waitFor('the main thread to exit', () => statField(s.pid, 3) === 'Z');
    const p = table.scan().find((q) => q.pid === s.pid);
    assert.equal(p?.state, 'Z');
    assert.equal(p?.exe, bin);
    assert.equal(table.read(s)?.pid, s.pid);
  });

  it('scan no longer lists a process once it has been killed and reaped', async () => {
    const s = await procs.sleep([token(), '1000']);
    assert.ok(table.scan().some((p) => p.pid === s.pid));
    await procs.kill(s.pid);
    assert.ok(!table.scan().some((p) => p.pid === s.pid && p.startTime === s.startTime));
  });

  it('scan sees the new argv and exe after an exec that keeps the pid and start time', async () => {
    const go = path.join(tmp, 'go');
    const argv0 = token();
    const s = await procs.run('bash', ['-c', `while [ ! -e ${go} ]; do sleep 0.01; done; exec -a ${argv0} sleep 1000`], 'bash');
    const before = table.scan().find((p) => p.pid === s.pid);
    assert.equal(before?.argv[0], 'bash');
    fs.writeFileSync(go, '');
    await waitFor('the exec', () => fs.readFileSync(`/proc/${s.pid}/comm`, 'utf8') === 'sleep\n');
    const afterExec = table.scan().find((p) => p.pid === s.pid);
    assert.equal(afterExec?.startTime, before?.startTime, 'exec keeps the start time');
    assert.deepEqual(afterExec?.argv, [argv0, '1000']);
    assert.equal(afterExec?.exe, sleepPath);
  });

  it('scan sees the new argv and exe after an exec that also keeps the comm', async () => {
    // A symlink named `sleep` to bash: its comm is `sleep` before and after it execs sleep.
    const fakeSleep = path.join(tmp, 'fake', 'sleep');
    fs.mkdirSync(path.dirname(fakeSleep));
    fs.symlinkSync(fs.realpathSync('/bin/bash'), fakeSleep);
    const go = path.join(tmp, 'go-same-comm');
    const argv0 = token();
    const script = `while [ ! -e ${go} ]; do sleep 0.01; done; exec -a ${argv0} sleep 1000`;
    const s = await procs.run(fakeSleep, ['-c', script], 'sleep');
    const before = table.scan().find((p) => p.pid === s.pid);
    assert.equal(before?.exe, fs.realpathSync('/bin/bash'));
    fs.writeFileSync(go, '');
    await waitFor('the exec', () => fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').startsWith(argv0));
    const afterExec = table.scan().find((p) => p.pid === s.pid);
    assert.equal(afterExec?.startTime, before?.startTime);
    assert.deepEqual(afterExec?.argv, [argv0, '1000']);
    assert.equal(afterExec?.exe, sleepPath);
  });

  it('scan reads a process whose comm has spaces and parentheses (a symlink named so)', async () => {
    const link = path.join(tmp, 'x) (y z');
    fs.symlinkSync(sleepPath, link);
    const s = await procs.run(link, ['1000'], 'x) (y z');
    const p = table.scan().find((q) => q.pid === s.pid);
    assert.deepEqual(p?.argv, [link, '1000']);
    assert.equal(p?.startTime, s.startTime);
    assert.equal(readStat(s.pid)?.comm, 'x) (y z');
  });

  it('read returns the process for its own start time, and null for another start time', async () => {
    const s = await procs.sleep([token(), '1000']);
    assert.equal(table.read(s)?.pid, s.pid);
    assert.equal(table.read({ pid: s.pid, startTime: s.startTime + 1 }), null);
    assert.equal(table.read({ pid: s.pid, startTime: s.startTime - 1 }), null);
  });

  it('read returns null for a zombie and for a reaped process', async () => {
    const z = await procs.zombie();
    assert.equal(table.read(z), null, `zombie ${z.pid} (state now ${statusState(z.pid)}) was read`);
    const s = await procs.sleep([token(), '1000']);
    await procs.kill(s.pid);
    assert.equal(table.read(s), null, `reaped ${s.pid} (state now ${statusState(s.pid)}) was read`);
  });

  it('readStat gives state, ppid and start time of the current process', () => {
    const st = readStat(process.pid);
    assert.equal(st?.ppid, process.ppid);
    assert.equal(st?.startTime, Number(statField(process.pid, 22)));
    assert.equal(readStat(0x7fffffff), null);
  });

  it('a start time converts to a wall-clock time close to when the process started', async () => {
    const before = Date.now();
    const s = await procs.sleep([token(), '1000']);
    const ms = startTimeToEpochMs(s.startTime, readBootTime());
    // btime is whole seconds and start times are 10 ms ticks: allow a little over 1 s.
    assert.ok(Math.abs(ms - before) < 1500, `start ${ms} vs spawn ${before}`);
  });

  it('resolvePname follows symlinks and gives null for a missing file', () => {
    const link = path.join(tmp, 'sleep-link');
    fs.symlinkSync(sleepPath, link);
    assert.equal(resolvePname(link), sleepPath);
    assert.equal(resolvePname(path.join(tmp, 'missing')), null);
  });

  it('a warm scan gives the same processes as a cold one (argv and exe from the cache)', () => {
    // speed is measured by bench/, not here; this checks that the cache changes nothing
    const fresh = createProcTable();
    const key = (ps: ReturnType<typeof fresh.scan>) =>
      new Map(ps.map((p) => [p.pid, JSON.stringify([p.startTime, p.argv, p.exe, p.uid])]));
    const cold = key(fresh.scan());
    const warm = key(fresh.scan());
    let same = 0;
    for (const [pid, v] of warm) if (cold.get(pid) === v) same++;
    // processes may come and go between two scans; the rest must be identical
    assert.ok(same >= Math.min(cold.size, warm.size) - 5, `${same} of ${warm.size} identical`);
  });
});

describe('a process that rewrites its argv in place (setproctitle)', () => {
  it('is seen under its new title by a scan that looks for its program; others keep the first reading', async () => {
    const bin = path.join(tmp, 'retitle');
    const cc = spawnSync('cc', ['-O', '-o', bin, path.resolve(__dirname, '../../../test/fixtures/proc/retitle.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const p = await procs.run(bin, ['300', 'xxxxxxxxxxxxxxxx'], 'retitle');
    const table = createProcTable();
    const looked = { recheck: new Set([bin]), recheckSince: -Infinity };
    assert.equal(table.scan(looked).find((x) => x.pid === p.pid)?.argv[0], bin);
    await waitFor('the new title', () => fs.readFileSync(`/proc/${p.pid}/cmdline`, 'latin1').startsWith('retitled'));
    assert.equal(table.scan().find((x) => x.pid === p.pid)?.argv[0], bin, 'not a candidate: the cached argv');
    assert.equal(table.scan(looked).find((x) => x.pid === p.pid)?.argv[0], 'retitled');
    await procs.kill(p.pid);
  });
});

describe('candidates: the processes that may carry a name, without a readdir of /proc', () => {
  it('returns the named processes the last scan saw and those started since, read afresh; not the others', async () => {
    const table = createProcTable();
    const old = await procs.sleep([path.join(tmp, 'named-old'), '1000']);
    const other = await procs.sleep([path.join(tmp, 'other'), '1000']);
    table.scan();
    const fresh = await procs.sleep([path.join(tmp, 'named-new'), '1000']);
    const names = new Set([path.join(tmp, 'named-old'), path.join(tmp, 'named-new')]);
    const found = table.candidates!(names)!.map((p) => p.pid);
    assert.ok(found.includes(old.pid), 'seen by the scan, with the name');
    assert.ok(found.includes(fresh.pid), 'started since the scan');
    assert.ok(!found.includes(other.pid), 'seen by the scan under another name');
    await procs.kill(old.pid);
    assert.ok(!table.candidates!(names)!.some((p) => p.pid === old.pid), 'a dead one is not offered');
  });

  it('says it cannot tell before the first scan (the caller scans)', () => {
    assert.equal(createProcTable().candidates!(new Set(['x'])), null);
  });
});
