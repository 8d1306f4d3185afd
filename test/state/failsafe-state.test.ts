import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failsafeStatePath, readFailsafeState, writeFailsafeState, type FailsafeSnapshot } from '../../src/state/failsafe-state';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-fsstate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const snap = (): FailsafeSnapshot => ({
  version: 1,
  config: '/etc/procsafe/procsafe.ini',
  pcheckPid: 42,
  writtenAt: 1_700_000_000_000,
  bootId: 'b-1',
  ended: null,
  groups: { web: { state: 'Online', stoppedBy: null, restarts: 2 }, db: { state: 'Offline', stoppedBy: 'operator', restarts: 0 } },
  monitors: { 'web-http': { config: '{}', failures: 1, groupRestarts: 2, finalActionDone: true, changedAt: 1_700_000_000_000, suspended: false } },
  finalActions: [{ action: 'reboot', at: 1_700_000_000_000, source: 'monitor web-http' }],
  pfiles: { '/etc/procsafe/web.pfile': { version: 1, pfile: '/etc/procsafe/web.pfile', pcheckPid: 42, writtenAt: 1, bootId: 'b-1', ended: null, entries: [] } },
});

describe('the FailSafe state file', () => {
  it('is written atomically (mode 0600, in a 0700 directory made for it) and read back as written', () => {
    const path = join(dir, 'new', 'failsafe.state');
    writeFailsafeState(path, snap());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'new')).mode & 0o777, 0o700);
    assert.deepEqual(readFailsafeState(path), { snapshot: snap() });
    assert.deepEqual(readdirSync(join(dir, 'new')), ['failsafe.state'], 'no temporary file left');
  });

  it('missing: says so; corrupt (torn, or the wrong shape): set aside and said why', () => {
    assert.deepEqual(readFailsafeState(join(dir, 'none.state')), { missing: true });
    const torn = join(dir, 'torn.state');
    writeFileSync(torn, '{"version":1,"groups":');
    const r = readFailsafeState(torn);
    assert.ok('corrupt' in r && r.corrupt.startsWith('not JSON') && r.movedTo?.startsWith(`${torn}.corrupt-`), JSON.stringify(r));
    const shape = join(dir, 'shape.state');
    writeFileSync(shape, JSON.stringify({ ...snap(), groups: { web: { state: 'Up', stoppedBy: null, restarts: 0 } } }));
    const s = readFailsafeState(shape);
    assert.ok('corrupt' in s && s.corrupt === 'groups.web.state is not a group state', JSON.stringify(s));
  });

  it('without [daemon] state_file it lives in $PROCSAFE_STATE_DIR, else /var/lib/procsafe', () => {
    assert.equal(failsafeStatePath(null, {}), '/var/lib/procsafe/failsafe.state');
    assert.equal(failsafeStatePath(null, { PROCSAFE_STATE_DIR: '/tmp/x' }), '/tmp/x/failsafe.state');
    assert.equal(failsafeStatePath('/srv/fs.state', { PROCSAFE_STATE_DIR: '/tmp/x' }), '/srv/fs.state');
  });
});
