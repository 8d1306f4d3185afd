// `npm run demo:cluster` (src/cli/demo-cluster.ts) runs the same steps as failover.test.ts, which
// proves them; here only what a newcomer meets first: without root it says what it needs and
// exits 1, having created nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/harness';

describe('npm run demo:cluster', () => {
  it('says that it needs root, and why, and exits 1 without creating anything when run as an ordinary user', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(ROOT, 'dist', 'src', 'cli', 'demo-cluster.js')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /npm run demo:cluster needs root: it creates network namespaces and runs corosync and pacemakerd/);
    assert.match(r.stderr, /sudo npm run demo:cluster/);
    assert.equal(r.stdout, '');
    // (the failover test may run meanwhile and make its own, owned by root)
    const ours = readdirSync(tmpdir()).filter((f) => f.startsWith('procsafe-2node-') && statSync(join(tmpdir(), f)).uid === 65534);
    assert.deepEqual(ours, [], 'no work directory left behind');
  });
});
