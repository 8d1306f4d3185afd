// The systemd units in etc/systemd: `systemd-analyze verify` (offline: no running systemd
// needed) must print nothing at all, since it exits 0 on many mistakes (unknown keys,
// deprecated settings) and only warns. The units name /usr/bin/pcheck (the .deb's and npm's
// with prefix /usr), which verify requires to exist and be executable, so the copies
// verified here run the repo's bin/pcheck instead; nothing else is changed. verify also runs
// man(1) on Documentation=: MANPATH points at the repo's man/. `pcheck --print-unit` must
// give units that verify as well, naming this copy's node and bin/pcheck.
// (test/package/ verifies the units installed by the .deb, at their real paths.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFailsafeConfig } from '../../src/config/ini';
import { GROUP_KEYS } from '../../src/config/ini-schema';
import { Receiver } from '../helpers/notify-receiver';
import { Pcheck, Sandbox, kill } from '../helpers/harness';

const ROOT = join(__dirname, '..', '..', '..');
const UNITS = join(ROOT, 'etc', 'systemd');
const INSTALLED_PCHECK = '/usr/bin/pcheck';
const REPO_PCHECK = join(ROOT, 'bin', 'pcheck');

function analyze(): string {
  const r = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    assert.fail('systemd-analyze not found: apt-get install systemd (it verifies unit files offline; no running systemd is needed)');
  }
  return 'systemd-analyze';
}

function verify(dir: string, files: string[]): { status: number | null; output: string } {
  const env = { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: 'cat', MANPATH: join(ROOT, 'man') };
  const r = spawnSync(analyze(), ['verify', ...files.map((f) => join(dir, f))], { cwd: dir, encoding: 'utf8', env });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

function writeUnit(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
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

  it('run one pcheck per pfile, and FailSafe mode from procsafe.ini, from /usr/bin', () => {
    assert.deepEqual(directives(join(UNITS, 'pcheck@.service')).get('ExecStart'), ['/usr/bin/pcheck -f /etc/procsafe/%i.pfile']);
    assert.deepEqual(directives(join(UNITS, 'procsafe.service')).get('ExecStart'), ['/usr/bin/pcheck --config /etc/procsafe/procsafe.ini']);
  });

  it('pcheck --print-unit writes each unit for this copy (its node, its bin/pcheck), and they verify clean', () => {
    for (const [name, args] of [['pcheck@', '-f /etc/procsafe/%i.pfile'], ['procsafe', '--config /etc/procsafe/procsafe.ini']]) {
      const r = spawnSync(process.execPath, [REPO_PCHECK, '--print-unit', name], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^# Generated by \`pcheck --print-unit ${name}\` for the procsafe in ${realpathSync(ROOT)}:`));
      assert.match(r.stdout, /^# Its native addon loads: pidfd death watch, and pcheck sends sd_notify itself\.$/m);
      const unit = directives(writeUnit(dir, `printed-${name}.service`, r.stdout));
      assert.deepEqual(unit.get('ExecStart'), [`${process.execPath} ${realpathSync(REPO_PCHECK)} ${args}`]);
      const v = verify(dir, [`printed-${name}.service`]);
      assert.equal(v.output, '', `systemd-analyze verify of the printed ${name} unit printed:\n${v.output}`);
    }
    const off = spawnSync(process.execPath, [REPO_PCHECK, '--print-unit', 'procsafe'], { encoding: 'utf8', env: { ...process.env, PROCSAFE_NATIVE: 'off' } });
    assert.match(off.stdout, /^# Its native addon does not load: deaths are polled, and sd_notify goes through\n# systemd-notify\(1\) as pcheck's pid, which needs root/m);
    const bad = spawnSync(process.execPath, [REPO_PCHECK, '--print-unit', 'tomcat'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--print-unit takes pcheck@ or procsafe, not 'tomcat'/);
  });

  it('pcheck --print-unit for a copy under a path with a blank, a % and a $ (an npm prefix like "/opt/my tools%i$HOME") names it as is: the unit verifies clean', () => {
    // a copy of what --print-unit reads: bin/pcheck, dist/src, etc/systemd, package.json
    const odd = join(dir, 'my tools%i$HOME');
    for (const p of ['bin/pcheck', 'dist/src', 'etc/systemd', 'package.json']) cpSync(join(ROOT, p), join(odd, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(odd, 'node_modules'));
    const r = spawnSync(process.execPath, [join(odd, 'bin', 'pcheck'), '--print-unit', 'pcheck@'], { encoding: 'utf8', env: { ...process.env, PROCSAFE_NATIVE: 'off' } });
    assert.equal(r.status, 0, r.stderr);
    const unit = directives(writeUnit(dir, 'odd-path.service', r.stdout));
    assert.deepEqual(unit.get('ExecStart'), [`${process.execPath} "${join(dir, 'my tools%%i$$HOME', 'bin', 'pcheck')}" -f /etc/procsafe/%i.pfile`]);
    const v = verify(dir, ['odd-path.service']);
    assert.equal(v.output, '', `systemd-analyze verify of the unit printed for ${odd}:\n${v.output}`);
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
  for (const addon of [true, false]) {
    it(`pcheck@'s command reaches "started" as systemd runs it: READY=1, then WATCHDOG=1, from the main pid, ${addon ? 'with the native addon' : 'without it (PROCSAFE_NATIVE=off: through systemd-notify)'}`, async () => {
      const sb = new Sandbox();
      const r = await Receiver.start(join(sb.dir, 'notify.sock'));
      try {
        const svc = sb.service('svc');
        const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
        await sb.startService(svc);
        // the unit's ExecStart= with the instance's pfile in the sandbox; the environment systemd gives it
        const execStart = directives(join(dir, 'pcheck@.service')).get('ExecStart')![0].replace('/etc/procsafe/%i.pfile', pfile);
        const [cmd, ...args] = execStart.split(' ');
        const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', NOTIFY_SOCKET: r.address, WATCHDOG_USEC: '30000000', PROCSAFE_RUN_DIR: sb.runDir, ...(addon ? {} : { PROCSAFE_NATIVE: 'off' }) };
        const pc = new Pcheck(spawn(cmd, args, { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] }));
        sb.track(pc.pid);
        const ready = await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
        assert.equal(ready.pid, pc.pid);
        assert.match(ready.text, new RegExp(`STATUS=watching 1 entry: 1 AVAIL; restarts: 0${addon ? '$' : '; death watch: poll$'}`));
        await r.waitFor((d) => d.head === 'WATCHDOG=1' && d.pid === pc.pid, 'WATCHDOG=1');
        kill(pc.pid, 'SIGTERM');
        assert.equal(await pc.exited, 0);
      } finally {
        await r.stop();
        sb.cleanup();
      }
    });
  }
});
