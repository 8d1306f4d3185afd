import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProbe } from '../../src/monitors/index';
import { check, eventually, monitor } from './helpers';

/** Blocks our own event loop, as a long synchronous task in the daemon would. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('stall probe', () => {
  it('fails after the event loop was blocked for 300 ms, then is ok again', async () => {
    const p = createProbe(monitor('stall', { maxDelayMs: 100 }));
    try {
      await new Promise((r) => setTimeout(r, 100)); // some samples of a quiet loop
      // ok on a quiet loop (a loaded CI machine may delay one sample: a few tries)
      await eventually(p, (r) => r.ok, 3000);

      busyWait(300);
      const blocked = await check(p);
      assert.equal(blocked.ok, false, blocked.detail);
      const m = /^event loop max delay (\d+) ms in the last \d+ s \(limit 100 ms\)$/.exec(blocked.detail);
      assert.ok(m, blocked.detail);
      assert.ok(Number(m[1]) >= 250 && Number(m[1]) < 1500, blocked.detail);

      const again = await eventually(p, (r) => r.ok, 3000);
      assert.match(again.detail, /^event loop max delay \d+ ms/);
    } finally {
      p.close();
    }
  });

  it('answers within a few tens of milliseconds', async () => {
    const p = createProbe(monitor('stall', { maxDelayMs: 100 }));
    try {
      const r = await check(p);
      assert.ok(r.ms < 500, `took ${r.ms} ms`);
    } finally {
      p.close();
    }
  });
});
