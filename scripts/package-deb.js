#!/usr/bin/env node
// `npm run package:deb [-- --out DIR] [-- --tarball FILE]`: a Debian package made from the
// npm tarball (so both hold the same files), with dpkg-deb:
//   /usr/lib/procsafe/                 the package: dist, bin, node_modules (the bundled
//                                      runtime dependencies), native/prebuilds, etc/
//   /usr/bin/pcheck, padmin, clplogcmd symlinks into /usr/lib/procsafe/bin
//   /lib/systemd/system/               pcheck@.service, procsafe.service
//   /usr/share/man/man5, man8          pfile(5), procsafe.ini(5), pcheck(8), padmin(8)
//   /usr/share/doc/procsafe/           README, docs, changelog; examples/ (samples, Tomcat)
// Depends: nodejs (>= 20.19), the Node the code needs (package.json engines). Architecture
// follows the prebuilt addon: a .deb holds no compiler step, so it is made only where the
// npm pack shipped a prebuild (linux-x64 -> amd64). Leaves the .tgz and the .deb in DIR
// (default: the current directory) and prints their paths.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const outDir = path.resolve(arg('--out') ?? process.cwd());
const DEB_ARCH = { 'linux-x64': 'amd64', 'linux-arm64': 'arm64' };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  if (r.error || r.status !== 0) {
    console.error(`package-deb: ${cmd} ${args.join(' ')} failed: ${r.error?.message ?? `exit ${r.status}`}`);
    process.exit(1);
  }
  return r.stdout;
}

/** The npm tarball: the one given, or `npm pack` (prepack builds dist and the prebuild). */
function tarball() {
  const given = arg('--tarball');
  if (given) return path.resolve(given);
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const out = run(npm[0], [...npm.slice(1), 'pack', '--json', '--pack-destination', outDir], { cwd: root });
  // lifecycle scripts may print before npm's JSON
  return path.join(outDir, JSON.parse(out.slice(out.search(/^\[/m)))[0].filename);
}

function copyTree(from, to) {
  fs.cpSync(from, to, { recursive: true, preserveTimestamps: true });
}

function gzipInto(file, dest) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, run('gzip', ['-9nc', file], { encoding: 'buffer' }));
}

fs.mkdirSync(outDir, { recursive: true });
const tgz = tarball();
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'procsafe-deb-'));
try {
  const app = path.join(stage, 'usr', 'lib', 'procsafe');
  fs.mkdirSync(app, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', app, '--strip-components=1', '--no-same-owner']);

  const prebuilds = fs.existsSync(path.join(app, 'native', 'prebuilds')) ? fs.readdirSync(path.join(app, 'native', 'prebuilds')) : [];
  const arch = prebuilds.map((p) => DEB_ARCH[p]).find(Boolean);
  if (!arch) {
    console.error(`package-deb: the tarball has no prebuilt addon for a Debian architecture (${prebuilds.join(', ') || 'none'}); npm pack makes one on linux-x64`);
    process.exit(1);
  }

  // binaries on the PATH; units; man pages; docs and samples where Debian keeps them
  const usrBin = path.join(stage, 'usr', 'bin');
  fs.mkdirSync(usrBin, { recursive: true });
  for (const b of ['pcheck', 'padmin', 'clplogcmd']) fs.symlinkSync(`../lib/procsafe/bin/${b}`, path.join(usrBin, b));
  const units = path.join(stage, 'lib', 'systemd', 'system');
  fs.mkdirSync(units, { recursive: true });
  for (const u of fs.readdirSync(path.join(app, 'etc', 'systemd'))) fs.copyFileSync(path.join(app, 'etc', 'systemd', u), path.join(units, u));
  for (const section of ['man5', 'man8']) {
    for (const m of fs.readdirSync(path.join(app, 'man', section))) gzipInto(path.join(app, 'man', section, m), path.join(stage, 'usr', 'share', 'man', section, `${m}.gz`));
  }
  fs.rmSync(path.join(app, 'man'), { recursive: true });
  const doc = path.join(stage, 'usr', 'share', 'doc', 'procsafe');
  copyTree(path.join(app, 'docs'), doc);
  fs.rmSync(path.join(app, 'docs'), { recursive: true });
  fs.renameSync(path.join(app, 'README.md'), path.join(doc, 'README.md'));
  gzipInto(path.join(app, 'CHANGELOG.md'), path.join(doc, 'changelog.gz'));
  fs.rmSync(path.join(app, 'CHANGELOG.md'));
  fs.writeFileSync(path.join(doc, 'copyright'), `procsafe ${pkg.version}\nLicense: ${pkg.license}\nThe bundled Node.js modules in /usr/lib/procsafe/node_modules carry their own licences.\n`);
  const examples = path.join(doc, 'examples');
  copyTree(path.join(app, 'examples', 'tomcat'), path.join(examples, 'tomcat'));
  for (const f of ['pfile.sample', 'procsafe.ini.sample']) fs.copyFileSync(path.join(app, 'etc', f), path.join(examples, f));
  fs.mkdirSync(path.join(stage, 'etc', 'procsafe'), { recursive: true });

  // control, maintainer scripts (systemd reloads the units; nothing is enabled), md5sums
  const debian = path.join(stage, 'DEBIAN');
  fs.mkdirSync(debian);
  const kib = Number(run('du', ['-sk', '--exclude=DEBIAN', stage]).split(/\s/)[0]);
  fs.writeFileSync(
    path.join(debian, 'control'),
    [
      'Package: procsafe',
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      'Maintainer: procsafe maintainers <root@localhost>',
      `Installed-Size: ${kib}`,
      `Depends: nodejs (>= ${pkg.engines.node.replace(/^>=\s*/, '')})`,
      'Recommends: systemd',
      'Section: admin',
      'Priority: optional',
      `Description: ${pkg.description}`,
      ' pcheck watches the processes of a ProcessSaver pfile and restarts them when they die',
      ' (noticed at once through pidfd), or runs FailSafe groups, monitors and recovery chains.',
      ' padmin shows and drives it. Units: pcheck@.service (one per /etc/procsafe/NAME.pfile)',
      ' and procsafe.service (/etc/procsafe/procsafe.ini).',
      '',
    ].join('\n'),
  );
  for (const [name, text] of Object.entries(maintainerScripts())) fs.writeFileSync(path.join(debian, name), text, { mode: 0o755 });
  const files = run('find', ['.', '-type', 'f', '!', '-path', './DEBIAN/*'], { cwd: stage }).trim().split('\n').sort();
  fs.writeFileSync(path.join(debian, 'md5sums'), run('md5sum', files.map((f) => f.slice(2)), { cwd: stage }));
  run('chmod', ['-R', 'u=rwX,go=rX', stage]);

  const deb = path.join(outDir, `procsafe_${pkg.version}_${arch}.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb]);
  for (const f of [tgz, deb]) console.log(`${f} (${(fs.statSync(f).size / 1024).toFixed(0)} KiB)`);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}

/**
 * The maintainer scripts, as dh_installsystemd writes them for a service that keeps running
 * through an upgrade: an upgrade restarts the running pchecks on the new code (try-restart:
 * only those that run; KillMode=process keeps the watched programs, which the new pcheck
 * adopts), a removal stops them (their programs keep running, unwatched) instead of leaving
 * them to run from deleted files without padmin. Nothing without systemd as PID 1.
 */
function maintainerScripts() {
  const units = "'pcheck@*.service' procsafe.service";
  const sh = (body) => `#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n${body}fi\n`;
  return {
    // $1 configure, $2 the version replaced (empty on a first install)
    postinst: sh(`  systemctl daemon-reload >/dev/null || true\n  if [ "$1" = configure ] && [ -n "$2" ]; then\n    systemctl try-restart ${units} >/dev/null || true\n  fi\n`),
    prerm: sh(`  if [ "$1" = remove ]; then\n    systemctl stop ${units} >/dev/null || true\n  fi\n`),
    postrm: sh('  systemctl daemon-reload >/dev/null || true\n'),
  };
}
