// Which process each looking entry adopts: never another entry's, each its own when it can.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assignProcesses } from '../../src/core/adoption-policy';

/** processes by pid; a smaller pid started earlier */
const p = (pid: number) => ({ pid, startTime: pid });
const none = () => undefined;

describe('assignProcesses', () => {
  it('an entry alone adopts the oldest process it matches', () => {
    const r = assignProcesses(new Map([['a', [p(30), p(10), p(20)]]]), none);
    assert.deepEqual(r.adopt, new Map([['a', p(10)]]));
    assert.equal(r.blocked.size, 0);
  });

  it("never adopts a process another entry watches: the guide's apache&tomcat entry next to the /opt/tomcat2 one", () => {
    // tomcat2 (pid 10) matches both entries and entry 2 watches it; tomcat (pid 20) is entry 1's
    const r = assignProcesses(new Map([['apache&tomcat', [p(10), p(20)]]]), (pid) => (pid === 10 ? '/opt/tomcat2' : undefined));
    assert.deepEqual(r.adopt, new Map([['apache&tomcat', p(20)]]));
  });

  it("an entry whose only match is watched by another adopts nothing, and that is told with the watcher", () => {
    const r = assignProcesses(new Map([['apache&tomcat', [p(10)]]]), (pid) => (pid === 10 ? '/opt/tomcat2' : undefined));
    assert.equal(r.adopt.size, 0);
    assert.deepEqual(r.blocked, new Map([['apache&tomcat', { proc: p(10), by: '/opt/tomcat2' }]]));
  });

  it('entries looking together (start-up) each prefer a process no other matches, then the oldest: both Tomcats are watched', () => {
    // tomcat2 (pid 10, the older) matches both; tomcat (pid 20) only the wide entry — in either order of entries
    for (const order of [
      [['apache&tomcat', [p(10), p(20)]], ['/opt/tomcat2', [p(10)]]],
      [['/opt/tomcat2', [p(10)]], ['apache&tomcat', [p(20), p(10)]]],
    ] as [string, { pid: number; startTime: number }[]][][]) {
      const r = assignProcesses(new Map(order), none);
      assert.deepEqual(r.adopt.get('apache&tomcat'), p(20));
      assert.deepEqual(r.adopt.get('/opt/tomcat2'), p(10));
      assert.equal(r.blocked.size, 0);
    }
  });

  it('two entries that match the same processes never take the same one: the older goes to the entry listed first', () => {
    const r = assignProcesses(new Map([['a', [p(10), p(20)]], ['b', [p(20), p(10)]]]), none);
    assert.deepEqual(r.adopt, new Map([['a', p(10)], ['b', p(20)]]));
  });

  it('an entry with one candidate chooses before one with a choice', () => {
    // b can only have 10; a matches 10 and 30, both shared (c also matches 30)
    const r = assignProcesses(new Map([['a', [p(10), p(30)]], ['b', [p(10)]], ['c', [p(30), p(40)]]]), none);
    assert.deepEqual(r.adopt.get('b'), p(10));
    assert.deepEqual(r.adopt.get('a'), p(30));
    assert.deepEqual(r.adopt.get('c'), p(40));
  });

  it('when one process is all two looking entries match, one adopts it and the other is told it is taken', () => {
    const r = assignProcesses(new Map([['a', [p(10)]], ['b', [p(10)]]]), none);
    assert.deepEqual(r.adopt, new Map([['a', p(10)]]));
    assert.deepEqual(r.blocked, new Map([['b', { proc: p(10), by: 'a' }]]));
  });

  it('an entry that matches nothing is neither adopted nor told', () => {
    const r = assignProcesses(new Map([['a', []]]), none);
    assert.equal(r.adopt.size, 0);
    assert.equal(r.blocked.size, 0);
  });
});
