// Which process carries a program on after a death, and which are orphaned workers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FORK_WINDOW_MS, afterDeath, type Candidate } from '../../src/core/successor-policy';

const PNAME = '/usr/sbin/apache2';
const dead = { pid: 100, argv0: PNAME, sid: 100 };
const c = (pid: number, over: Partial<Candidate> = {}): Candidate => ({ pid, startTime: pid, argv0: PNAME, sid: 100, ageMs: 60_000, ...over });
const id = (pid: number) => ({ pid, startTime: pid });

describe('afterDeath', () => {
  it('a child that left the session (setsid: the daemonizing step) is the successor, even retitled', () => {
    const r = afterDeath({ pid: 100, argv0: '/usr/sbin/nginx', sid: 50 }, '/usr/sbin/nginx', [
      c(101, { argv0: 'nginx: master process /usr/sbin/nginx', sid: 101, ageMs: 5 }),
      c(102, { argv0: 'nginx: worker process', sid: 101, ageMs: 3 }),
    ]);
    assert.deepEqual(r, { successor: id(101), workers: [] });
  });

  it('the one fresh fork left in the session with the same argv[0] is the successor (the second fork of a double fork, a child the parent waited for)', () => {
    assert.deepEqual(afterDeath(dead, PNAME, [c(101, { ageMs: 20 })]).successor, id(101));
    assert.deepEqual(afterDeath(dead, PNAME, [c(101, { ageMs: 1500 })]).successor, id(101));
  });

  it('a process pcheck killed (a hang) has no fork successor: its vfork child is a worker', () => {
    assert.deepEqual(afterDeath(dead, PNAME, [c(101, { ageMs: 20 })], false), { successor: null, workers: [id(101)] });
  });

  it("apache's children (same argv, same session) are workers, not successors: old ones, or several fresh ones", () => {
    assert.deepEqual(afterDeath(dead, PNAME, [c(101), c(102)]), { successor: null, workers: [id(101), id(102)] });
    assert.deepEqual(afterDeath(dead, PNAME, [c(101, { ageMs: 10 }), c(102, { ageMs: 10 })]).successor, null);
    assert.deepEqual(afterDeath(dead, PNAME, [c(101, { ageMs: FORK_WINDOW_MS + 1 })]).successor, null);
  });

  it("nginx's workers (another argv[0], the master's session) are workers, however fresh", () => {
    const r = afterDeath({ pid: 100, argv0: 'nginx: master process', sid: 100 }, '/usr/sbin/nginx', [c(101, { argv0: 'nginx: worker process', ageMs: 1 })]);
    assert.deepEqual(r, { successor: null, workers: [id(101)] });
  });

  it('another matching process in another session is the program carrying on: adopted (the oldest)', () => {
    const r = afterDeath(dead, PNAME, [c(300, { sid: 7 }), c(200, { sid: 8 }), c(101)]);
    assert.deepEqual(r.successor, id(200));
  });

  it('never the dead process itself; with an unknown session nothing is a worker', () => {
    assert.deepEqual(afterDeath(dead, PNAME, [c(100, { ageMs: 1 })]), { successor: null, workers: [] });
    assert.deepEqual(afterDeath({ ...dead, sid: null }, PNAME, []), { successor: null, workers: [] });
    assert.deepEqual(afterDeath({ ...dead, sid: 1 }, PNAME, [c(101, { sid: 1 })]).workers, []);
  });
});
