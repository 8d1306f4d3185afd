import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { commandLine, compileMatcher, findOldest, resolvePname, selectOldest, type MatchCriteria } from '../../src/proc/match';
import { createProcTable } from '../../src/proc/proc-table';
import type { ProcInfo } from '../../src/proc/types';
import { TestProcesses } from '../fixtures/proc/processes';

const JAVA = '/usr/bin/java';
const JAVA_REAL = '/usr/lib/jvm/java-17/bin/java';

function proc(over: Partial<ProcInfo> = {}): ProcInfo {
  return { pid: 100, startTime: 5000, argv: [JAVA, '-jar', 'app.jar'], exe: JAVA_REAL, uid: 1000, state: 'S', ...over };
}

function pent(over: Partial<MatchCriteria> = {}): MatchCriteria {
  return { pname: JAVA, includeStrings: [], excludeStrings: [], uid: null, ...over };
}

describe('compileMatcher', () => {
  it('matches a process whose argv[0] is pname', () => {
    assert.equal(compileMatcher(pent(), null)(proc({ exe: null })), true);
  });

  it('matches a process whose exe is the realpath of pname even when argv[0] differs', () => {
    const m = compileMatcher(pent(), JAVA_REAL);
    assert.equal(m(proc({ argv: ['java', '-version'] })), true);
    assert.equal(m(proc({ argv: ['tomcat: worker'] })), true);
  });

  it('does not match by exe when pname could not be resolved', () => {
    assert.equal(compileMatcher(pent(), null)(proc({ argv: ['java'] })), false);
  });

  it('matches by exe when the program file was replaced on disk (an upgrade): the path is still the program', () => {
    const m = compileMatcher(pent(), JAVA_REAL);
    assert.equal(m(proc({ argv: ['java'], exe: `${JAVA_REAL} (deleted)` })), true);
    assert.equal(m(proc({ exe: `${JAVA_REAL} (deleted)` })), true);
    // another deleted file is not the program
    assert.equal(m(proc({ argv: ['java'], exe: '/usr/lib/jvm/java-11/bin/java (deleted)' })), false);
  });

  it('does not match another program', () => {
    const m = compileMatcher(pent(), JAVA_REAL);
    assert.equal(m(proc({ argv: ['/usr/bin/python3', JAVA], exe: '/usr/bin/python3.11' })), false);
    assert.equal(m(proc({ argv: [`${JAVA}x`], exe: null })), false);
  });

  it('requires every include string somewhere in the command line', () => {
    const m = compileMatcher(pent({ includeStrings: ['apache', 'tomcat'] }), JAVA_REAL);
    assert.equal(m(proc({ argv: [JAVA, '-Dcatalina.base=/opt/apache-tomcat', 'start'] })), true);
    assert.equal(m(proc({ argv: [JAVA, '-Dcatalina.base=/opt/apache', 'start'] })), false);
  });

  it('searches the command line with single spaces between arguments', () => {
    const m = compileMatcher(pent({ includeStrings: ['-jar app.jar'] }), null);
    assert.equal(m(proc()), true);
    assert.equal(commandLine(['a', 'b c', '']), 'a b c ');
  });

  it('rejects a process whose command line holds any exclude string', () => {
    const m = compileMatcher(pent({ excludeStrings: ['debug', 'test'] }), null);
    assert.equal(m(proc()), true);
    assert.equal(m(proc({ argv: [JAVA, '-Dmode=test'] })), false);
  });

  it('requires the uid when the pent names a user', () => {
    assert.equal(compileMatcher(pent({ uid: 1000 }), null)(proc()), true);
    assert.equal(compileMatcher(pent({ uid: 0 }), null)(proc()), false);
    assert.equal(compileMatcher(pent({ uid: 0 }), null)(proc({ uid: 0 })), true);
  });

  it('leaves the state to the table: a leader shown as Z whose threads run still matches', () => {
    assert.equal(compileMatcher(pent(), null)(proc({ state: 'Z' })), true);
  });
});

describe('findOldest', () => {
  it('chooses the matching process with the smallest start time', () => {
    const procs = [
      proc({ pid: 10, startTime: 900 }),
      proc({ pid: 20, startTime: 300 }),
      proc({ pid: 5, startTime: 100, argv: ['/bin/sh'], exe: '/bin/dash' }), // older, but no match
      proc({ pid: 30, startTime: 600 }),
    ];
    assert.equal(findOldest(pent(), JAVA_REAL, procs)?.pid, 20);
  });

  it('breaks a tie of start times with the smaller pid', () => {
    const procs = [proc({ pid: 31, startTime: 300 }), proc({ pid: 30, startTime: 300 }), proc({ pid: 32, startTime: 300 })];
    assert.equal(findOldest(pent(), null, procs)?.pid, 30);
  });

  it('returns null when nothing matches', () => {
    assert.equal(findOldest(pent(), null, [proc({ argv: ['/bin/sh'], exe: '/bin/dash' })]), null);
    assert.equal(findOldest(pent(), null, []), null);
  });

  it('gives the same answer as selectOldest with a compiled matcher', () => {
    const procs = [proc({ pid: 10, startTime: 900 }), proc({ pid: 20, startTime: 300 })];
    assert.equal(selectOldest(procs, compileMatcher(pent(), null)), findOldest(pent(), null, procs));
  });
});

describe('matching real processes', () => {
  const procs = new TestProcesses();
  after(() => procs.cleanup());

  it('of two sleeps with the same token, the older one is chosen', async () => {
    // A unique duration is the token; argv[0] is plain `sleep`, so they match by exe.
    const token = `${100000 + (process.pid % 100000)}.${Date.now() % 1000000}`;
    const first = await procs.sleep(['sleep', token]);
    await delay(30); // start times are 10 ms ticks: make sure they differ
    const second = await procs.sleep(['sleep', token]);
    assert.ok(second.startTime > first.startTime);

    const sleepReal = resolvePname('/usr/bin/sleep');
    const criteria = pent({ pname: '/usr/bin/sleep', includeStrings: [token] });
    const found = findOldest(criteria, sleepReal, createProcTable().scan());
    assert.equal(found?.pid, first.pid);

    await procs.kill(first.pid);
    assert.equal(findOldest(criteria, sleepReal, createProcTable().scan())?.pid, second.pid);
  });
});
