import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WriteQueue, type WriteResult } from '../../src/log/write-queue';

/** A destination that takes `room` bytes at a time (0: full), recording what it got. */
function destination(opts: { datagrams?: boolean; max?: number } = {}) {
  const got: string[] = [];
  const reports: string[] = [];
  let room = Infinity;
  let gone = false;
  const q = new WriteQueue({
    name: 'dest',
    datagrams: opts.datagrams,
    maxBytes: opts.max ?? 1024,
    tryWrite: (b): WriteResult => {
      if (gone) return 'gone';
      if (room <= 0 || (opts.datagrams && b.length > room)) return 'full';
      const n = Math.min(room, b.length);
      room -= n;
      got.push(b.subarray(0, n).toString());
      return n;
    },
    marker: (n) => Buffer.from(`[${n} dropped]`),
    report: (sev, m, alsoHere) => reports.push(`${sev}${alsoHere ? '+here' : ''}: ${m}`),
  });
  return {
    q,
    got,
    reports,
    text: () => got.join(''),
    room: (n: number) => (room = n),
    gone: () => (gone = true),
  };
}

describe('write queue: a destination that may stop reading', () => {
  it('writes at once while the destination takes everything', () => {
    const d = destination();
    d.q.write(Buffer.from('a\n'));
    d.q.write(Buffer.from('b\n'));
    assert.equal(d.text(), 'a\nb\n');
    assert.equal(d.q.pending, 0);
    assert.deepEqual(d.reports, []);
  });

  it('keeps what does not fit, in order, and finishes a line it began', () => {
    const d = destination();
    d.room(3);
    d.q.write(Buffer.from('hello\n'));
    d.q.write(Buffer.from('world\n'));
    assert.equal(d.text(), 'hel');
    d.room(Infinity);
    assert.equal(d.q.pump(), true);
    assert.equal(d.text(), 'hello\nworld\n');
    assert.deepEqual(d.reports, [], 'nothing was dropped: nothing to report');
  });

  it('beyond the bound drops the oldest lines not begun, marks where, and reports drop and recovery', () => {
    const d = destination({ max: 20 });
    d.room(2);
    for (const l of ['line-1\n', 'line-2\n', 'line-3\n', 'line-4\n', 'line-5\n']) d.q.write(Buffer.from(l));
    assert.equal(d.reports.length, 1);
    assert.match(d.reports[0], /^warning: dest is not reading: /);
    d.room(Infinity);
    d.q.pump();
    // line-1 was begun (2 bytes written): finished; line-2 and line-3 dropped, said where
    assert.equal(d.text(), 'line-1\n[2 dropped]line-4\nline-5\n');
    assert.match(d.reports[1], /^notice\+here: dest is reading again: 2 line\(s\) were dropped from it since /);
  });

  it('datagrams: a line is taken whole or waits', () => {
    const d = destination({ datagrams: true });
    d.room(4);
    d.q.write(Buffer.from('abcdef'));
    assert.deepEqual(d.got, []);
    d.room(6);
    d.q.pump();
    assert.deepEqual(d.got, ['abcdef']);
  });

  it('a destination gone for good (EPIPE): lines are dropped at once, counted, said once', () => {
    const d = destination();
    d.gone();
    d.q.write(Buffer.from('x\n'));
    d.q.write(Buffer.from('y\n'));
    assert.equal(d.q.pending, 0);
    assert.equal(d.reports.length, 1);
    assert.match(d.reports[0], /^warning: dest cannot be written any more/);
  });
});
