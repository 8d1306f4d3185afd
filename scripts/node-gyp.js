// Where node-gyp is and how to call it without a download: shared by build-native.js (a
// build for this machine) and prebuild.js (the prebuilt addon that `npm pack` ships).
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const nativeDir = path.join(__dirname, '..', 'native');

/** npm sets npm_config_node_gyp in scripts; outside npm, the node-gyp bundled with npm. */
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

/** Without a nodedir node-gyp downloads the headers; use the installed ones when npm did not
 *  say where they are (Debian's and NodeSource's nodejs have them under /usr/include/node). */
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

module.exports = { findNodeGyp, nodedir, nativeDir };
