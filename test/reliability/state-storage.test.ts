// The state file under storage faults, with the real pcheck: a read-only directory, a full
// disk (both on a private tmpfs mounted inside the sandbox), and a torn, corrupt, or planted
// file at start-up. Monitoring must go on; each error is logged once per change, not once per
// heal; the last good file is never replaced by a torn one; a bad file is set aside with its
// bytes intact and a symlink is never followed.
import { after, afterEach, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statfsSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, waitFor, type Pcheck, type Service } from '../helpers/harness';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog';

/** The files in `dir`, sorted, but for the lock file next to the state file (PATH.lock, which
 *  stays while pcheck runs and after: it is no temporary file). */
function files(dir: string): string {
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.dmp.lock'))
    .sort()
    .join(' ');
}

const WRITE_ERROR = 'Cannot write state file';
const WRITTEN_AGAIN = 'written again';
const HEALS = 3;

// ---- mounts: only under the sandbox, always unmounted ----------------------------------

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
}

function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir]);
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
  }
}

// ---- reading what pcheck did ---------------------------------------------------------

interface Snap {
  version: number;
  pcheckPid: number;
  entries: { restartCount: number; pid: number | null; procSts: string }[];
}

function readSnap(path: string): Snap {
  return JSON.parse(readFileSync(path, 'utf8')) as Snap;
}

function count(lines: string[], text: string): number {
  return lines.filter((l) => l.includes(text)).length;
}

function fileLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Kills the watched process and waits until pcheck reports a new one Up; returns its pid and the heal time (ms). */
async function healOnce(pc: Pcheck, svc: Service, pid: number): Promise<{ pid: number; ms: number }> {
  const from = pc.lines.length;
  const t0 = performance.now();
  kill(pid, 'SIGKILL');
  const up = await pc.waitLine(new RegExp(`\\(${escapeRe(svc.pname)} ,pid=(\\d+)\\) Up`), 15_000, from);
  const next = Number(/pid=(\d+)\) Up/.exec(up.text)![1]);
  assert.notEqual(next, pid);
  return { pid: next, ms: up.at - t0 };
}

function report(t: TestContext, what: string, figures: Record<string, unknown>): void {
  t.diagnostic(`${what}: ${JSON.stringify(figures)}`);
}

// ---- 1. read-only directory ----------------------------------------------------------

describe('state file directory becomes read-only (tmpfs remounted ro), with a real rsyslogd', () => {
  const sb = new Sandbox();
  const mnt = join(sb.dir, 'ro-mnt');
  let rs: Rsyslog | null = null;
  after(async () => {
    await rs?.stop();
    unmount(mnt);
    sb.cleanup();
  });

  it('keeps healing, logs the error once in every sink, and logs "written again" once when writable', async (t) => {
    rs = await startRsyslog(sb.dir);
    mountTmpfs(mnt, '1m');
    const state = join(mnt, 'state.dmp');
    const logFile = join(sb.dir, 'pcheck.log');
    const svc = sb.service();
    const pfile = sb.pfile({
      param: { SHM_DUMP_FILE: state, MONITOR_INTERVAL: 1, SYSLOG: 'on', SYSLOG_SOCKET: rs.sock },
      pents: [`${svc.pname}:${svc.script}:0:50:exit`],
    });
    let pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    await waitFor(() => existsSync(state) && readSnap(state).pcheckPid === pc.pid, 5000, 'the first state file');
    const good = readFileSync(state);

    remount(mnt, 'ro');
    const heals: number[] = [];
    for (let i = 0; i < HEALS; i++) {
      const h = await healOnce(pc, svc, pid);
      pid = h.pid;
      heals.push(h.ms);
      assert.deepEqual(readFileSync(state), good, 'the file on the read-only fs is the last good one');
    }
    // a few failed retries on the scan timer (MONITOR_INTERVAL 1 s) pass, still one line
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(pc.count(WRITE_ERROR), 1, pc.lines.map((l) => l.text).join('\n'));
    assert.match(pc.lines.find((l) => l.text.includes(WRITE_ERROR))!.text, /EROFS/);
    assert.equal(sb.showPent(pfile)[0].restart_count, String(HEALS), 'monitoring went on');

    const t0 = performance.now();
    remount(mnt, 'rw');
    // no state change needed: the failed write is retried on the scan timer
    const again = await pc.waitLine(WRITTEN_AGAIN, 10_000);
    const recoverMs = again.at - t0;
    const snap = readSnap(state);
    assert.equal(snap.entries[0].restartCount, HEALS);
    assert.equal(snap.entries[0].pid, pid);
    assert.equal(snap.pcheckPid, pc.pid);

    pid = (await healOnce(pc, svc, pid)).pid;
    await waitFor(() => readSnap(state).entries[0].pid === pid, 5000, 'the state file to follow the heal');
    assert.equal(readSnap(state).entries[0].restartCount, HEALS + 1);
    await waitFor(() => files(mnt) === 'state.dmp', 2000, 'no temporary file left');

    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    // the same counts in the log file and in syslog
    for (const [sink, lines] of [
      ['stdout', pc.lines.map((l) => l.text)],
      ['LOG_FILE', fileLines(logFile)],
      ['syslog', await waitFor(() => (count(fileLines(rs!.out), 'Stop pcheck!!') > 0 ? fileLines(rs!.out) : null), 5000, 'syslog')],
    ] as const) {
      assert.equal(count(lines, WRITE_ERROR), 1, `${sink}: one error line`);
      assert.equal(count(lines, WRITTEN_AGAIN), 1, `${sink}: one "written again" line`);
    }
    assert.ok(fileLines(rs.out).some((l) => l.startsWith('daemon.err ') && l.includes(WRITE_ERROR)), 'syslog severity err');
    report(t, 'read-only', { heals: HEALS + 1, healMs: heals.map(Math.round), errorLines: 1, writtenAgainMs: Math.round(recoverMs) });
  });
});

// ---- 2. full disk ---------------------------------------------------------------------

describe('state file on a full disk (64 KiB tmpfs filled by a big file)', () => {
  const sb = new Sandbox();
  const mnt = join(sb.dir, 'full-mnt');
  after(() => {
    unmount(mnt);
    sb.cleanup();
  });

  it('keeps healing, logs ENOSPC once, never tears the last good file, leaves no temporary file', async (t) => {
    mountTmpfs(mnt, '64k');
    const state = join(mnt, 'state.dmp');
    const fill = join(mnt, 'fill');
    const svc = sb.service();
    const pfile = sb.pfile({ param: { SHM_DUMP_FILE: state, MONITOR_INTERVAL: 1 }, pents: [`${svc.pname}:${svc.script}:0:50:exit`] });
    let pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    await waitFor(() => existsSync(state) && readSnap(state).pcheckPid === pc.pid, 5000, 'the first state file');
    const good = readFileSync(state);

    // fill every free block
    const fd = openSync(fill, 'w');
    let filled = 0;
    try {
      for (;;) filled += writeSync(fd, Buffer.alloc(4096, 0x55));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    } finally {
      closeSync(fd);
    }
    const fs = statfsSync(mnt);
    assert.equal(fs.bavail, 0, 'the tmpfs is full');

    const heals: number[] = [];
    for (let i = 0; i < HEALS; i++) {
      const h = await healOnce(pc, svc, pid);
      pid = h.pid;
      heals.push(h.ms);
      // the old file is byte for byte the last good one; the failed temporary file is removed
      // (waited for: this test may list the directory while pcheck is inside a write)
      assert.deepEqual(readFileSync(state), good);
      await waitFor(() => files(mnt) === 'fill state.dmp', 2000, `no temporary file: ${files(mnt)}`);
    }
    await new Promise((r) => setTimeout(r, 2500)); // failed retries on the 1 s scan timer
    await waitFor(() => files(mnt) === 'fill state.dmp', 2000, `no temporary file: ${files(mnt)}`);
    assert.equal(pc.count(WRITE_ERROR), 1, pc.lines.map((l) => l.text).join('\n'));
    assert.match(pc.lines.find((l) => l.text.includes(WRITE_ERROR))!.text, /ENOSPC/);
    assert.equal(readSnap(state).entries[0].restartCount, 0, 'the last good file');

    const t0 = performance.now();
    unlinkSync(fill);
    const again = await pc.waitLine(WRITTEN_AGAIN, 10_000);
    const recoverMs = again.at - t0;
    const snap = readSnap(state);
    assert.equal(snap.entries[0].restartCount, HEALS);
    assert.equal(snap.entries[0].pid, pid);
    pid = (await healOnce(pc, svc, pid)).pid;
    await waitFor(() => readSnap(state).entries[0].pid === pid, 5000, 'the state file to follow the heal');
    await waitFor(() => files(mnt) === 'state.dmp', 2000, 'no temporary file left');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    const log = fileLines(join(sb.dir, 'pcheck.log'));
    assert.equal(count(log, WRITE_ERROR), 1);
    assert.equal(count(log, WRITTEN_AGAIN), 1);
    report(t, 'disk full', { filledBytes: filled, heals: HEALS + 1, healMs: heals.map(Math.round), errorLines: 1, writtenAgainMs: Math.round(recoverMs) });
  });
});

// ---- 3. a bad state file at start-up --------------------------------------------------

describe('a torn, corrupt or planted state file at start-up', () => {
  const sb = new Sandbox();
  const svc = sb.service();
  const state = join(sb.dir, 'state.dmp');
  const target = join(sb.dir, 'symlink-target.json');
  let pfile = '';
  let good = Buffer.alloc(0);
  let pid = 0;
  let running: Pcheck | null = null;
  after(() => sb.cleanup());
  // a failed case must not leave its pcheck holding the IPCKEY for the next one
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      kill(running.pid, 'SIGKILL');
      await running.exited;
    }
    running = null;
  });

  before(async () => {
    // a real state file with restart_count 1, written by a real pcheck
    pfile = sb.pfile({ param: { SHM_DUMP_FILE: state }, pents: [`${svc.pname}:${svc.script}:0:50:exit`] });
    pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    pid = (await healOnce(pc, svc, pid)).pid;
    await waitFor(() => existsSync(state) && readSnap(state).entries[0].pid === pid, 5000, 'the state file');
    // killed, not stopped: the file of a pcheck stopped on purpose starts the next one fresh
    kill(pc.pid, 'SIGKILL');
    await pc.exited;
    good = readFileSync(state);
    assert.equal(readSnap(state).entries[0].restartCount, 1);
  });

  it('control: a good file is restored (so "zero counters" below means the file was refused)', async () => {
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    assert.equal(sb.showPent(pfile)[0].restart_count, '1');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    writeFileSync(state, good); // exactly the bytes of the first pcheck
  });

  const spoil = (f: (s: Record<string, unknown>) => void) => () => {
    const s = JSON.parse(good.toString('utf8')) as Record<string, unknown>;
    f(s);
    writeFileSync(state, JSON.stringify(s));
  };
  const variants: { name: string; reason: RegExp; plant: () => void; kind?: 'dir' | 'symlink' | 'fifo' }[] = [
    { name: 'truncated JSON (torn write)', reason: /not JSON \(ends early/, plant: () => writeFileSync(state, good.subarray(0, good.length >> 1)) },
    {
      name: 'garbage bytes',
      reason: /not JSON/,
      plant: () => writeFileSync(state, Buffer.concat([Buffer.from('SECRET-0123 '), Buffer.from([0, 1, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 10, 13, 0x80])])),
    },
    { name: 'valid JSON of the wrong shape', reason: /"entries" must be an array/, plant: spoil((s) => (s.entries = { a: 1 })) },
    { name: 'a wrong version', reason: /unsupported version 2 \(expected 1\)/, plant: spoil((s) => (s.version = 2)) },
    { name: 'a zero-length file', reason: /empty file/, plant: () => writeFileSync(state, '') },
    {
      name: 'a directory in its place',
      reason: /a directory, not a regular file/,
      kind: 'dir',
      plant: () => {
        mkdirSync(state);
        writeFileSync(join(state, 'inside'), 'kept');
      },
    },
    {
      name: 'a symlink in its place (to a good state file elsewhere)',
      reason: /a symbolic link, not followed/,
      kind: 'symlink',
      plant: () => {
        writeFileSync(target, good);
        symlinkSync(target, state);
      },
    },
    { name: 'a FIFO in its place', reason: /not a regular file/, kind: 'fifo', plant: () => execFileSync('mkfifo', ['-m', '0600', state]) },
  ];

  for (const v of variants) {
    it(`${v.name}: set aside with its bytes, one log line, zero counters, and pcheck heals`, async () => {
      rmSync(state, { recursive: true, force: true });
      for (const f of readdirSync(sb.dir)) if (f.startsWith('state.dmp.corrupt-')) rmSync(join(sb.dir, f), { recursive: true });
      v.plant();
      const planted = v.kind ? null : readFileSync(state);
      const t0 = Date.now();
      const pc = (running = sb.pcheck(pfile));
      const line = await pc.waitLine(`State file ${state} is corrupt`, 10_000);
      await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
      assert.match(line.text, v.reason);
      assert.match(line.text, /set aside as .*\.corrupt-\d+; starting with zero counters$/);
      for (const leak of ['SECRET', '\x1b', '\0', '\uFFFD']) assert.ok(!line.text.includes(leak), `none of the file’s bytes reach the log: ${line.text}`);
      assert.equal(pc.count('is corrupt'), 1);

      // the bad file is kept aside, unchanged
      const aside = readdirSync(sb.dir).filter((f) => f.startsWith('state.dmp.corrupt-'));
      assert.equal(aside.length, 1, aside.join(' '));
      const ms = Number(aside[0].slice('state.dmp.corrupt-'.length));
      assert.ok(ms >= t0 - 1000 && ms <= Date.now(), `the suffix is the epoch ms: ${ms}`);
      assert.ok(line.text.includes(join(sb.dir, aside[0])));
      const movedTo = join(sb.dir, aside[0]);
      if (v.kind === 'dir') assert.equal(readFileSync(join(movedTo, 'inside'), 'utf8'), 'kept');
      else if (v.kind === 'symlink') {
        assert.ok(lstatSync(movedTo).isSymbolicLink());
        assert.equal(readlinkSync(movedTo), target);
      } else if (v.kind === 'fifo') assert.ok(lstatSync(movedTo).isFIFO());
      else assert.deepEqual(readFileSync(movedTo), planted);

      // zero counters, and it works: a kill is healed and written to a new regular file
      assert.equal(sb.showPent(pfile)[0].restart_count, '0');
      pid = (await healOnce(pc, svc, pid)).pid;
      await waitFor(() => lstatSync(state).isFile() && readSnap(state).entries[0].pid === pid, 5000, 'a new state file');
      assert.equal(readSnap(state).entries[0].restartCount, 1);
      assert.equal(readSnap(state).pcheckPid, pc.pid);
      if (v.kind === 'symlink') assert.deepEqual(readFileSync(target), good, 'the symlink’s target is not written');
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
      assert.equal(pc.count(WRITE_ERROR), 0);
      assert.deepEqual(
        readdirSync(sb.dir).filter((f) => f.startsWith('state.dmp') && !f.includes('.corrupt-') && f !== 'state.dmp.lock'),
        ['state.dmp'],
        'no temporary file is left',
      );
    });
  }

  it('symlinks planted while pcheck runs, at PATH and at its temporary file, are never written through', async () => {
    rmSync(state, { recursive: true, force: true });
    const pc = (running = sb.pcheck(pfile));
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    await waitFor(() => existsSync(state) && readSnap(state).pcheckPid === pc.pid, 5000, 'the state file');
    const victim = join(sb.dir, 'victim');
    writeFileSync(victim, 'precious\n');
    rmSync(state);
    symlinkSync(victim, state);
    symlinkSync(victim, `${state}.tmp-${pc.pid}`);
    pid = (await healOnce(pc, svc, pid)).pid;
    // the temporary file is created O_EXCL|O_NOFOLLOW: the planted link there is removed, not
    // followed; the rename then replaces the link at PATH itself, not its target
    await waitFor(() => lstatSync(state).isFile() && readSnap(state).entries[0].pid === pid, 5000, 'a regular state file');
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the symlinks’ target is untouched');
    // gone (a write that follows, e.g. when the restart script exits, has its own for a moment)
    await waitFor(() => !existsSync(`${state}.tmp-${pc.pid}`), 2000, 'the planted temporary file to be gone');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.equal(pc.count(WRITE_ERROR), 0, 'no write failed');
  });
});
