// Field case 9b: after an IPCKEY edit of the pfile, padmin said pcheck "is not running" although
// `padmin -c list` showed it. padmin now finds the pcheck that runs the pfile (by its path, as
// `list` knows it), talks to it and says that the IPCKEYs differ; reload keeps refusing the
// change. And the pcheck of another pfile on the socket of the edited IPCKEY does nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Sandbox, sandboxes, type Pcheck, type Service } from '../helpers/harness';

const hex = (n: number) => `0x${n.toString(16)}`;

describe('padmin after an IPCKEY edit of the pfile', () => {
  const { box, cleanup } = sandboxes();
  let sb: Sandbox;
  let svc: Service;
  let pfile: string;
  let pc: Pcheck;
  let running: string;
  let edited: string;

  before(async () => {
    sb = box();
    svc = sb.service('app');
    pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    await sb.startService(svc);
    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=`);
    running = hex(sb.ipckey);
    edited = hex(0x7e000000 + (sb.ipckey % 0xffffff));
    writeFileSync(pfile, readFileSync(pfile, 'utf8').replace(`IPCKEY ${running}`, `IPCKEY ${edited}`));
  });
  after(cleanup);

  it('show pent reaches the running pcheck and says the IPCKEYs differ: restart pcheck to apply it', () => {
    const r = sb.padmin(pfile, 'show pent');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`pname\\s+= ${svc.pname}`));
    assert.equal(
      r.stderr,
      `padmin: the pcheck of ${pfile} (pid ${pc.pid}) runs with IPCKEY ${running}; the pfile now says IPCKEY ${edited}: restart pcheck to apply it (reload does not change IPCKEY)\n`,
    );
  });

  it('a command is carried out by that pcheck (stop pent 1, start pent 1)', async () => {
    assert.equal(sb.padmin(pfile, 'stop pent 1').code, 0);
    await pc.waitLine(`Command execute. [stop pent 1] pfile='${pfile}'`);
    assert.equal(sb.padmin(pfile, 'start pent 1').code, 0);
    await pc.waitLine(`Command execute. [start pent 1] pfile='${pfile}'`);
  });

  it('reload still refuses the IPCKEY change, with pcheck’s reason', () => {
    const r = sb.padmin(pfile, 'reload');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`IPCKEY changed from ${running} to ${edited}; restart pcheck to change it`));
  });

  it('the pcheck of another pfile on the socket of the edited IPCKEY does nothing: padmin says whose socket it is and exits 3', () => {
    const other = box();
    const svc2 = other.service('other');
    // this pfile's IPCKEY is the one the first pcheck serves; its own pcheck does not run
    const pfile2 = other.pfile({ param: { IPCKEY: running, SHM_DUMP_FILE: `${other.dir}/other.dmp` }, pents: [`${svc2.pname}:${svc2.script}:0:3:exit`] });
    // asked in the first pcheck's run directory (sb.padmin), where that IPCKEY's socket is
    const r = sb.padmin(pfile2, 'stop');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`no pcheck of ${pfile2} answers on .* \\(IPCKEY ${running}\\): this pcheck \\(pid ${pc.pid}\\) runs pfile ${pfile}, not ${pfile2}`));
    assert.equal(pc.count('Command execute. [stop]'), 0, 'the other pfile’s command was not carried out');
    assert.equal(sb.showPent(pfile)[0].monitor_sts, 'on');
  });
});
