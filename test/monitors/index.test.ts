import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProbe, guarded } from '../../src/monitors/index';
import type { Probe } from '../../src/monitors/types';
import { check, monitor } from './helpers';

describe('createProbe', () => {
  it('refuses the process type, which the daemon runs from its pfile', () => {
    assert.throws(() => createProbe(monitor('process', { pfile: '/etc/procsafe/app.pfile' })), /type process is run by the daemon/);
  });

  it('refuses a disk monitor with neither path nor write_dir', () => {
    assert.throws(() => createProbe(monitor('disk', { path: null, writeDir: null })), /neither path nor write_dir/);
  });

  it('gives a closed probe\'s checks a failure instead of running them', async () => {
    const p = createProbe(monitor('stall', { maxDelayMs: 100 }));
    p.close();
    p.close(); // twice is harmless
    assert.deepEqual(await p.check(new AbortController().signal, 1000), { ok: false, detail: 'monitor closed' });
  });

  it('does not start a check whose signal is already aborted', async () => {
    const p = createProbe(monitor('stall', { maxDelayMs: 100 }));
    const ac = new AbortController();
    ac.abort();
    assert.deepEqual(await p.check(ac.signal, 1000), { ok: false, detail: 'check aborted' });
    p.close();
  });
});

describe('the guard around every probe', () => {
  const broken = (check: Probe['check']): Probe => guarded({ check, close: () => {} });

  it('turns a probe that throws into a failure', async () => {
    const r = await check(
      broken(() => {
        throw new Error('bug');
      }),
    );
    assert.deepEqual({ ok: r.ok, detail: r.detail }, { ok: false, detail: 'probe error: bug' });
  });

  it('turns a rejected check into a failure', async () => {
    const r = await check(broken(() => Promise.reject(Object.assign(new Error('x'), { code: 'EIO' }))));
    assert.equal(r.detail, 'probe error: EIO');
  });

  it('gives up on a check that never settles shortly after its timeout', async () => {
    const r = await check(
      broken(() => new Promise(() => {})),
      200,
    );
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'no result within 200 ms');
    assert.ok(r.ms >= 290 && r.ms < 1000, `took ${r.ms} ms`);
  });
});
