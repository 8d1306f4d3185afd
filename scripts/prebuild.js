#!/usr/bin/env node
// `npm pack` (prepack): the prebuilt addon that the package ships, so that a server without a
// compiler gets the pidfd death watch and sd_notify. One N-API binary per platform serves
// every Node >= 20 (NAPI_VERSION 8): native/prebuilds/<platform>-<arch>/*.node, named with
// prebuildify's tags (napi, glibc or musl), which node-gyp-build matches at load time.
// It builds for the machine it runs on (linux-x64 glibc in our CI); docs/dependencies.md
// says which platforms the released package covers.
'use strict';
const { rmSync, readdirSync } = require('node:fs');
const path = require('node:path');
const prebuildify = require('prebuildify');
const { findNodeGyp, nodedir, nativeDir } = require('./node-gyp');

const gyp = findNodeGyp();
if (gyp === null) {
  console.error('prebuild: node-gyp not found (it comes with npm)');
  process.exit(1);
}
const dir = nodedir();
// headers from the installed node, not a download (the build host may have no internet)
if (dir !== null) process.env.npm_config_nodedir = dir;
const out = path.join(nativeDir, 'prebuilds');
rmSync(out, { recursive: true, force: true });
prebuildify({ cwd: nativeDir, napi: true, strip: true, tagLibc: true, targets: [process.versions.node], nodeGyp: gyp, quiet: true }, (err) => {
  if (err) {
    console.error(`prebuild: ${err.message}; build it by hand to see why: node scripts/build-native.js --verbose`);
    process.exit(1);
  }
  for (const platform of readdirSync(out)) {
    for (const f of readdirSync(path.join(out, platform))) {
      const file = path.join(out, platform, f);
      process.dlopen({ exports: {} }, file); // what is shipped must load here
      console.error(`prebuild: ${path.relative(path.join(nativeDir, '..'), file)}`);
    }
  }
});
