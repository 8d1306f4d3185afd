// Field case 1: padmin takes the ProcessSaver guide's command lines as written. The guide
// writes the command unquoted (`padmin -f PFILE -c show pent`): the shell hands padmin
// `show` and `pent` as two words, and padmin must read them as one command.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PADMIN, Sandbox, parseBlocks, type Pcheck, type Service } from '../helpers/harness';

describe('padmin takes the guide’s command lines as written', () => {
  const sb = new Sandbox();
  let pc: Pcheck;
  let svc: Service;
  let pfile: string;

  /** padmin with exactly these words as argv (no quoting done for the caller). */
  const padmin = (...args: string[]) => {
    const r = spawnSync(process.execPath, [PADMIN, ...args], { env: sb.env(), encoding: 'utf8', timeout: 10_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    svc = sb.service('guide');
    pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:60:3:exit`] });
    await sb.startService(svc);
    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=`);
  });
  after(() => sb.cleanup());

  it('padmin -f PFILE -c show pent (unquoted) prints what -c "show pent" prints', () => {
    const quoted = padmin('-f', pfile, '-c', 'show pent');
    const unquoted = padmin('-f', pfile, '-c', 'show', 'pent');
    assert.equal(quoted.code, 0, quoted.stderr);
    assert.equal(unquoted.code, 0, unquoted.stderr);
    assert.equal(unquoted.stdout, quoted.stdout);
    assert.equal(parseBlocks(unquoted.stdout)[0].pname, svc.pname);
  });

  it('the options may come in any order: -c show pent -f PFILE, and --json anywhere', () => {
    const r = padmin('-c', 'show', 'pent', '-f', pfile);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseBlocks(r.stdout)[0].proc_sts, 'AVAIL');
    const j = padmin('-c', 'show', 'pent', '--json', '-f', pfile);
    assert.equal(j.code, 0, j.stderr);
    assert.equal((JSON.parse(j.stdout) as { pent_id: number }[])[0].pent_id, 1);
  });

  it('show param, stop pent 1, start pent 1 and reset pent 1 work unquoted', async () => {
    assert.match(padmin('-f', pfile, '-c', 'show', 'param').stdout, /IPCKEY\s+= 0x/);
    let r = padmin('-f', pfile, '-c', 'stop', 'pent', '1');
    assert.equal(r.code, 0, r.stderr);
    await pc.waitLine(`Command execute. [stop pent 1] pfile='${pfile}'`);
    assert.equal(sb.showPent(pfile)[0].monitor_sts, 'off');
    r = padmin('-f', pfile, '-c', 'start', 'pent', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sb.showPent(pfile)[0].monitor_sts, 'on');
    r = padmin('-f', pfile, '-c', 'reset', 'pent', '1');
    assert.equal(r.code, 0, r.stderr);
    await pc.waitLine(`Command execute. [reset pent 1] pfile='${pfile}'`);
  });

  it('a command without -c after -f PFILE is the pfile’s command too', () => {
    const r = padmin('-f', pfile, 'show', 'pent');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseBlocks(r.stdout)[0].pname, svc.pname);
  });

  it('a wrong command is still told apart: unknown command, exit 1', () => {
    const r = padmin('-f', pfile, '-c', 'show', 'pents');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown command "show pents"/);
  });

  it('FailSafe subcommands (words without -f or -c) still go to the FailSafe daemon', () => {
    const r = padmin('status');
    assert.equal(r.code, 3, r.stderr); // no FailSafe pcheck runs in this sandbox
    assert.match(r.stderr, /no pcheck answers/);
  });
});
