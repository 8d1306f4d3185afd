// The entry set (src/daemon/entries/entry-set.ts) with a fake process table, death watcher and
// clock: its typed operations, and that the sets of one process share one scan and one watcher.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntrySet } from '../../src/daemon/entries/entry-set';
import type { RetryOverAction } from '../../src/core/states';
import { closeAll, fakeServices, memStore, pent, pfile, track, turns, type Fakes } from './fakes';

after(closeAll);

function makeSet(f: Fakes, path: string, names: string[], o: { store?: ReturnType<typeof memStore>; action?: RetryOverAction; retryOvers?: string[] } = {}): EntrySet {
  const set = new EntrySet({
    pfile: pfile(path, names.map((n, i) => pent(i + 1, n, { retryOverAction: o.action ?? 'none', retryLimit: 0 }))),
    services: f.services,
    socket: '/run/test.sock',
    runDir: f.runDir,
    store: o.store ?? null,
    bootId: 'boot-1',
    serverName: 'host',
    onRetryOver: (action, rt) => o.retryOvers?.push(`${rt.pent.pname} ${action}`),
  });
  return track(set, (s) => s.close());
}

describe('an entry set', () => {
  it('finds the processes of its entries at start: AVAIL, watched, written to its state', () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web', '-d']);
    const store = memStore();
    const set = makeSet(f, '/etc/a.pfile', ['web', 'db'], { store });
    set.start();
    const [w, d] = set.views();
    assert.equal(w.proc_sts, 'AVAIL');
    assert.equal(w.pid, web.pid);
    assert.equal(d.proc_sts, 'WAIT');
    assert.deepEqual([...f.watcher.watches.keys()], [web.pid]);
    assert.equal(store.saved?.entries.length, 2);
    assert.ok(f.lines.includes(`(/opt/web ,pid=${web.pid}) Up`));
  });

  it('a death is logged Down and, at retry-over, handed to the daemon as a typed action', async () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web']);
    const retryOvers: string[] = [];
    const set = makeSet(f, '/etc/a.pfile', ['web'], { action: 'group', retryOvers });
    set.start();
    f.watcher.die(web.pid, f.table);
    await turns();
    assert.ok(f.lines.includes(`Process [/opt/web , pid=${web.pid}] Down`), f.lines.join('\n'));
    assert.deepEqual(retryOvers, ['/opt/web group']);
    assert.equal(set.views()[0].proc_sts, 'RETRY_OVER');
  });

  it('held off (its group not Online) a death restarts nothing; the group Online watches again with counters from 0', async () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web']);
    const retryOvers: string[] = [];
    const set = makeSet(f, '/etc/a.pfile', ['web'], { action: 'group', retryOvers });
    set.start(true);
    assert.equal(set.views()[0].monitor_sts, 'off');
    f.watcher.die(web.pid, f.table);
    await turns();
    assert.deepEqual(retryOvers, []);
    const again = f.table.spawn(['/opt/web']);
    set.groupOnline(true, 'app');
    f.services.scanner.scan();
    assert.equal(set.views()[0].monitor_sts, 'on');
    assert.equal(set.views()[0].pid, again.pid);
    assert.ok(f.lines.includes("pfile='/etc/a.pfile': monitoring on (group app online)"));
  });

  it('stop|start|reset pent act on one entry; an unknown pent_id is null', () => {
    const f = fakeServices();
    f.table.spawn(['/opt/web']);
    const set = makeSet(f, '/etc/a.pfile', ['web', 'db']);
    set.start();
    assert.equal(set.pent('stop', 2)?.monitor_sts, 'off');
    assert.equal(set.views()[0].monitor_sts, 'on');
    assert.equal(set.pent('start', 2)?.monitor_sts, 'on');
    assert.equal(set.pent('reset', 9), null);
  });

  it('notRunning names the entries whose program does not run now', () => {
    const f = fakeServices();
    f.table.spawn(['/opt/web']);
    const set = makeSet(f, '/etc/a.pfile', ['web', 'db']);
    set.start(true);
    assert.deepEqual(set.notRunning().map((rt) => rt.pent.pname), ['/opt/db']);
  });

  it('apply (reload) keeps an unchanged entry with its process and watch, adds the new one, lets the removed one go', () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web']);
    const db = f.table.spawn(['/opt/db']);
    const set = makeSet(f, '/etc/a.pfile', ['web', 'db']);
    set.start();
    set.apply(pfile('/etc/a.pfile', [pent(1, 'web', { retryLimit: 0 }), pent(2, 'cache')]));
    const v = set.views();
    assert.deepEqual(v.map((e) => [e.pname, e.proc_sts]), [['/opt/web', 'AVAIL'], ['/opt/cache', 'WAIT']]);
    assert.equal(v[0].pid, web.pid);
    assert.ok(!f.watcher.watches.has(db.pid), 'the removed entry is no longer watched');
  });

  it('close stops watching, leaves the scanner and ignores what comes after', async () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web']);
    const set = makeSet(f, '/etc/a.pfile', ['web', 'db']);
    set.start();
    assert.deepEqual(set.close(), []);
    assert.equal(f.watcher.watches.size, 0);
    const scans = f.table.scans;
    f.services.scanner.scan();
    assert.equal(f.table.scans, scans, 'no entry of a closed set is looked for');
    set.pent('stop', 1);
    assert.equal(set.views()[0].monitor_sts, 'on');
    f.watcher.die(web.pid);
  });
});

describe('entry sets of one process share the edges', () => {
  it('three pfiles: one death watcher, and one /proc scan looks for the missing entries of all three', () => {
    const f = fakeServices();
    const sets = ['a', 'b', 'c'].map((n) => makeSet(f, `/etc/${n}.pfile`, [`${n}-up`, `${n}-missing`]));
    for (const n of ['a', 'b', 'c']) f.table.spawn([`/opt/${n}-up`]);
    for (const s of sets) s.start();
    const before = f.table.scans;
    f.services.scanner.scan();
    assert.equal(f.table.scans - before, 1);
    assert.equal(f.watcher.watches.size, 3, 'the three running entries, on the one watcher');
    for (const n of ['a', 'b', 'c']) f.table.spawn([`/opt/${n}-missing`]);
    f.services.scanner.scan();
    assert.ok(sets.every((s) => s.views().every((v) => v.proc_sts === 'AVAIL')));
  });

  it('deaths in two pfiles in one loop turn are looked at together: one look at what runs', async () => {
    const f = fakeServices();
    const a = makeSet(f, '/etc/a.pfile', ['a']);
    const b = makeSet(f, '/etc/b.pfile', ['b']);
    const pa = f.table.spawn(['/opt/a']);
    const pb = f.table.spawn(['/opt/b']);
    a.start();
    b.start();
    const before = f.table.scans;
    f.watcher.die(pa.pid, f.table);
    f.watcher.die(pb.pid, f.table);
    // the look runs in the next turn; later turns may bring the seek scans of a busy host
    await turns(1);
    assert.equal(f.table.scans - before, 1, 'one scan for both deaths');
    await turns();
    assert.equal(a.views()[0].proc_sts, 'RETRY_OVER');
    assert.equal(b.views()[0].proc_sts, 'RETRY_OVER');
  });

  it('a process another set watches is never taken for a successor', async () => {
    const f = fakeServices();
    const a = makeSet(f, '/etc/a.pfile', ['app']);
    const b = track(new EntrySet({
      pfile: pfile('/etc/b.pfile', [pent(1, 'app', { includeStrings: ['--b'] })]),
      services: f.services,
      socket: '/run/b.sock',
      runDir: f.runDir,
      store: null,
      bootId: 'boot-1',
      serverName: 'host',
      onRetryOver: () => undefined,
    }), (s) => s.close());
    const first = f.table.spawn(['/opt/app']);
    a.start();
    const other = f.table.spawn(['/opt/app', '--b']);
    b.start();
    assert.equal(b.views()[0].pid, other.pid);
    f.watcher.die(first.pid, f.table);
    await turns();
    assert.notEqual(a.views()[0].pid, other.pid, "b's process is b's");
    assert.equal(a.views()[0].proc_sts, 'RETRY_OVER');
  });

  it('a process an entry of another pfile watches is never adopted by a looking entry: said once, and it keeps looking', () => {
    const f = fakeServices();
    const a = makeSet(f, '/etc/a.pfile', ['app']);
    const b = makeSet(f, '/etc/b.pfile', ['app']);
    const p = f.table.spawn(['/opt/app']);
    a.start();
    b.start();
    assert.equal(a.views()[0].pid, p.pid);
    assert.equal(b.views()[0].pid, null, "a's process is not b's");
    f.services.scanner.scan();
    const told = f.lines.filter((l) => l.includes(`pid=${p.pid} matches but is watched by pent_id 1 of pfile '/etc/a.pfile': not adopted`));
    assert.equal(told.length, 1, f.lines.join('\n'));
    const own = f.table.spawn(['/opt/app']);
    f.services.scanner.scan();
    assert.equal(b.views()[0].pid, own.pid, 'a process of its own is adopted');
  });
});
