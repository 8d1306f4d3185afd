// The rooms every entry set of the process shares (src/daemon/entries/: the script queue, the
// scanner) and the shells both daemons share (src/daemon/shared/: the stop sequence, request
// parsing and reload refusal, events), with fakes of the process table and the logger.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ControlErrorCode } from '../../src/control/protocol';
import type { EntryRuntime } from '../../src/daemon/entries/entry-runtime';
import { Scanner, type Seeker } from '../../src/daemon/entries/scanner';
import { MAX_CONCURRENT_SCRIPTS, ScriptQueue } from '../../src/daemon/entries/script-queue';
import { buildEvent } from '../../src/daemon/shared/events';
import { CommandError, parseRequest, reasonOf, refuseReload } from '../../src/daemon/shared/requests';
import { StopSequence } from '../../src/daemon/shared/stop-sequence';
import { closeAll, FakeTable, memLogger, turns } from './fakes';
import type { ScanOptions } from '../../src/proc/types';

after(closeAll);

const rt = (n: number) => ({ pent: { pname: `/opt/e${n}` } }) as unknown as EntryRuntime;

describe('the restart-script queue of the process', () => {
  it('starts four scripts per loop turn, all pfiles together: each owner’s due write first, the scripts named in its next one', async () => {
    const q = new ScriptQueue();
    const started: number[] = [];
    const persisted: string[] = [];
    const a = { flushState: () => persisted.push('a'), persistSoon: () => persisted.push('a soon') };
    const b = { flushState: () => persisted.push('b'), persistSoon: () => persisted.push('b soon') };
    for (let i = 0; i < 6; i++) {
      q.push(i % 2 === 0 ? a : b, rt(i), () => {
        q.started();
        started.push(i);
      });
    }
    assert.deepEqual(started, [], 'not in the turn that queued them');
    await turns(1);
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.deepEqual(persisted, ['a', 'b', 'a soon', 'b soon']);
    await turns(1);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    q.close();
  });

  it(`runs at most ${MAX_CONCURRENT_SCRIPTS} at once: the next starts when one exits`, async () => {
    const q = new ScriptQueue();
    let running = 0;
    const owner = { flushState: () => undefined, persistSoon: () => undefined };
    for (let i = 0; i < MAX_CONCURRENT_SCRIPTS + 3; i++) {
      q.push(owner, rt(i), () => {
        q.started();
        running++;
      });
    }
    await turns(MAX_CONCURRENT_SCRIPTS);
    assert.equal(running, MAX_CONCURRENT_SCRIPTS);
    q.exited();
    await turns(2);
    assert.equal(running, MAX_CONCURRENT_SCRIPTS + 1);
    q.close();
  });

  it('drop takes one owner’s queued scripts out; after close nothing starts', async () => {
    const q = new ScriptQueue();
    const started: string[] = [];
    const a = { flushState: () => undefined, persistSoon: () => undefined };
    const b = { flushState: () => undefined, persistSoon: () => undefined };
    q.push(a, rt(1), () => started.push('a1'));
    q.push(b, rt(2), () => started.push('b2'));
    assert.deepEqual(q.drop(a).map((r) => r.pent.pname), ['/opt/e1']);
    await turns(1);
    assert.deepEqual(started, ['b2']);
    q.close();
    q.push(b, rt(3), () => started.push('b3'));
    await turns(2);
    assert.deepEqual(started, ['b2']);
  });
});

function seeker(rts: EntryRuntime[], intervalSec: number, found: string[]): Seeker {
  return { path: '/etc/test.pfile', seeking: () => rts, all: () => rts, expecting: () => false, found: (r, p) => found.push(`${r.pent.pname}=${p.pid}`), monitorIntervalSec: () => intervalSec };
}

describe('the scanner of the process', () => {
  it('one /proc scan looks for the entries of every set; none when no entry looks', () => {
    const table = new FakeTable();
    const s = new Scanner(table, memLogger().log);
    const found: string[] = [];
    const match = (name: string) => ({ pent: { pname: name, id: 1 }, pnameReal: null, matches: (p: { argv: string[] }) => p.argv[0] === name, state: {} }) as unknown as EntryRuntime;
    const a = seeker([match('/opt/a')], 10, found);
    const b = seeker([match('/opt/b')], 3, found);
    s.add(a);
    s.add(b);
    const pa = table.spawn(['/opt/a']);
    const pb = table.spawn(['/opt/b']);
    s.scan(true);
    assert.equal(table.scans, 1);
    assert.deepEqual(found.sort(), [`/opt/a=${pa.pid}`, `/opt/b=${pb.pid}`]);
    s.remove(a);
    s.remove(b);
    s.scan();
    assert.equal(table.scans, 1, 'nobody looks: no scan');
    assert.deepEqual(s.count, { full: 0, quick: 1, warm: 0 });
    s.close();
  });
});

describe('the periodic tick of the scanner', () => {
  it('with nobody looking, reads the processes started since (the table stays warm for the next death); with someone looking, scans for them instead', async () => {
    const table = new FakeTable();
    const opts: (ScanOptions | undefined)[] = [];
    const scan = table.scan.bind(table);
    table.scan = (o?: ScanOptions) => {
      opts.push(o);
      return scan(o);
    };
    const s = new Scanner(table, memLogger().log);
    const looking: EntryRuntime[] = [];
    const found: string[] = [];
    s.add(seeker(looking, 0.05, found));
    await new Promise((r) => setTimeout(r, 130));
    assert.ok(s.count.warm >= 2, `warm reads: ${s.count.warm}`);
    assert.deepEqual(s.count, { full: 0, quick: 0, warm: s.count.warm });
    assert.ok(opts.every((o) => o !== undefined && o.recheck.size === 0 && o.recheckSince === Infinity), 'known processes reused, only new ones read');
    looking.push({ pent: { pname: '/opt/x', id: 1 }, pnameReal: null, matches: () => false, state: {} } as unknown as EntryRuntime);
    const warm = s.count.warm;
    await new Promise((r) => setTimeout(r, 130));
    assert.ok(s.count.full >= 2, `full scans while looking: ${s.count.full}`);
    assert.equal(s.count.warm, warm, 'no warm read while an entry looks');
    s.close();
  });

  it('reads nothing while few pids were allocated since the last scan (an idle host)', async () => {
    const table = Object.assign(new FakeTable(), { allocated: 10, newPids: () => table.allocated });
    const s = new Scanner(table, memLogger().log);
    s.add(seeker([], 0.05, []));
    await new Promise((r) => setTimeout(r, 130));
    assert.equal(table.scans, 0, '10 new pids: no read');
    table.allocated = 500;
    await new Promise((r) => setTimeout(r, 80));
    assert.ok(table.scans >= 1, '500 new pids: read');
    s.close();
  });
});

describe('the shells both daemons share', () => {
  it('a stop runs once; a signal during it is not logged', async () => {
    const { log, lines } = memLogger();
    const stops = new StopSequence(log);
    let ran = 0;
    const stop = async () => {
      assert.equal(stops.begin(), true);
      ran++;
    };
    await stops.onSignal('SIGTERM', 15, stop);
    await stops.onSignal('SIGINT', 2, stop);
    assert.equal(ran, 1);
    assert.equal(stops.stopping, true);
    assert.deepEqual(lines, ['SIGTERM Catch (15)!!']);
    assert.equal(stops.begin(), false);
  });

  it('a command that is none is answered UNKNOWN_COMMAND with its message; other errors are thrown', () => {
    const r = parseRequest('frob', () => {
      throw new CommandError('unknown command "frob"; try: status');
    });
    assert.deepEqual(r, { ok: false, code: ControlErrorCode.UNKNOWN_COMMAND, error: 'unknown command "frob"; try: status' });
    assert.throws(() => parseRequest('x', () => {
      throw new TypeError('bug');
    }), TypeError);
    assert.deepEqual(parseRequest('status', (t) => ({ kind: t })), { kind: 'status' });
  });

  it('a refused reload is logged with its reason and answered REFUSED: padmin says refused', () => {
    const { log, lines } = memLogger();
    const r = refuseReload(log, 'padmin', reasonOf(new Error('/etc/a.pfile line 3: bad')));
    assert.deepEqual(r, { ok: false, code: ControlErrorCode.REFUSED, error: '/etc/a.pfile line 3: bad' });
    assert.deepEqual(lines, ['Reload refused (padmin): /etc/a.pfile line 3: bad; the running configuration stays']);
  });

  it('an event carries its server, subject and fields', () => {
    const e = buildEvent('group_restart', 'host1', 'web', 'restarting', { group: 'web' }, 42);
    assert.deepEqual(e, { kind: 'group_restart', at: 42, server: 'host1', subject: 'web', message: 'restarting', fields: { group: 'web' } });
  });
});
