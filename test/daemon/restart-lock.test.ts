// The host-wide restart lock (src/daemon/restart-lock.ts): one holder per program identity; a
// second one waits, is told who holds it, and gets it when the first releases it or ends; a wait
// that is no longer wanted ends without the lock; scripts never inherit it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockName, RestartLock, type ProgramIdentity, type RestartLockDeps } from '../../src/daemon/entries/restart-lock';
import { loadNative } from '../../src/native/index';
import { kill, sleep, waitFor } from '../helpers/harness';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-rlock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const native = loadNative();
let n = 0;
const program = (): ProgramIdentity => ({ program: `/opt/app${n++}/bin/app`, includeStrings: [], excludeStrings: [], uid: null });

function lock(me: string, warnings: string[] = [], over: Partial<RestartLockDeps> = {}): RestartLock<object> {
  return new RestartLock<object>({ lock: (fd) => native!.flockExclusive!(fd), me, warn: (m) => warnings.push(m), dirs: [dir], pollMs: 20, ...over });
}

const always = () => true;

describe('the restart lock of a program', () => {
  it('is taken at once when free; a second pcheck waits, told who holds it, and gets it at the release', async () => {
    const a = lock('pcheck A');
    const b = lock('pcheck B');
    const id = program();
    const ka = {};
    const kb = {};
    assert.equal(a.before(ka, id, always, () => assert.fail('A is not held back')), null);
    assert.ok(a.holds(ka));
    const holders: string[] = [];
    const waited = b.before(kb, id, always, (h) => holders.push(h));
    assert.ok(waited !== null, 'B is held back');
    assert.deepEqual(holders, ['pcheck A']);
    let got: boolean | null = null;
    void waited.then((v) => (got = v));
    await sleep(100);
    assert.equal(got, null, 'B still waits while A holds it');
    a.release(ka);
    await waitFor(() => got === true, 2000, 'B to get the lock');
    assert.ok(b.holds(kb));
    // A removed the file as it let go, under B's open file: B locked the file at the path again
    const c = lock('pcheck C');
    const kc = {};
    const waitedC = c.before(kc, id, always, () => undefined);
    assert.ok(waitedC !== null, 'C is held back by B');
    b.close();
    assert.equal(await waitedC, true);
    c.close();
    assert.equal(existsSync(join(dir, lockName(id))), false, 'no lock file is left behind');
    a.close();
  });

  it('a wait no longer wanted (the program was found, monitoring is off) ends without the lock', async () => {
    const a = lock('A');
    const b = lock('B');
    const id = program();
    a.before({}, id, always, () => undefined);
    let wanted = true;
    const kb = {};
    const waited = b.before(kb, id, () => wanted, () => undefined);
    wanted = false;
    assert.equal(await waited, false);
    assert.equal(b.holds(kb), false);
    a.close();
  });

  it('release or close during the wait ends it without the lock', async () => {
    const a = lock('A');
    const b = lock('B');
    const id = program();
    a.before({}, id, always, () => undefined);
    const k1 = {};
    const w1 = b.before(k1, id, always, () => undefined)!;
    b.release(k1);
    assert.equal(await w1, false);
    const w2 = b.before({}, id, always, () => undefined)!;
    b.close();
    assert.equal(await w2, false);
    assert.equal(b.before({}, id, always, () => undefined), null, 'a closed lock holds nothing back');
    a.close();
  });

  it('the lock of another process (flock(1)) holds back until that process ends', async () => {
    const id = program();
    // one process that takes the lock and keeps it (through exec) until it is killed
    const other = spawn('bash', ['-c', `exec 9>>'${join(dir, lockName(id))}' && flock -n 9 && exec sleep 30`], { stdio: 'ignore' });
    await sleep(300);
    const b = lock('B');
    const kb = {};
    const waited = b.before(kb, id, always, () => undefined);
    assert.ok(waited !== null, 'held back by the other process');
    kill(other.pid!, 'SIGKILL');
    assert.equal(await waited, true);
    assert.ok(b.holds(kb));
    b.close();
  });

  it('a child started while the lock is held does not keep it (close-on-exec)', async () => {
    const a = lock('A');
    const id = program();
    const ka = {};
    a.before(ka, id, always, () => undefined);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    a.release(ka);
    try {
      assert.equal(lock('B').before({}, id, always, () => undefined), null, 'free although the child runs');
    } finally {
      kill(child.pid!, 'SIGKILL');
    }
  });

  it('the same entry asking again (a retry of the same restart) is not held back by itself', () => {
    const a = lock('A');
    const ka = {};
    const id = program();
    assert.equal(a.before(ka, id, always, () => undefined), null);
    assert.equal(a.before(ka, id, always, () => undefined), null);
    a.close();
  });

  it('different programs do not hold each other back', () => {
    const a = lock('A');
    const b = lock('B');
    a.before({}, program(), always, () => undefined);
    assert.equal(b.before({}, program(), always, () => undefined), null);
    a.close();
    b.close();
  });

  it('without flock (no native addon), or without a usable directory, nothing is held back; the latter is told once', () => {
    const id = program();
    const a = lock('A');
    a.before({}, id, always, () => undefined);
    assert.equal(lock('B', [], { lock: null }).before({}, id, always, () => undefined), null);
    a.close();
    const warnings: string[] = [];
    // root ignores modes: a path under a regular file cannot be a directory for anyone
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const c = lock('C', warnings, { dirs: [join(file, 'sub')] });
    assert.equal(c.before({}, id, always, () => undefined), null);
    assert.equal(c.before({}, program(), always, () => undefined), null);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /no directory for restart locks/);
  });
  it('a lock directory others can write (another user may have made it) is not used: the next one is', () => {
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const warnings: string[] = [];
    const id = program();
    const a = lock('A', warnings, { dirs: [open, dir] });
    assert.equal(a.before({}, id, always, () => undefined), null);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /only it can write: not used for restart locks/);
    // the lock was taken in the next directory
    const b = lock('B');
    assert.ok(b.before({}, id, always, () => undefined) !== null, 'held in the second directory');
    b.close();
    a.close();
  });
});

describe('the name of a restart lock', () => {
  it('is the same for the same program whatever the order of its include and exclude strings', () => {
    const base = { program: '/usr/sbin/app', includeStrings: ['-a', '-b'], excludeStrings: ['x', 'y'], uid: null };
    assert.equal(lockName(base), lockName({ ...base, includeStrings: ['-b', '-a'], excludeStrings: ['y', 'x'] }));
  });

  it('differs for another program, other strings or another user', () => {
    const base = { program: '/usr/sbin/app', includeStrings: ['-a'], excludeStrings: [], uid: null };
    const names = new Set([base, { ...base, program: '/usr/sbin/other' }, { ...base, includeStrings: ['-b'] }, { ...base, excludeStrings: ['-a'] }, { ...base, uid: 0 }].map(lockName));
    assert.equal(names.size, 5);
  });
});
