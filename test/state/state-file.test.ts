import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readBootId,
  readStateFile,
  StateFileError,
  writeStateEntries,
  writeStateFile,
  type EntrySnapshot,
  type StateSnapshot,
} from '../../src/state/state-file';
import { syncStateFileLater } from '../../src/state/state-sync';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'procsafe-state-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

function entry(over: Partial<EntrySnapshot> = {}): EntrySnapshot {
  return {
    pentId: 1,
    signature: '/usr/bin/java|/opt/start.sh|include_strings=apache',
    pname: '/usr/bin/java',
    procSts: 'AVAIL',
    monitorSts: 'on',
    pid: 12742,
    startTime: 987654,
    retryCount: 1,
    restartCount: 3,
    rerunTime: 1318383648000,
    upSinceMono: 1234.5,
    restartPhase: null,
    ...over,
  };
}

function snapshot(entries: EntrySnapshot[] = [entry()]): StateSnapshot {
  return { version: 1, pfile: '/etc/procsafe/tomcat.pfile', pcheckPid: process.pid, writtenAt: Date.now(), bootId: readBootId(), entries };
}

describe('state file', () => {
  it('reads back exactly what was written', () => {
    const path = join(freshDir(), 'tomcat.dmp');
    const snap = snapshot([
      entry(),
      entry({ pentId: 2, procSts: 'RETRY_OVER', monitorSts: 'off', pid: null, startTime: null, rerunTime: null, upSinceMono: null }),
    ]);
    writeStateFile(path, snap);
    assert.deepEqual(readStateFile(path), { snapshot: snap });
  });

  it('accepts an entry without the optional restartPhase', () => {
    const path = join(freshDir(), 'x.dmp');
    const e = entry();
    delete e.restartPhase;
    writeStateFile(path, snapshot([e]));
    assert.ok('snapshot' in readStateFile(path));
  });

  it('creates a missing directory with mode 0700 and the file with mode 0600', () => {
    const dir = join(freshDir(), 'nested', 'dump');
    const path = join(dir, 'x.dmp');
    const oldMask = process.umask(0o022);
    try {
      writeStateFile(path, snapshot());
    } finally {
      process.umask(oldMask);
    }
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('replaces the previous file and leaves no temporary file behind', () => {
    const dir = freshDir();
    const path = join(dir, 'x.dmp');
    writeStateFile(path, snapshot([entry({ retryCount: 0 })]));
    writeStateFile(path, snapshot([entry({ retryCount: 2 })]));
    assert.deepEqual(readdirSync(dir), ['x.dmp']);
    const r = readStateFile(path);
    assert.ok('snapshot' in r);
    assert.equal(r.snapshot.entries[0].retryCount, 2);
  });

  it('resets the mode of a temporary file left over by a crashed writer with the same pid', () => {
    const dir = freshDir();
    const path = join(dir, 'x.dmp');
    writeStateFile(path, snapshot()); // creates dir
    writeFileSync(`${path}.tmp-${process.pid}`, 'torn', { mode: 0o644 });
    writeStateFile(path, snapshot());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['x.dmp']);
  });

  it('reports a missing file as missing', () => {
    assert.deepEqual(readStateFile(join(freshDir(), 'none.dmp')), { missing: true });
  });

  it('sets a torn (non-JSON) file aside and says why', () => {
    const dir = freshDir();
    const path = join(dir, 'x.dmp');
    writeStateFile(path, snapshot());
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, whole.slice(0, whole.length / 2));
    const r = readStateFile(path);
    assert.ok('corrupt' in r, JSON.stringify(r));
    assert.match(r.corrupt, /^not JSON/);
    assert.ok(r.movedTo !== null && r.movedTo.startsWith(`${path}.corrupt-`));
    assert.equal(existsSync(path), false);
    assert.equal(readFileSync(r.movedTo, 'utf8'), whole.slice(0, whole.length / 2));
  });

  it('sets aside a file another user owns, or that group or others may write: it is not trusted', () => {
    for (const [what, change, reason] of [
      ['owned by nobody', (f: string) => chownSync(f, 65534, 65534), /^owned by uid 65534, not by pcheck's user \(uid 0\): not trusted$/],
      ['mode 0620', (f: string) => chmodSync(f, 0o620), /^writable by its group \(mode 0620\): not trusted$/],
      ['mode 0602', (f: string) => chmodSync(f, 0o602), /^writable by others \(mode 0602\): not trusted$/],
    ] as const) {
      const path = join(freshDir(), 'x.dmp');
      writeStateFile(path, snapshot());
      change(path);
      const r = readStateFile(path);
      assert.ok('corrupt' in r, `${what}: ${JSON.stringify(r)}`);
      assert.match(r.corrupt, reason);
      assert.equal(existsSync(path), false, `${what}: set aside`);
    }
  });

  it('sets an empty file aside', () => {
    const dir = freshDir();
    const path = join(dir, 'x.dmp');
    writeStateFile(path, snapshot());
    writeFileSync(path, '');
    const r = readStateFile(path);
    assert.ok('corrupt' in r);
    assert.equal(r.corrupt, 'empty file');
  });

  const wrongShapes: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ['a newer version', (s) => (s.version = 2), /unsupported version 2/],
    ['a missing bootId', (s) => delete s.bootId, /"bootId" must be a string/],
    ['entries not an array', (s) => (s.entries = {}), /"entries" must be an array/],
    ['an unknown proc_sts', (s) => ((s.entries as EntrySnapshot[])[0].procSts = 'UP' as never), /entries\[0\]\.procSts has a bad value "UP"/],
    ['a string pid', (s) => ((s.entries as EntrySnapshot[])[0].pid = '12' as never), /entries\[0\]\.pid has a bad value "12"/],
    ['a negative retry count', (s) => ((s.entries as EntrySnapshot[])[0].retryCount = -1), /entries\[0\]\.retryCount/],
    ['a missing monitorSts', (s) => delete (s.entries as Partial<EntrySnapshot>[])[0].monitorSts, /entries\[0\]\.monitorSts is missing/],
  ];
  for (const [what, spoil, reason] of wrongShapes) {
    it(`sets aside valid JSON of the wrong shape: ${what}`, () => {
      const path = join(freshDir(), 'x.dmp');
      writeStateFile(path, snapshot());
      const s = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      spoil(s);
      writeFileSync(path, JSON.stringify(s));
      const r = readStateFile(path);
      assert.ok('corrupt' in r, JSON.stringify(r));
      assert.match(r.corrupt, reason);
      assert.ok(r.movedTo !== null && existsSync(r.movedTo));
    });
  }

  it('throws an error naming the path and the errno when the directory cannot be created', () => {
    const dir = freshDir();
    writeStateFile(join(dir, 'x.dmp'), snapshot()); // creates dir
    const blocker = join(dir, 'plain-file');
    writeFileSync(blocker, '');
    const path = join(blocker, 'sub', 'x.dmp'); // a directory under a regular file: ENOTDIR
    assert.throws(
      () => writeStateFile(path, snapshot()),
      (e: unknown) =>
        e instanceof StateFileError &&
        e.errno === 'ENOTDIR' &&
        e.path === path &&
        e.message.includes(path) &&
        e.message.includes('ENOTDIR'),
    );
  });

  it('throws when the target is a directory, and removes its temporary file', () => {
    const dir = freshDir();
    const path = join(dir, 'x.dmp');
    mkdirSync(join(path, 'inner'), { recursive: true }); // rename over a non-empty directory fails
    assert.throws(
      () => writeStateFile(path, snapshot()),
      (e: unknown) => e instanceof StateFileError && e.errno === 'EISDIR' && e.message.includes('(rename)'),
    );
    assert.deepEqual(readdirSync(dir), ['x.dmp']);
  });

  it('reads this boot id from the kernel', () => {
    assert.match(readBootId(), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('writes and reads a 100-entry state in milliseconds (measured)', () => {
    const path = join(freshDir(), 'x.dmp');
    const snap = snapshot(Array.from({ length: 100 }, (_, i) => entry({ pentId: i + 1 })));
    writeStateFile(path, snap);
    const N = 50;
    let t0 = performance.now();
    for (let i = 0; i < N; i++) writeStateFile(path, snap);
    const writeMs = (performance.now() - t0) / N;
    t0 = performance.now();
    for (let i = 0; i < N; i++) readStateFile(path);
    const readMs = (performance.now() - t0) / N;
    console.log(`# state file, 100 entries (${statSync(path).size} bytes): write ${writeMs.toFixed(3)} ms, read ${readMs.toFixed(3)} ms`);
    assert.ok(writeMs < 200, `${writeMs} ms per write`);
  });

  it('without sync, replaces the file at once and leaves no temporary file; the later fsync settles', async () => {
    const dir = freshDir();
    const path = join(dir, 'x.dmp');
    const errors: Error[] = [];
    const later = syncStateFileLater(path, (e) => errors.push(e));
    for (const retryCount of [0, 1, 2]) {
      writeStateFile(path, snapshot([entry({ retryCount })]), { sync: false });
      later.changed();
      const r = readStateFile(path);
      assert.ok('snapshot' in r);
      assert.equal(r.snapshot.entries[0].retryCount, retryCount, 'the new state is what a reader sees at once');
    }
    await later.settled();
    assert.equal(errors.length, 0, errors.join('; '));
    assert.deepEqual(readdirSync(dir), ['x.dmp']);
  });

  it('the later fsync of a file removed meanwhile is no error, and a failed fsync is reported', async () => {
    const errors: Error[] = [];
    const gone = syncStateFileLater(join(freshDir(), 'never-written.dmp'), (e) => errors.push(e));
    gone.changed();
    await gone.settled();
    assert.equal(errors.length, 0, errors.join('; '));
    // a character device cannot be fsynced (EINVAL): what a failing disk would report
    const failing = syncStateFileLater('/dev/null', (e) => errors.push(e));
    failing.changed();
    await failing.settled();
    assert.equal((errors[0] as NodeJS.ErrnoException | undefined)?.code, 'EINVAL');
  });

  it('a file written from entries already in JSON is the very file writeStateFile writes', () => {
    const dir = freshDir();
    const snap = snapshot([entry(), entry({ pentId: 2, pname: '/opt/app "quoted" ü', restart: { scriptRunning: true, script: null, deadlineMono: null } })]);
    const { entries, ...head } = snap;
    writeStateFile(join(dir, 'a.dmp'), snap);
    writeStateEntries(join(dir, 'b.dmp'), head, entries.map((e) => JSON.stringify(e)));
    assert.equal(readFileSync(join(dir, 'b.dmp'), 'utf8'), readFileSync(join(dir, 'a.dmp'), 'utf8'));
    assert.deepEqual(readStateFile(join(dir, 'b.dmp')), { snapshot: snap });
    writeStateEntries(join(dir, 'c.dmp'), head, []);
    assert.deepEqual(readStateFile(join(dir, 'c.dmp')), { snapshot: { ...head, entries: [] } });
  });
});
