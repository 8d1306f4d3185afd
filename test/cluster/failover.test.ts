// The seeds' whole story on two REAL Pacemaker 2.1 + Corosync 3 nodes (one machine, namespaces:
// test/helpers/two-node-cluster.ts; root and the Debian packages that .ci/run installs). Group
// g_app = app_vip (IPaddr2) + app (the application, its own resource) + app_pcheck (procsafe's
// OCF agent on a pfile with retry_count 3, action exit), preferring node1. pcheck heals three kills
// in place while Pacemaker counts nothing; the fourth is a retry-over, pcheck exits 1 and the whole
// group moves to node2, where the floating IP answers and a fresh pcheck watches the application;
// `crm_resource --cleanup` brings the group back to node1; a pcheck started on node2 outside
// Pacemaker is found by a probe and stopped; node1 lost as a whole moves the group to node2.
// Each step is timed; the timeline is printed at the end (docs/pacemaker.md shows the figures).
// Runs once per `npm test` (not in the PROCSAFE_DEATH_WATCH=poll pass: it proves the cluster's
// part), and never beside the single-node Pacemaker test (test/helpers/cluster-lock.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PCHECK, sleep, waitFor } from '../helpers/harness';
import { FailoverStory, type Move } from '../helpers/failover-story';
import { GROUP, PCHECK_ID, RETRY } from '../helpers/failover-lab';
import { VIP, until } from '../helpers/two-node-cluster';

describe('two real Pacemaker nodes: pcheck heals in place, and its retry-over moves the whole group to the other node', () => {
  const story = new FailoverStory();
  const lab = story.lab;

  before(async () => {
    await story.start((owner) => process.stdout.write(`# waiting for the Pacemaker test in pid ${owner} to finish\n`));
  });

  after(async () => {
    try {
      await story.stop();
    } finally {
      process.stdout.write(`${story.timeline()}\n`);
      for (const n of lab.cluster.notes) process.stdout.write(`  ${n}\n`);
      process.stdout.write(`TIMELINE_JSON ${JSON.stringify(Object.fromEntries(story.figures))}\n`);
    }
  });

  /** The new node runs the one application and a fresh pcheck on it; the old node keeps nothing of the group. */
  const assertMoved = (m: Move) => {
    assert.equal(m.apps.length, 1, `one application on ${m.to}: ${m.apps.join(' ')}`);
    assert.equal(m.pent?.proc_sts, 'AVAIL', `padmin on ${m.to}: ${JSON.stringify(m.pent)}`);
    assert.equal(m.pent?.pid, String(m.apps[0]), 'pcheck watches the application that runs there');
    assert.equal(m.pent?.retry_count, '0', 'with fresh counters');
    assert.equal(m.arp, m.mac, `the client's ARP entry for ${VIP} is ${m.to}'s MAC`);
    assert.deepEqual(m.left, { apps: [], pcheck: [], vip: false }, `nothing of the group left on ${m.from}`);
  };

  it('starts the group on node1: the floating IP answers HTTP from node1 and pcheck watches the application with retry_count 0', async () => {
    assert.ok(await lab.groupOn('node1'));
    assert.equal(lab.vipOn('node2'), false);
    assert.equal((await lab.http())?.node, 'node1');
    const e = await lab.pent('node1');
    assert.equal(e?.proc_sts, 'AVAIL');
    assert.equal(e?.retry_count, '0');
    assert.equal(lab.appPids('node2').length, 0, 'node2 runs nothing of the group');
  });

  it(`heals ${RETRY} kills in place on node1 (Down, then Up, from the same pcheck) while Pacemaker counts no failure`, async () => {
    for (let n = 1; n <= RETRY; n++) {
      const h = await story.heal(n);
      assert.equal(h.apps.length, 1, `one application after heal ${n}: ${h.apps.join(' ')}`);
      assert.notEqual(h.apps[0], h.killed);
      assert.equal(h.pent?.proc_sts, 'AVAIL');
      assert.equal(h.pent?.pid, String(h.apps[0]));
      assert.equal(h.pent?.retry_count, String(n));
      assert.equal(h.pcheckAfter.length, 1);
      assert.deepEqual(h.pcheckAfter, h.pcheckBefore, 'the same pcheck healed it');
    }
    // the application's monitor (2 s, by name) and pcheck's (1 s) have run meanwhile and after
    await sleep(2500);
    assert.deepEqual(await story.failcounts('node1'), { app: 0, pcheck: 0 });
    assert.deepEqual(await lab.failures(), [], 'crm_mon lists no failed action');
    assert.ok(await lab.groupOn('node1'), 'the group stayed on node1');
  });

  it('on the next kill pcheck retries over and exits 1; Pacemaker moves the whole group to node2, where the IP answers and a fresh pcheck watches the application', async () => {
    const m = await story.retryOver();
    assertMoved(m);
    assert.ok(lab.log('node1').includes('RETRY_OVER:EXIT') && /\) FATAL\n/.test(lab.log('node1')), 'pcheck logged RETRY_OVER:EXIT and FATAL');
    assert.equal((await story.failcounts('node1')).pcheck, 1, "pcheck's exit is the failure Pacemaker counted (migration-threshold 1)");
    const fail = (await lab.failures()).find((f) => f.includes(`op_key="${PCHECK_ID}_monitor_1000"`)) ?? '';
    assert.match(fail, /exitcode="7"/, 'the agent reported pcheck not running');
    assert.match(fail, /exitreason="pcheck \(pid \d+\) is gone: \(\S+\) RETRY_OVER:EXIT; pfile/, 'with the reason from its output');
    assert.equal((await story.failcounts('node2')).pcheck, 0);
    assert.ok(m.at['IP on node2'] < m.at['watched on node2'], 'the IP comes first, then the application, then pcheck (group order)');
  });

  it('crm_resource --cleanup lets the group come back to node1 (its location preference, resource-stickiness 0); nothing of it stays on node2', async () => {
    const m = await story.failback();
    assert.equal(m.apps.length, 1, `one application on node1: ${m.apps.join(' ')}`);
    assert.equal(m.pent?.proc_sts, 'AVAIL');
    assert.equal(m.pent?.pid, String(m.apps[0]));
    assert.equal(m.arp, m.mac, "the client's ARP entry is node1's MAC again");
    assert.deepEqual(m.left, { apps: [], pcheck: [], vip: false }, 'node2 stopped the application and pcheck and released the IP');
    assert.deepEqual(await story.failcounts('node1'), { app: 0, pcheck: 0 }, 'the cleanup cleared the fail counts');
  });

  it('a pcheck started on the standby node outside Pacemaker (pcheck@.service left enabled there) is found by the probe and stopped; the group stays on node1', async () => {
    // as the packaged unit runs it: `/usr/bin/pcheck -f PFILE`, detached, inside node2
    const r = await lab.cluster.inNode('node2', '/bin/sh', ['-c', `setsid ${process.execPath} ${PCHECK} -f ${lab.pfile} </dev/null >/dev/null 2>&1 &`]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => lab.pcheckPids('node2').length === 1, 10_000, 'the stray pcheck on node2');
    const t0 = Date.now();
    // what a cluster start, a node's return or `crm_resource --refresh` does: probe node2
    const refresh = await lab.cluster.inNode('node1', 'crm_resource', ['--refresh', '-r', GROUP, '-N', 'node2']);
    assert.equal(refresh.code, 0, refresh.stderr);
    // pcheck restarts what is missing: left alone, the stray would keep an application running on node2
    await until(async () => lab.pcheckPids('node2').length === 0 && lab.appPids('node2').length === 0 && (await lab.groupOn('node1')), 30_000, 'node2 clean, the group on node1', 100);
    story.figures.push(['stray pcheck on node2: refresh → stopped', Date.now() - t0]);
    await lab.settledOn('node1');
    assert.equal(lab.pcheckPids('node1').length, 1, 'one pcheck on node1');
    assert.equal(lab.appPids('node1').length, 1, 'one application on node1');
  });

  it('node1 lost as a whole (every process killed, its NIC gone): the group comes up on node2 and pcheck watches the application there', async () => {
    const m = await story.nodeLoss();
    assertMoved(m);
    assert.equal(lab.cluster.up('node1'), false);
    assert.ok(await lab.groupOn('node2'));
    assert.deepEqual(await story.failcounts('node2'), { app: 0, pcheck: 0 });
  });
});
