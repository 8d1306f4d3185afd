// The README's demos keep working: `npm run demo` and `npm run demo:failsafe` exit 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/harness';

describe('the README demos', () => {
  it('npm run demo: pcheck heals the demo service three times, then retries over with exit 1', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'demo.js')], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /retry_count {5}= 3/);
    assert.match(r.stdout, /RETRY_OVER:EXIT/);
    assert.match(r.stdout, /pcheck exited with code 1/);
    assert.match(r.stdout, /\| 3 \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \|/);
  });

  it('npm run demo:failsafe: the example stack heals in place, restarts a group, and stops in reverse order', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'demo-failsafe.js')], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /web \.+: Online {4}restarts 1/);
    assert.match(r.stdout, /Group web: Stopping -> Offline[\s\S]*Group worker: Stopping -> Offline/);
    // group web runs CLUSTERPRO's generated start.sh and stop.sh unchanged, clplogcmd included
    assert.match(r.stdout, /Group web clplogcmd: start\.sh: starting the web server/);
    assert.match(r.stdout, /Group web stop: NORMAL2[\s\S]*Group web start: NORMAL2/);
    assert.doesNotMatch(r.stdout, /NO_CLP/);
  });
});
