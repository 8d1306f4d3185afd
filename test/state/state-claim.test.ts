// The claim of a state file (PATH.lock): one holder at a time, named to whoever is refused;
// released by release() or by the end of the process; without flock, a live record refuses.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimStateFile, lockPathOf, type ClaimDeps, type Holder } from '../../src/state/state-claim';
import { loadNative } from '../../src/native/index';
import { ConfigError } from '../../src/errors';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-claim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const native = loadNative();
const flock: ClaimDeps = { lock: (fd) => native!.flockExclusive!(fd), isAlive: () => true };
const holder = (pfile: string, pid = process.pid): Holder => ({ pid, startTime: 42, bootId: 'boot', pfile, ipckey: '0x1' });
let n = 0;
const stateFile = () => join(dir, `s${n++}`, 'app.dmp');

function refusedWith(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  return assert.fail('expected a refusal');
}

describe('claiming a state file', () => {
  it('the native addon has flockExclusive', () => {
    assert.equal(typeof native?.flockExclusive, 'function');
  });

  it('a second claim is refused, naming the first pfile and pcheck; after release it succeeds', () => {
    const s = stateFile();
    const first = claimStateFile(s, holder('/etc/a.pfile', 1111), flock);
    assert.equal(first.warning, null);
    assert.deepEqual(JSON.parse(readFileSync(lockPathOf(s), 'utf8')), holder('/etc/a.pfile', 1111));
    const m = refusedWith(() => claimStateFile(s, holder('/etc/b.pfile'), flock));
    assert.equal(m, `/etc/b.pfile: SHM_DUMP_FILE ${s} is used by the pcheck pid 1111 of pfile /etc/a.pfile; two pchecks cannot share a state file: give each pfile its own SHM_DUMP_FILE`);
    first.release();
    assert.equal(readFileSync(lockPathOf(s), 'utf8'), '', 'no stale record');
    claimStateFile(s, holder('/etc/b.pfile'), flock).release();
  });

  it('the same pfile held by another pcheck (an edited IPCKEY): "already watched", stop that pcheck first', () => {
    const s = stateFile();
    const first = claimStateFile(s, holder('/etc/a.pfile', 2222), flock);
    assert.match(refusedWith(() => claimStateFile(s, holder('/etc/a.pfile'), flock)), /this pfile is already watched by the pcheck pid 2222 \(IPCKEY 0x1/);
    first.release();
  });

  it('the lock ends with its process, however it ends (SIGKILL): no stale lock', () => {
    const s = stateFile();
    const script = `
      const { claimStateFile } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'state', 'state-claim.js'))});
      const n = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'native', 'index.js'))}).loadNative();
      claimStateFile(${JSON.stringify(s)}, { pid: process.pid, startTime: 1, bootId: 'b', pfile: '/etc/c.pfile', ipckey: '0x2' }, { lock: (fd) => n.flockExclusive(fd), isAlive: () => true });
      process.kill(process.pid, 'SIGKILL');`;
    try {
      execFileSync(process.execPath, ['-e', script], { stdio: 'ignore' });
    } catch {
      // killed, as meant
    }
    assert.match(readFileSync(lockPathOf(s), 'utf8'), /\/etc\/c\.pfile/, 'its record is left');
    claimStateFile(s, holder('/etc/d.pfile'), flock).release();
  });

  it('without flock: a record whose process still runs refuses; one whose process is gone is taken over', () => {
    const s = stateFile();
    const first = claimStateFile(s, holder('/etc/a.pfile', 3333), { lock: null, isAlive: () => true });
    assert.match(refusedWith(() => claimStateFile(s, holder('/etc/b.pfile'), { lock: null, isAlive: (h) => h.pid === 3333 })), /pid 3333 of pfile \/etc\/a\.pfile/);
    void first; // never released: as if that pcheck had been killed
    const taken = claimStateFile(s, holder('/etc/b.pfile'), { lock: null, isAlive: () => false });
    assert.equal(taken.warning, null);
    assert.match(readFileSync(lockPathOf(s), 'utf8'), /\/etc\/b\.pfile/);
    taken.release();
  });

  it('a symlink or a FIFO planted at PATH.lock is not followed nor waited on: a warning, and pcheck goes on', () => {
    const s = stateFile();
    claimStateFile(s, holder('/etc/x.pfile'), flock).release(); // creates the directory
    rmSync(lockPathOf(s));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, lockPathOf(s));
    const c = claimStateFile(s, holder('/etc/a.pfile'), flock);
    assert.match(c.warning ?? '', /cannot open .*\.lock \(ELOOP\); pcheck cannot tell whether another pcheck uses the same SHM_DUMP_FILE/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    rmSync(lockPathOf(s));
    execFileSync('mkfifo', [lockPathOf(s)]);
    assert.match(claimStateFile(s, holder('/etc/a.pfile'), flock).warning ?? '', /is not a regular file/);
  });
});
