#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's test runner, then the
// integration and field tests (the real pcheck; real daemons) once more with the portable
// death watch forced (PROCSAFE_DEATH_WATCH=poll), so both detection modes are proven on every run.
// Node 20's runner takes files, not globs, so we list them here.
// Usage: node test/run.js [SUBSTRING...]  (only files whose path contains one of them)
'use strict';
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const root = join(__dirname, '..', 'dist', 'test');
const only = process.argv.slice(2);
const files = find(root).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
// the Pacemaker test proves the OCF agent and the cluster's recovery, not the death watch: once is enough
const twice = [join('test', 'integration'), join('test', 'field')];
const integration = files.filter((f) => twice.some((d) => f.includes(d)) && !f.endsWith('pacemaker.test.js'));

function run(label, list, env) {
  if (list.length === 0) return 0;
  process.stdout.write(`\n# ${label}: ${list.length} files\n`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...list], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return r.status ?? 1;
}

const a = run('all tests (death watch: auto = pidfd when available)', files, {});
const b = run('integration and field tests again with PROCSAFE_DEATH_WATCH=poll', integration, { PROCSAFE_DEATH_WATCH: 'poll' });
process.exit(a !== 0 ? a : b);
