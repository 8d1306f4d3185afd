// procsafe installed as an operator installs it on a server, from what `npm run package:deb`
// makes (npm pack, then the .deb from the same files), on a PATH without a compiler, make or
// python: the tarball with `npm install -g --prefix` (offline: the runtime dependencies are
// bundled), the .deb with dpkg -i. Each install heals a killed process with the pidfd death
// watch (the prebuilt addon); the .deb's units verify clean where it puts them, its pcheck@
// unit's command reaches "started" (READY=1 from its own pid) with the addon and without it;
// dpkg -r / -P leave nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Receiver } from '../helpers/notify-receiver';
import { Sandbox, kill, type Pcheck } from '../helpers/harness';
import { COMPILERS, buildPackages, run, serverPath, startInstalled } from './helpers';

const NPM_CLI = '/usr/lib/node_modules/npm/bin/npm-cli.js';
const INSTANCE = `proctest${process.pid}`;
const UNIT_PFILE = `/etc/procsafe/${INSTANCE}.pfile`;

describe('installing procsafe on a server without a compiler', () => {
  const sb = new Sandbox();
  const receivers: Receiver[] = [];
  let tgz: string;
  let deb: string;
  let serverBin: string;
  let prefix: string;
  let debInstalled = false;
  const serverEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: serverBin,
    HOME: join(sb.dir, 'home'),
    PROCSAFE_RUN_DIR: sb.runDir,
    ...extra,
  });

  before(() => {
    ({ tgz, deb } = buildPackages(sb.dir));
    serverBin = serverPath(sb.dir);
    prefix = join(sb.dir, 'prefix');
    mkdirSync(join(sb.dir, 'home'));
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    rmSync(UNIT_PFILE, { force: true });
    if (debInstalled) run('dpkg', ['-P', 'procsafe']);
    sb.cleanup();
  });

  /** Runs an installed pcheck on a fresh service, kills the service, waits for the heal. */
  async function heal(pcheckBin: string, padminBin: string, tag: string, opts: { pfileAt?: string; args?: (pfile: string) => string[]; env?: Record<string, string>; scriptBody?: string } = {}) {
    const svc = sb.service(tag, { scriptBody: opts.scriptBody });
    let pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:none`] });
    if (opts.pfileAt) {
      writeFileSync(opts.pfileAt, readFileSync(pfile));
      pfile = opts.pfileAt;
    }
    const pid = await sb.startService(svc);
    const pc = startInstalled(pcheckBin, opts.args?.(pfile) ?? ['-f', pfile], serverEnv(opts.env));
    sb.track(pc.pid);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    const padmin = (cmd: string, extra: string[] = []) => run(padminBin, ['-f', pfile, '-c', cmd, ...extra], { env: serverEnv() });
    const from = pc.lines.length;
    kill(pid, 'SIGKILL');
    await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Down`, 10_000, from);
    const up = await pc.waitLine(/ ,pid=(\d+)\) Up/, 10_000, from);
    sb.track(Number(/pid=(\d+)/.exec(up.text)![1]));
    return { pc, padmin, svc };
  }

  async function stop(pc: Pcheck): Promise<void> {
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0, pc.stderr);
  }

  it('the server PATH has node and a shell, but no compiler, make or python', () => {
    const has = (t: string) => run('sh', ['-c', `command -v ${t}`], { env: { PATH: serverBin } }).code === 0;
    assert.deepEqual(COMPILERS.filter(has), []);
    assert.ok(has('node') && has('sh'));
  });

  it('npm pack ships what runs (dist, bin, the prebuilt addon, bundled dependencies, etc, examples, docs, man pages) and no tests, sources or CI', () => {
    const entries = run('tar', ['-tzf', tgz]).stdout.split('\n').filter(Boolean);
    for (const f of [
      'package/bin/pcheck',
      'package/dist/src/cli/pcheck.js',
      'package/src/web/assets/index.html',
      'package/src/web/assets/app.js',
      'package/native/prebuilds/linux-x64/procsafe-native.glibc.node',
      'package/node_modules/ini/package.json',
      'package/node_modules/nodemailer/package.json',
      'package/node_modules/node-gyp-build/index.js',
      'package/etc/systemd/pcheck@.service',
      'package/etc/pfile.sample',
      'package/examples/tomcat/tomcat.pfile',
      'package/docs/systemd.md',
      'package/man/man8/pcheck.8',
      'package/man/man5/procsafe.ini.5',
    ]) {
      assert.ok(entries.includes(f), `the tarball lacks ${f}`);
    }
    const stray = entries.filter((e) => /^package\/(test|bench|\.ci|dist\/test|dist\/bench|native\/build)\/|^package\/src\/(?!web\/assets\/)|^package\/(?!node_modules\/).*\.(map|ts)$/.test(e));
    assert.deepEqual(stray, []);
    const pkg = JSON.parse(run('tar', ['-xzOf', tgz, 'package/package.json']).stdout) as { scripts: Record<string, string> };
    assert.deepEqual(['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => s in pkg.scripts), [], 'no script runs at install');
  });

  it('npm install -g of the tarball works offline on that PATH, compiles nothing, and links pcheck, padmin and the man pages', () => {
    const r = run('node', [NPM_CLI, 'install', '-g', '--prefix', prefix, '--offline', '--cache', join(sb.dir, 'npm-cache'), '--no-audit', '--no-fund', tgz], { env: serverEnv() });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // npm 11 warns of every install-time script (prepare too) it would run
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /gyp|install.?script|warn/i);
    const pkgDir = join(prefix, 'lib', 'node_modules', 'procsafe');
    assert.equal(existsSync(join(pkgDir, 'native', 'build')), false, 'nothing was compiled');
    // the web page's files are read from the package at start
    const page = run('node', ['-e', `console.log([...require(${JSON.stringify(join(pkgDir, 'dist', 'src', 'web', 'assets.js'))}).pageAssets().keys()].join(' '))`], { env: serverEnv() });
    assert.equal(page.stdout.trim(), '/ /app.js /dom.js /cards.js /app.css /favicon.svg', page.stderr);
    for (const f of ['bin/pcheck', 'bin/padmin', 'bin/clplogcmd', 'bin/procsafe-build-native', 'share/man/man8/pcheck.8', 'share/man/man8/padmin.8', 'share/man/man5/pfile.5', 'share/man/man5/procsafe.ini.5']) {
      assert.ok(existsSync(join(prefix, f)), `${f} not installed`);
    }
    const v = run(join(prefix, 'bin', 'pcheck'), ['--version'], { env: serverEnv() });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^pcheck \(procsafe\) \d+\.\d+\.\d+\n$/);
    // --help names what an installed copy has (man pages), not files of a checkout
    const help = run(join(prefix, 'bin', 'pcheck'), ['--help'], { env: serverEnv() }).stdout;
    assert.match(help, /man 5 pfile/);
    assert.match(help, /1 retry-over exit or internal error/);
    assert.doesNotMatch(help, /etc\/|sample/);
  });

  it('procsafe-build-native on that PATH says what is missing, exits 1, and leaves the prebuild in use', () => {
    const r = run(join(prefix, 'bin', 'procsafe-build-native'), [], { env: serverEnv() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Error: Could not find any Python installation to use/);
    assert.match(r.stderr, /native addon NOT built\. It needs a C compiler, make and python3/);
    assert.ok(existsSync(join(prefix, 'lib', 'node_modules', 'procsafe', 'native', 'prebuilds', 'linux-x64', 'procsafe-native.glibc.node')));
  });

  it('the npm-installed pcheck heals a killed process with the pidfd death watch of the prebuilt addon', async () => {
    const { pc, padmin } = await heal(join(prefix, 'bin', 'pcheck'), join(prefix, 'bin', 'padmin'), 'npmsvc');
    await pc.waitLine('death watch: pidfd)');
    assert.equal(pc.count('native addon not loaded'), 0);
    const param = JSON.parse(padmin('show param', ['--json']).stdout) as Record<string, unknown>;
    assert.equal(param.deathWatch, 'pidfd');
    assert.equal(param.nativeAddon, join(prefix, 'lib', 'node_modules', 'procsafe', 'native', 'prebuilds', 'linux-x64', 'procsafe-native.glibc.node'));
    await stop(pc);
  });

  it('the npm-installed pcheck prints units for its own node and path, and they verify clean', () => {
    const dir = join(sb.dir, 'units');
    mkdirSync(dir);
    for (const name of ['pcheck@', 'procsafe']) {
      const r = run(join(prefix, 'bin', 'pcheck'), ['--print-unit', name], { env: serverEnv() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^ExecStart=${process.execPath} ${join(prefix, 'lib', 'node_modules', 'procsafe', 'bin', 'pcheck')} `, 'm'));
      writeFileSync(join(dir, `${name}.service`), r.stdout);
      const v = run('systemd-analyze', ['verify', join(dir, `${name}.service`)], { env: { ...process.env, MANPATH: join(prefix, 'share', 'man'), SYSTEMD_LOG_COLOR: '0' } });
      assert.equal(`${v.stdout}${v.stderr}`.trim(), '', `verify printed for ${name}`);
    }
  });

  it('the .deb installs with dpkg -i: pcheck and padmin on /usr/bin, units, man pages, samples; the units verify clean as installed', () => {
    assert.notEqual(run('dpkg-query', ['-W', 'procsafe']).code, 0, 'a procsafe package is already installed on this machine; remove it first (dpkg -P procsafe)');
    assert.equal(existsSync('/usr/bin/pcheck'), false, '/usr/bin/pcheck exists already (an npm install -g with prefix /usr?): the test would overwrite it');
    const r = run('dpkg', ['-i', deb]);
    debInstalled = r.code === 0;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const v = run('/usr/bin/pcheck', ['--version'], { env: serverEnv() });
    assert.match(v.stdout, /^pcheck \(procsafe\) /);
    for (const f of ['/usr/bin/padmin', '/usr/bin/clplogcmd', '/lib/systemd/system/pcheck@.service', '/lib/systemd/system/procsafe.service', '/usr/share/man/man8/pcheck.8.gz', '/usr/share/man/man5/pfile.5.gz', '/usr/share/doc/procsafe/examples/tomcat/tomcat_start.sh', '/usr/share/doc/procsafe/examples/pfile.sample', '/usr/lib/procsafe/native/prebuilds/linux-x64/procsafe-native.glibc.node']) {
      assert.ok(existsSync(f), `${f} not installed`);
    }
    const verify = run('systemd-analyze', ['verify', '/lib/systemd/system/pcheck@.service', '/lib/systemd/system/procsafe.service'], { env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'systemd-analyze verify of the installed units');
    assert.equal(verify.code, 0);
    // installed where the shipped units look, pcheck prints them unchanged
    const printed = run('/usr/bin/pcheck', ['--print-unit', 'pcheck@'], { env: serverEnv() });
    assert.match(printed.stdout, /^ExecStart=\/usr\/bin\/pcheck -f \/etc\/procsafe\/%i\.pfile$/m);
    assert.ok(printed.stdout.endsWith(readFileSync('/lib/systemd/system/pcheck@.service', 'utf8')));
  });

  for (const addon of [true, false]) {
    it(`the installed pcheck@ unit's command reaches "started" (READY=1 from its main pid) ${addon ? 'with the addon, and heals with pidfd' : 'without the addon (PROCSAFE_NATIVE=off), through systemd-notify'}`, async () => {
      assert.ok(debInstalled, 'needs the .deb installed by the test before');
      const unit = readFileSync('/lib/systemd/system/pcheck@.service', 'utf8');
      const [cmd, ...args] = /^ExecStart=(.*)$/m.exec(unit)![1].replaceAll('%i', INSTANCE).split(' ');
      assert.equal(cmd, '/usr/bin/pcheck');
      const r = await Receiver.start(join(sb.dir, `notify-${addon}.sock`));
      receivers.push(r);
      // what systemd gives a Type=notify, WatchdogSec=30s service (the run directory aside)
      const env = { NOTIFY_SOCKET: r.address, WATCHDOG_USEC: '30000000', ...(addon ? {} : { PROCSAFE_NATIVE: 'off' }) };
      const { pc, padmin } = await heal(cmd, '/usr/bin/padmin', `unit${String(addon)}`, { pfileAt: UNIT_PFILE, args: () => args, env });
      const ready = await r.waitFor((d) => d.head === 'READY=1', 'READY=1');
      assert.equal(ready.pid, pc.pid, 'READY=1 came from the main pid, as NotifyAccess=main requires');
      await r.waitFor((d) => d.head === 'WATCHDOG=1' && d.pid === pc.pid, 'WATCHDOG=1');
      assert.match(padmin('show param').stdout, addon ? /^DEATH_WATCH +=\s*pidfd$/m : /^DEATH_WATCH +=\s*poll \(native addon not loaded: disabled by PROCSAFE_NATIVE=off\)$/m);
      await pc.waitLine(`death watch: ${addon ? 'pidfd' : 'poll'})`);
      await stop(pc);
      assert.ok(r.got.some((d) => d.head === 'STOPPING=1' && d.pid === pc.pid), 'STOPPING=1 from the main pid');
    });
  }

  it('dpkg -i of the same .deb again (an upgrade) while its pcheck runs: the running pcheck keeps healing, padmin and its scripts\' clplogcmd still work', async () => {
    assert.ok(debInstalled, 'needs the .deb installed by the test before');
    const scriptBody = `clplogcmd -m "upgsvc restarted after $PS_OLD_PID" -l WARN\nsetsid bash -c 'exec -a "$0" sleep infinity' '${join(sb.dir, 'upgsvc')}' </dev/null >/dev/null 2>&1 &\n`;
    const { pc, padmin, svc } = await heal('/usr/bin/pcheck', '/usr/bin/padmin', 'upgsvc', { scriptBody });
    const again = run('dpkg', ['-i', deb]);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.equal(pc.child.exitCode, null, `pcheck ended during the upgrade:\n${pc.stderr}`);
    const [pid] = sb.pidsOf(svc);
    const from = pc.lines.length;
    kill(pid, 'SIGKILL');
    await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Down`, 10_000, from);
    const up = await pc.waitLine(/ ,pid=(\d+)\) Up/, 10_000, from);
    sb.track(Number(/pid=(\d+)/.exec(up.text)![1]));
    assert.match(padmin('show pent').stdout, /restart_count += *2/);
    await pc.waitLine(`upgsvc restarted after ${pid}`, 5000, from);
    await stop(pc);
  });

  it("the .deb's maintainer scripts, where systemd runs: an upgrade try-restarts the running pcheck units on the new code, a removal stops them, a first install only reloads", () => {
    const control = join(sb.dir, 'deb-control');
    assert.equal(run('dpkg-deb', ['-e', deb, control]).code, 0);
    // a systemctl that notes its arguments, and a stand-in for /run/systemd/system (this
    // machine runs no systemd; the scripts do nothing without it)
    const bin = join(sb.dir, 'fake-systemctl');
    const calls = join(sb.dir, 'systemctl.calls');
    mkdirSync(bin);
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`, { mode: 0o755 });
    const booted = join(sb.dir, 'run-systemd-system');
    const maint = (script: string, args: string[], systemd = true): string[] => {
      rmSync(calls, { force: true });
      const text = readFileSync(join(control, script), 'utf8').replaceAll('/run/systemd/system', systemd ? booted : join(sb.dir, 'absent'));
      const r = run('sh', ['-c', text, script, ...args], { env: { PATH: `${bin}:/usr/bin:/bin` } });
      assert.equal(r.code, 0, r.stderr);
      return existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
    };
    mkdirSync(booted);
    const units = 'pcheck@*.service procsafe.service';
    assert.deepEqual(maint('postinst', ['configure', '']), ['daemon-reload'], 'a first install');
    assert.deepEqual(maint('postinst', ['configure', '0.0.9']), ['daemon-reload', `try-restart ${units}`], 'an upgrade');
    assert.deepEqual(maint('prerm', ['upgrade', '0.1.1']), [], 'the old package before an upgrade: the new one restarts');
    assert.deepEqual(maint('prerm', ['remove']), [`stop ${units}`], 'a removal');
    assert.deepEqual(maint('postrm', ['remove']), ['daemon-reload']);
    assert.deepEqual(maint('postinst', ['configure', '0.0.9'], false), [], 'no systemd: nothing');
  });

  it('dpkg -r and dpkg -P remove every file the .deb installed, and /etc/procsafe once it is empty', () => {
    assert.ok(debInstalled, 'needs the .deb installed by the test before');
    rmSync(UNIT_PFILE, { force: true });
    const files = run('dpkg-deb', ['-c', deb])
      .stdout.split('\n')
      .filter((l) => l.startsWith('-') || l.startsWith('l'))
      .map((l) => /\.(\/\S+)/.exec(l)![1]);
    assert.ok(files.length > 100);
    assert.equal(run('dpkg', ['-r', 'procsafe']).code, 0);
    assert.equal(existsSync('/usr/bin/pcheck'), false);
    assert.equal(run('dpkg', ['-P', 'procsafe']).code, 0);
    debInstalled = false;
    assert.deepEqual(files.filter((f) => existsSync(f)), []);
    for (const d of ['/usr/lib/procsafe', '/usr/share/doc/procsafe', '/etc/procsafe']) assert.equal(existsSync(d), false, `${d} is left`);
    assert.notEqual(run('dpkg-query', ['-W', 'procsafe']).code, 0);
  });
});
