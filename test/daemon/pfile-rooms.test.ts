// The rooms of pcheck -f around one entry set, with fakes of the process table, the death watcher
// and the clock: padmin's requests (src/daemon/pfile/padmin-requests.ts, also the answers for the
// pfiles of FailSafe groups) and the entry set's state (entries/entry-state-file.ts): counters
// written, and taken over by the next pcheck in the same boot.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ControlErrorCode, type ControlRequest, type ControlResponse } from '../../src/control/protocol';
import { EntrySet } from '../../src/daemon/entries/entry-set';
import { answerPadmin } from '../../src/daemon/pfile/padmin-requests';
import type { PentView } from '../../src/views/pent-view';
import { closeAll, fakeServices, memStore, pent, pfile, track, turns, type Fakes } from './fakes';

after(closeAll);

function makeSet(f: Fakes, store = memStore(), path = '/etc/app.pfile'): EntrySet {
  const set = new EntrySet({
    pfile: pfile(path, [pent(1, 'web', { retryLimit: 0 }), pent(2, 'db')]),
    services: f.services,
    socket: '/run/test.sock',
    runDir: f.runDir,
    store,
    bootId: 'boot-1',
    serverName: 'host',
    onRetryOver: () => undefined,
  });
  return track(set, (s) => s.close());
}

function padmin(f: Fakes, set: EntrySet, reloads: string[] = []) {
  const target = { set, watcher: f.services.watcher, log: f.services.log, reload: (by: 'padmin'): ControlResponse => (reloads.push(by), { ok: false, code: ControlErrorCode.REFUSED, error: 'line 3: bad' }) };
  return (command: string, args?: ControlRequest['args']) => answerPadmin(target, { command, args });
}

describe("padmin's requests to the entries of one pfile", () => {
  it('show pent: text, JSON, or both; stop pent ID turns one entry off and logs the command', () => {
    const f = fakeServices();
    f.table.spawn(['/opt/web']);
    const set = makeSet(f);
    set.start();
    const ask = padmin(f, set);
    const both = ask('show pent');
    assert.ok(both.ok && typeof both.text === 'string' && Array.isArray(both.data));
    const json = ask('show pent', { format: 'json' });
    assert.ok(json.ok && json.text === undefined);
    assert.deepEqual((json.data as PentView[]).map((v) => v.proc_sts), ['AVAIL', 'WAIT']);
    const off = ask('stop pent 2');
    assert.ok(off.ok);
    assert.equal((off.data as PentView).monitor_sts, 'off');
    assert.ok(f.lines.includes("Command execute. [stop pent 2] pfile='/etc/app.pfile'"), f.lines.join('\n'));
  });

  it('an unknown pent_id, an unknown command and another pfile are refused with what to do', () => {
    const f = fakeServices();
    const set = makeSet(f);
    set.start();
    const ask = padmin(f, set);
    const none = ask('reset pent 9');
    assert.ok(!none.ok && none.code === ControlErrorCode.BAD_ARGUMENT && /pent_id 1 to 2/.test(none.error));
    const bad = ask('restart everything');
    assert.ok(!bad.ok && bad.code === ControlErrorCode.UNKNOWN_COMMAND && /commands: show pent/.test(bad.error));
    const other = ask('show pent', { pfile: '/etc/other.pfile' });
    assert.ok(!other.ok && other.code === ControlErrorCode.WRONG_PFILE);
  });

  it('reload is the daemon’s: its refusal reaches padmin as it is', () => {
    const f = fakeServices();
    const set = makeSet(f);
    set.start();
    const reloads: string[] = [];
    const r = padmin(f, set, reloads)('reload');
    assert.deepEqual(reloads, ['padmin']);
    assert.ok(!r.ok && r.code === ControlErrorCode.REFUSED && r.error === 'line 3: bad');
  });
});

describe('the state of an entry set', () => {
  it('is written at each change and taken over by the next pcheck of the same boot', async () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web']);
    const store = memStore();
    const first = makeSet(f, store);
    first.start();
    first.pent('stop', 2);
    f.watcher.die(web.pid, f.table); // retry_limit 0: RETRY_OVER at once, no script
    await turns();
    assert.equal(first.views()[0].proc_sts, 'RETRY_OVER');
    first.close();
    assert.deepEqual(store.saved?.entries.map((e) => [e.procSts, e.monitorSts]), [['RETRY_OVER', 'on'], ['WAIT', 'off']]);

    // a pcheck started after this one was SIGKILLed (no end recorded): the same boot goes on
    const g = fakeServices();
    const again = g.table.spawn(['/opt/web']);
    const second = makeSet(g, store);
    second.start();
    const [w, d] = second.views();
    assert.equal(w.pid, again.pid);
    assert.equal(d.monitor_sts, 'off', 'the operator turned it off: it stays off');
    assert.ok(g.lines.includes('(/opt/db) restored: retry_count=0 restart_count=0 monitor_sts=off'), g.lines.join('\n'));
  });

  it('a write that fails is said once; monitoring goes on', async () => {
    const f = fakeServices();
    const web = f.table.spawn(['/opt/web']);
    const store = memStore();
    store.fail = 'ENOSPC: no space left on device';
    const set = makeSet(f, store);
    set.start();
    set.pent('stop', 2);
    f.watcher.die(web.pid, f.table);
    await turns();
    assert.equal(set.views()[0].proc_sts, 'RETRY_OVER', 'the death was handled');
    assert.equal(f.lines.filter((l) => l.startsWith('Cannot write state file: ENOSPC')).length, 1, f.lines.join('\n'));
  });
});
