// Field case 9a: a death while monitoring is off (`stop`, `stop pent ID`) is still logged
// (`Down`), but at notice severity: the operator turned monitoring off, so it is no alarm.
// A death with monitoring on stays an alarm (err). Checked in a real rsyslogd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, kill, waitFor, type Pcheck, type Service } from '../helpers/harness';
import { startRsyslog, waitForLines, type Rsyslog } from '../helpers/rsyslog';

describe('a death while monitoring is off is logged at notice, not as an alarm', () => {
  const sb = new Sandbox();
  let rs: Rsyslog;
  let pc: Pcheck;
  let a: Service;
  let b: Service;
  let pfile: string;

  before(async () => {
    rs = await startRsyslog(sb.dir);
    a = sb.service('a');
    b = sb.service('b');
    pfile = sb.pfile({ param: { SYSLOG: 'on', SYSLOG_SOCKET: rs.sock }, pents: [`${a.pname}:${a.script}:0:5:none`, `${b.pname}:${b.script}:0:5:none`] });
    await sb.startService(a);
    await sb.startService(b);
    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${a.pname} ,pid=`);
    await pc.waitLine(`(${b.pname} ,pid=`);
  });
  after(async () => {
    await rs.stop();
    sb.cleanup();
  });

  const tag = () => `pcheck[${pc.pid}]:`;

  it('stop pent 1, then a kill: Down at notice, no restart', async () => {
    assert.equal(sb.padmin(pfile, 'stop pent 1').code, 0);
    const pid = Number(sb.showPent(pfile)[0].pid);
    kill(pid, 'SIGKILL');
    await waitForLines(rs.out, [`daemon.notice ${tag()} Process [${a.pname} , pid=${pid}] Down`]);
    assert.equal(pc.count(`Try to restart (${a.pname})`), 0);
  });

  it('stop (every entry), then a kill: Down at notice too', async () => {
    assert.equal(sb.padmin(pfile, 'stop').code, 0);
    const pid = Number(sb.showPent(pfile)[1].pid);
    kill(pid, 'SIGKILL');
    await waitForLines(rs.out, [`daemon.notice ${tag()} Process [${b.pname} , pid=${pid}] Down`]);
  });

  it('with monitoring on again, a death is an alarm (err) and is healed', async () => {
    assert.equal(sb.padmin(pfile, 'start').code, 0);
    // the entries left DOWN get a fresh initial wait (10 s by default): start them by hand
    await sb.startService(b);
    const pid = await waitFor(() => (sb.showPent(pfile)[1].proc_sts === 'AVAIL' ? Number(sb.showPent(pfile)[1].pid) : 0), 15_000, 'b adopted again');
    kill(pid, 'SIGKILL');
    await waitForLines(rs.out, [`daemon.err ${tag()} Process [${b.pname} , pid=${pid}] Down`, `daemon.notice ${tag()} Try to restart (${b.pname})`]);
  });
});
