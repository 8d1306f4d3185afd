// The systemd units in etc/systemd: `systemd-analyze verify` (offline: no running systemd
// needed) must print nothing at all, since it exits 0 on many mistakes (unknown keys,
// deprecated settings) and only warns. The units name /usr/local/bin/pcheck, which verify
// requires to exist and be executable, so the copies verified here run the repo's
// bin/pcheck instead; nothing else is changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFailsafeConfig } from '../../src/config/ini';
import { GROUP_KEYS } from '../../src/config/ini-schema';

const ROOT = join(__dirname, '..', '..', '..');
const UNITS = join(ROOT, 'etc', 'systemd');
const INSTALLED_PCHECK = '/usr/local/bin/pcheck';
const REPO_PCHECK = join(ROOT, 'bin', 'pcheck');

function analyze(): string {
  const r = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    assert.fail('systemd-analyze not found: apt-get install systemd (it verifies unit files offline; no running systemd is needed)');
  }
  return 'systemd-analyze';
}

function verify(dir: string, files: string[]): { status: number | null; output: string } {
  const r = spawnSync(analyze(), ['verify', ...files.map((f) => join(dir, f))], { cwd: dir, encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: 'cat' } });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** `Key=value` lines of a unit, by key (a key given twice keeps every value). */
function directives(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}

describe('systemd units', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'procsafe-units-'));
    accessSync(REPO_PCHECK, constants.X_OK);
    for (const f of ['pcheck@.service', 'procsafe.service']) {
      const text = readFileSync(join(UNITS, f), 'utf8');
      assert.ok(text.includes(`ExecStart=${INSTALLED_PCHECK} `), `${f} runs ${INSTALLED_PCHECK}`);
      writeFileSync(join(dir, f), text.replaceAll(INSTALLED_PCHECK, REPO_PCHECK));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('pass systemd-analyze verify without a single warning, the template and an instance of it', () => {
    copyFileSync(join(dir, 'pcheck@.service'), join(dir, 'pcheck@tomcat.service'));
    for (const files of [['pcheck@.service'], ['pcheck@tomcat.service'], ['procsafe.service'], ['pcheck@.service', 'procsafe.service']]) {
      const r = verify(dir, files);
      assert.equal(r.output, '', `systemd-analyze verify ${files.join(' ')} printed:\n${r.output}`);
      assert.equal(r.status, 0);
    }
  });

  it('would be caught by that check if they had a mistake that verify only warns about', () => {
    const bad = readFileSync(join(dir, 'procsafe.service'), 'utf8').replace('KillMode=process', 'KillMode=none\nWatchdogSecs=30s');
    writeFileSync(join(dir, 'bad.service'), bad);
    const r = verify(dir, ['bad.service']);
    assert.equal(r.status, 0, 'verify exits 0 on these: only its output tells');
    assert.match(r.output, /KillMode=none/);
    assert.match(r.output, /Unknown key 'WatchdogSecs'/);
  });

  it('run one pcheck per pfile, and FailSafe mode from procsafe.ini, from /usr/local/bin', () => {
    assert.deepEqual(directives(join(UNITS, 'pcheck@.service')).get('ExecStart'), ['/usr/local/bin/pcheck -f /etc/procsafe/%i.pfile']);
    assert.deepEqual(directives(join(UNITS, 'procsafe.service')).get('ExecStart'), ['/usr/local/bin/pcheck --config /etc/procsafe/procsafe.ini']);
  });

  it("procsafe.service gives pcheck time to stop the sample configuration's groups (each up to its stop_timeout)", () => {
    const [timeout] = directives(join(UNITS, 'procsafe.service')).get('TimeoutStopSec') ?? [];
    const m = /^(\d+)(s|min)$/.exec(timeout ?? '');
    assert.ok(m, `TimeoutStopSec=${timeout} in seconds or minutes`);
    const seconds = Number(m[1]) * (m[2] === 'min' ? 60 : 1);
    // groups stop one after the other; pcheck waits stop_timeout + 5 s for each
    const cfg = loadFailsafeConfig(join(ROOT, 'etc', 'procsafe.ini.sample'), { checkFiles: false });
    const needed = cfg.groups.reduce((sum, g) => sum + g.stopTimeout + 5, 0);
    assert.ok(seconds >= needed, `TimeoutStopSec=${timeout} (${seconds} s) covers the sample's stops (${needed} s)`);
    assert.ok(seconds > Number(GROUP_KEYS.stop_timeout.default), 'longer than the default stop_timeout');
  });

  it('say the same as docs/systemd.md about notify, watchdog, restarts, killing and /run/procsafe', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'systemd.md'), 'utf8');
    const want: Record<string, string> = {
      Type: 'notify',
      NotifyAccess: 'main',
      WatchdogSec: '30s',
      Restart: 'on-failure',
      RestartPreventExitStatus: '2',
      KillMode: 'process',
      ExecReload: '/bin/kill -HUP $MAINPID',
      RuntimeDirectory: 'procsafe',
      RuntimeDirectoryPreserve: 'yes',
      WantedBy: 'multi-user.target',
    };
    for (const f of ['pcheck@.service', 'procsafe.service']) {
      const d = directives(join(UNITS, f));
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(d.get(k), [v], `${f}: ${k}=${v}`);
        assert.ok(doc.includes(`${k}=${v}`), `docs/systemd.md explains ${k}=${v}`);
      }
    }
  });
});
