#!/usr/bin/env node
// Builds the optional addon in native/ with node-gyp. The addon is optional (procsafe
// falls back to logger(1) and /proc polling), so a failed build prints one warning line
// and exits 0 instead of failing `npm install`.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const nativeDir = path.join(__dirname, '..', 'native');

if (process.env.PROCSAFE_NATIVE === 'off') process.exit(0);

// npm sets npm_config_node_gyp in scripts; outside npm use the node-gyp bundled with npm.
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: fine
  }
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

// Without a nodedir node-gyp would download headers; use the installed ones when npm did
// not say where they are (this machine's npm config has nodedir=/usr).
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.join(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${path.resolve(prefix)}`] : [];
}

const verbose = process.argv.includes('--verbose');
const gyp = findNodeGyp();
let reason;
if (!gyp) {
  reason = 'node-gyp not found';
} else {
  const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedirArgs()], {
    cwd: nativeDir,
    stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (r.error) reason = r.error.message;
  else if (r.status !== 0) {
    const lines = `${r.stderr ?? ''}`.split('\n').filter((l) => /error/i.test(l));
    reason = lines.find((l) => !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l)) ?? `exit ${r.status}`;
  }
}
if (reason) {
  console.warn(`procsafe: native addon not built (${reason.trim()}); using the logger(1) and /proc polling fallbacks`);
}
process.exit(0);
