// Monitor states an operator can trust, with the real pcheck --config and padmin:
// `monitor resume` of an active monitor whose group is Offline leaves it Offline (no check,
// no start); an `always` monitor does not start a group the operator stopped; `grace = 0`
// keeps the counters until padmin clears them; a [monitor:GROUP-pfile] that would hide the
// process monitor procsafe adds for the group's pfile is refused at load (exit 2).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, sleep, type Pcheck } from '../helpers/harness';

describe('monitors of a group the operator stopped', () => {
  const sb = new FailsafeSandbox();
  let pc: Pcheck;
  const running = join(sb.dir, 'running');

  before(async () => {
    // the group's "application" is a flag file: the checks fail while the group is stopped
    const start = sb.script('start.sh', `echo "start $PS_EVENT"; touch ${running}`);
    const stop = sb.script('stop.sh', `echo "stop $PS_EVENT"; rm -f ${running}`);
    const check = sb.script('check.sh', `[ -e ${running} ]`);
    const mon = (name: string, timing: string) =>
      `[monitor:${name}]\ntype = custom\ncommand = "${check}"\ntarget = app\ntiming = ${timing}\ninterval = 0.3\nretries = 0\nrestart_threshold = 5\nfinal_action = reboot\n`;
    sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\n\n${mon('app-active', 'active')}\n${mon('app-always', 'always')}`);
    pc = sb.failsafe(['--rehearse']);
    await sb.until('app Online, both monitors checked', (s) => s.groups[0].state === 'Online' && s.monitors.every((m) => m.lastCheckAt !== null));
    const r = sb.admin('group', 'stop', 'app');
    assert.equal(r.code, 0, r.stderr);
    await sb.until('app Offline', (s) => s.groups[0].state === 'Offline');
  });
  after(() => sb.cleanup());

  it('an always monitor keeps checking but does not start the group: its failures are not counted', async () => {
    await sleep(1500); // five intervals of failing checks
    const s = sb.status();
    assert.equal(s.groups[0].state, 'Offline');
    const m = s.monitors.find((x) => x.name === 'app-always')!;
    assert.deepEqual([m.failures, m.groupRestarts], [0, 0]);
    assert.equal(pc.count('restarting group app'), 0);
    // a check under way during the stop sees Stopping; either way one line for the run of failures
    assert.equal(pc.lines.filter((l) => /Monitor app-always failed while group app is (Stopping|Offline): not counted/.test(l.text)).length, 1, 'logged once');
  });

  it('resume of an active monitor whose group is Offline goes back to Offline: no check, no start', async () => {
    assert.equal(sb.monitor('app-active').status, 'Offline');
    assert.equal(sb.admin('monitor', 'suspend', 'app-active').code, 0);
    assert.equal(sb.monitor('app-active').status, 'Suspended');
    const r = sb.admin('monitor', 'resume', 'app-active');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /monitor app-active: Offline/);
    const from = pc.lines.length;
    await sleep(1500);
    assert.equal(sb.group('app').state, 'Offline', 'nothing started the group');
    assert.equal(sb.monitor('app-active').status, 'Offline');
    assert.equal(pc.lines.slice(from).filter((l) => /Monitor app-active failed|Group app start:/.test(l.text)).length, 0);
  });

  it('the operator starts the group: both monitors check again, counters from 0', async () => {
    assert.equal(sb.admin('group', 'start', 'app').code, 0);
    const s = await sb.until('app Online, monitors Normal', (v) => v.groups[0].state === 'Online' && v.monitors.every((m) => m.status === 'Normal'));
    assert.deepEqual(
      s.monitors.map((m) => m.groupRestarts),
      [0, 0],
    );
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

describe('grace = 0', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('healthy checks do not reset the group restarts; padmin monitor clear does', async () => {
    const broken = join(sb.dir, 'broken');
    const start = sb.script('start.sh', 'exit 0');
    const stop = sb.script('stop.sh', `rm -f ${broken}`);
    const check = sb.script('check.sh', `[ ! -e ${broken} ]`);
    sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\n\n[monitor:chk]\ntype = custom\ncommand = "${check}"\ntarget = app\ninterval = 0.2\ngrace = 0\nrestart_threshold = 3\n`);
    const pc = sb.failsafe(['--rehearse']);
    await sb.until('chk checked', (s) => s.monitors[0].lastCheckAt !== null);
    writeFileSync(broken, '');
    await pc.waitLine('restarting group app (group restart 1/3)');
    await sb.until('chk Normal again', (s) => s.groups[0].state === 'Online' && s.monitors[0].status === 'Normal');
    await sleep(1000); // several healthy checks
    assert.equal(sb.monitor('chk').groupRestarts, 1, 'kept');
    assert.equal(pc.count('healthy for 0s'), 0);
    assert.equal(sb.admin('monitor', 'clear', 'chk').code, 0);
    assert.equal(sb.monitor('chk').groupRestarts, 0);
    rmSync(broken, { force: true });
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

describe('the name of the process monitor procsafe adds for a pfile', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('a [monitor:web-pfile] beside group web with a pfile is refused at start with what to do (exit 2)', async () => {
    const svc = sb.service('app');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:1:group`] });
    const start = sb.script('start.sh', 'exit 0');
    sb.ini(`[group:web]\nstart = "${start}"\npfile = ${pfile}\n\n[monitor:web-pfile]\ntype = tcp\nhost = 127.0.0.1\nport = 1\ntarget = web\n`);
    const pc = sb.failsafe(['--rehearse']);
    const code = await Promise.race([pc.exited, sleep(10_000).then(() => 'still running after 10 s')]);
    assert.equal(code, 2);
    assert.match(
      pc.stderr,
      /procsafe\.ini:\d+: \[monitor:web-pfile\]: procsafe names the process monitor it adds for the pfile of \[group:web\] web-pfile, so this section would hide it; rename this monitor/,
    );
  });
});
