import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProbe } from '../../src/monitors/index';
import { check, eventually, monitor, sh, vethPair } from './helpers';

describe('nic probe', () => {
  // a veth pair: the probe watches the end in our namespace, the other end is in a
  // network namespace of this test
  let veth: ReturnType<typeof vethPair>;
  before(() => {
    veth = vethPair('psn');
  });
  after(() => veth?.remove());

  const probe = () => createProbe(monitor('nic', { interface: veth.host }));

  it('is ok while both ends are up', async () => {
    const p = probe();
    try {
      // the kernel reports a new link state a moment after the change
      const r = await eventually(p, (x) => x.ok);
      assert.equal(r.detail, `${veth.host}: operstate up, carrier, link up`);
    } finally {
      p.close();
    }
  });

  it('fails when the peer goes down and the carrier drops', async () => {
    const p = probe();
    try {
      sh(['ip', '-n', veth.ns, 'link', 'set', veth.peer, 'down']);
      const r = await eventually(p, (x) => !x.ok);
      assert.equal(r.detail, `${veth.host}: operstate down, no carrier`);
      sh(['ip', '-n', veth.ns, 'link', 'set', veth.peer, 'up']);
      assert.equal((await eventually(p, (x) => x.ok)).ok, true);
    } finally {
      p.close();
    }
  });

  it('fails and says "administratively down" after ip link set down', async () => {
    const p = probe();
    try {
      sh(['ip', 'link', 'set', veth.host, 'down']);
      const r = await eventually(p, (x) => !x.ok);
      assert.equal(r.detail, `${veth.host}: operstate down, no carrier, administratively down`);
    } finally {
      sh(['ip', 'link', 'set', veth.host, 'up']);
      p.close();
    }
  });

  it('is ok for the loopback interface, whose operstate is "unknown"', async () => {
    const p = createProbe(monitor('nic', { interface: 'lo' }));
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.detail, 'lo: operstate unknown, carrier, link up');
    p.close();
  });

  it('fails with a clear detail for an interface that does not exist', async () => {
    const p = createProbe(monitor('nic', { interface: 'nosuch0' }));
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'interface nosuch0 does not exist (no /sys/class/net/nosuch0)');
    p.close();
  });

  it('refuses a name that would read another sysfs path', async () => {
    const p = createProbe(monitor('nic', { interface: '../../kernel' }));
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'bad interface name "../../kernel"');
    p.close();
  });
});
