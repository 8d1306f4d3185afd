#!/usr/bin/env node
// `npm audit` for CI: fails on a high or critical advisory in any dependency. When the
// registry's audit endpoint does not answer (these machines reach the registry through a
// proxy that allows only GET: `405 Method Not Allowed`), it says so plainly and does not
// fail: an unreachable endpoint is not a finding, and CI must not pretend it checked.
'use strict';
const { spawnSync } = require('node:child_process');

const r = spawnSync('npm', ['audit', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
let report;
try {
  report = JSON.parse(r.stdout);
} catch {
  process.stderr.write(`npm audit printed no report (exit ${r.status}):\n${r.stderr}\n`);
  process.exit(1);
}
if (report.statusCode !== undefined || (report.error && !report.metadata)) {
  const why = report.message ?? report.error?.summary ?? JSON.stringify(report.error);
  process.stdout.write(`npm audit: NOT CHECKED, the audit endpoint did not answer: ${why}\n`);
  process.exit(0);
}
const v = report.metadata?.vulnerabilities ?? {};
process.stdout.write(`npm audit: ${JSON.stringify(v)}\n`);
const bad = (v.high ?? 0) + (v.critical ?? 0);
if (bad > 0) {
  for (const [name, a] of Object.entries(report.vulnerabilities ?? {})) {
    if (a.severity === 'high' || a.severity === 'critical') process.stdout.write(`  ${a.severity}: ${name} ${a.range ?? ''}\n`);
  }
  process.stdout.write('run `npm audit` for the advisories and `npm audit fix` or pin a fixed version\n');
  process.exit(1);
}
