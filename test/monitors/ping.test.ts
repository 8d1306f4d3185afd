// Network traffic only to loopback and to a network namespace this test creates.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProbe } from '../../src/monitors/index';
import { check, eventually, monitor, need, sh, vethPair } from './helpers';

describe('ping probe', () => {
  before(() => {
    need('ping', 'iputils-ping');
  });

  it('is ok for 127.0.0.1 and gives the round-trip time', async () => {
    const p = createProbe(base('127.0.0.1'));
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /^reply from 127\.0\.0\.1 in [\d.]+ ms$/);
    p.close();
  });

  describe('an address in a network namespace', () => {
    // a link-local /30 of its own per test process: the route to the peer always goes
    // through our veth, never out of the machine (checked before each ping)
    const net = `169.254.${(process.pid % 250) + 1}`;
    const peerAddr = `${net}.2`;
    let veth: ReturnType<typeof vethPair>;
    before(() => {
      veth = vethPair('psp', { host: `${net}.1/30`, peer: `${peerAddr}/30` });
    });
    after(() => veth?.remove());

    const routedThroughVeth = (): void => {
      const route = sh(['ip', 'route', 'get', peerAddr]);
      assert.match(route, new RegExp(`dev ${veth.host} `), `the route to ${peerAddr} must use ${veth.host}: ${route}`);
    };

    it('is ok while its link is up', async () => {
      routedThroughVeth();
      const p = createProbe(base(peerAddr));
      try {
        // the first echo may wait for ARP and the link to settle: allow a few checks
        const r = await eventually(p, (x) => x.ok, 5000);
        assert.match(r.detail, new RegExp(`^reply from ${peerAddr.replace(/\./g, '\\.')} in [\\d.]+ ms$`));
      } finally {
        p.close();
      }
    });

    it('fails within its timeout once the link is down', async () => {
      sh(['ip', '-n', veth.ns, 'link', 'set', veth.peer, 'down']);
      routedThroughVeth();
      const p = createProbe(base(peerAddr));
      try {
        const r = await check(p, 1000);
        assert.equal(r.ok, false, r.detail);
        assert.equal(r.detail, `no reply from ${peerAddr} within 0.7 s`);
        assert.ok(r.ms < 1500, `took ${r.ms} ms`);
      } finally {
        p.close();
      }
    });
  });

  it('refuses a host that looks like an option', async () => {
    const p = createProbe(base('-f'));
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'bad host "-f"');
    p.close();
  });
});

function base(host: string) {
  return monitor('ping', { host });
}
