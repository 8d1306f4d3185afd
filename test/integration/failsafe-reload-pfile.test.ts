// SPEC §10 "Reload", FailSafe side, with the real pcheck --config and padmin: reload applies a
// valid edit of a group's pfile (entries with retry_over_action group), also through padmin -f
// PFILE -c reload; a bad edit of the ini file or of a pfile is refused as a whole, and padmin
// says `refused` (exit 1) with pcheck's reason, while the running configuration stays.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, type Pcheck, type Service } from '../helpers/harness';

describe('reload of a FailSafe daemon with a group pfile', () => {
  const sb = new FailsafeSandbox();
  let pc: Pcheck;
  let pfile = '';
  let one: Service;
  let two: Service;
  const pent = (s: Service) => `${s.pname}:${s.script}:0:1:group`;
  const entries = () => sb.status().pfiles[0].entries;

  before(async () => {
    one = sb.service('one');
    two = sb.service('two');
    pfile = sb.pfile({ param: { INITIAL_WAIT: 1, MONITOR_INTERVAL: 1 }, pents: [pent(one)] });
    sb.ini(`[group:app]\npfile = ${pfile}\n`, `state_file = ${sb.stateFile}\n`);
    pc = sb.failsafe(['--rehearse']);
    await sb.until('entry one AVAIL', (v) => v.groups[0]?.state === 'Online' && v.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL', 20_000);
  });
  after(() => {
    kill(pc.pid, 'SIGTERM');
    sb.cleanup();
  });

  it('padmin reload applies an edit of the group pfile: the new entry (retry_over_action group) is watched', async () => {
    writeFileSync(pfile, readFileSync(pfile, 'utf8') + pent(two) + '\n');
    const r = sb.admin('reload');
    assert.equal(r.code, 0, r.stderr);
    // padmin's answer and the log say what the reload of the group pfile changed
    assert.ok(r.stdout.includes(`pfile ${pfile}: 2 entries (added 2:${two.pname}; 1 unchanged)`), r.stdout);
    await pc.waitLine(`Reloaded pfile='${pfile}': 2 entries (added 2:${two.pname}; 1 unchanged)`);
    await sb.until('two entries, both AVAIL', (v) => v.pfiles[0].entries.length === 2 && v.pfiles[0].entries.every((e) => e.proc_sts === 'AVAIL'), 20_000);
    assert.equal(pc.count('Reload refused'), 0);
  });

  it('padmin -f PFILE -c reload applies it too (the pfile of a FailSafe group)', async () => {
    writeFileSync(pfile, readFileSync(pfile, 'utf8').replace(`${pent(two)}\n`, ''));
    const r = sb.padmin(pfile, 'reload');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`reloaded ${pfile}: 1 entries (removed ${two.pname}; 1 unchanged)`), r.stdout);
    assert.equal(entries().length, 1);
  });

  it("a LOG_FILE changed in a group pfile is said not to be used (FailSafe mode logs to [daemon] log_file), and it is not", () => {
    const good = readFileSync(pfile, 'utf8');
    const logFile = `${sb.dir}/group-pfile.log`;
    const was = /^LOG_FILE (.*)$/m.exec(good)![1];
    writeFileSync(pfile, good.replace(/^LOG_FILE .*$/m, `LOG_FILE ${logFile}`));
    try {
      const r = sb.padmin(pfile, 'reload');
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(`LOG_FILE ${was} -> ${logFile} (not used in FailSafe mode: [daemon] log_file and syslog are)`), r.stdout);
      assert.deepEqual([existsSync(was), existsSync(logFile)], [false, false]);
    } finally {
      writeFileSync(pfile, good);
      assert.equal(sb.padmin(pfile, 'reload').code, 0);
    }
  });

  it('a bad edit of the pfile: padmin reload says refused with the pfile line, exit 1, and the running entries stay', async () => {
    const good = readFileSync(pfile, 'utf8');
    writeFileSync(pfile, good + 'not an entry\n');
    try {
      const r = sb.admin('reload');
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^padmin: refused: .*test\.pfile:\d+: /m);
      await pc.waitLine(/Reload refused \(padmin\): .*test\.pfile:\d+/);
      assert.equal(entries().length, 1);
      assert.equal(entries()[0].proc_sts, 'AVAIL');
    } finally {
      writeFileSync(pfile, good);
    }
  });

  it('a bad edit of the ini file is refused the same way: refused, exit 1, the reason', () => {
    const ini = readFileSync(sb.iniPath, 'utf8');
    writeFileSync(sb.iniPath, ini + '\n[monitor:x]\ntype = tcp\n');
    try {
      const r = sb.admin('reload');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^padmin: refused: .*procsafe\.ini:\d+: /m);
    } finally {
      writeFileSync(sb.iniPath, ini);
    }
  });
});
