#!/usr/bin/env node
// Compiles the addon in native/ for this machine with node-gyp (a C compiler, make and
// python3 needed), into native/build/Release, which the loader prefers to a prebuild.
//
//   procsafe-build-native            (installed copy; also `npm run build-native`)
//   node scripts/build-native.js --optional --if-stale   (`npm run build` in a checkout:
//                                    compiles when the sources are newer; a failure warns)
// The package has no install script (npm warns that unreviewed ones will be blocked): the
// tarball ships a prebuild, and a checkout builds the addon with `npm run build`.
//
// Only needed where the package ships no prebuild (see docs/dependencies.md). On failure it
// prints node-gyp's own error lines and exits 1 (0 with --optional: procsafe still runs,
// with the /proc poll death watch and logger(1)).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { findNodeGyp, nodedir, nativeDir } = require('./node-gyp');

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    'Usage: procsafe-build-native [--verbose]\n\n' +
      "Compiles procsafe's native addon for this machine (needs a C compiler, make and python3)\n" +
      'where the package has no prebuild for it. pcheck uses it from its next start: pidfd\n' +
      'death watch, sd_notify, syslog and stdout sends that never block. --verbose shows all of\n' +
      "node-gyp's output.\n" +
      'Exit codes: 0 built (or PROCSAFE_NATIVE=off); 1 not built (the reason is printed).\n',
  );
  process.exit(0);
}
const optional = process.argv.includes('--optional');
const verbose = process.argv.includes('--verbose');
const say = (line) => process.stderr.write(`procsafe-build-native: ${line}\n`);

const built = path.join(nativeDir, 'build', 'Release', 'procsafe_native.node');
const mtime = (f) => fs.statSync(f).mtimeMs;
if (process.argv.includes('--if-stale') && fs.existsSync(built)) {
  const sources = ['procsafe_native.c', 'binding.gyp'].map((f) => mtime(path.join(nativeDir, f)));
  if (mtime(built) >= Math.max(...sources)) process.exit(0);
}
if (process.env.PROCSAFE_NATIVE === 'off') {
  say('skipped: PROCSAFE_NATIVE=off');
  process.exit(0);
}

/** What went wrong, in node-gyp's and the compiler's words: the Error of node-gyp's stack
 *  ("Could not find any Python installation to use", "not found: make") and the lines of make
 *  and cc that report an error; not its banner or the rest of its stack. */
function errorLines(output) {
  const out = [];
  for (const l of output.split('\n')) {
    const m = /^gyp ERR! stack (\w*Error: .*)$/.exec(l);
    if (m) out.push(m[1]);
    else if (!l.startsWith('gyp ') && /error|not found|cannot|no such/i.test(l)) out.push(l.trim());
  }
  return out.length > 0 ? out.slice(-20) : output.trim().split('\n').slice(-10);
}

function fail(lines, hint) {
  for (const l of lines) process.stderr.write(`  ${l}\n`);
  say(`native addon NOT built. ${hint}`);
  say('without it pcheck notices deaths by polling /proc (every 20 ms, not pidfd events), sends syslog through logger(1) and sd_notify through systemd-notify(1)');
  process.exit(optional ? 0 : 1);
}

const gyp = findNodeGyp();
if (gyp === null) {
  fail([], 'node-gyp was not found: it comes with npm (install npm), or install it with `npm install -g node-gyp`.');
}
const dir = nodedir();
const args = [gyp, 'rebuild', ...(dir === null ? [] : [`--nodedir=${dir}`])];
say(`compiling ${path.join(nativeDir, 'procsafe_native.c')} with ${process.execPath} ${args.join(' ')}`);
const r = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.error) fail([r.error.message], 'node-gyp could not be run.');
if (r.status !== 0) {
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const tools = /not found: make|Could not find any Python|\b(cc|gcc|g\+\+|make): (command )?not found|execvp: (cc|gcc|g\+\+)/i.test(out);
  const hint = tools
    ? 'It needs a C compiler, make and python3 (Debian: apt-get install gcc make python3; RHEL: dnf install gcc make python3).'
    : `node-gyp exited with ${r.status}${verbose ? '' : '; run procsafe-build-native --verbose for its whole output'}.`;
  fail(errorLines(out), hint);
}

// prove that what was built loads in this node (a wrong nodedir would build a mismatch)
try {
  process.dlopen({ exports: {} }, built);
} catch (e) {
  fail([e instanceof Error ? e.message : String(e)], `${built} was built but does not load.`);
}
say(`built ${built}: pcheck uses it from its next start (pidfd death watch, sd_notify, syslog and stdout sends that never block)`);
