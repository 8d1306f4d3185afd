// The FailSafe recovery chain and operations, through the real pcheck --config and padmin:
// CLUSTERPRO-shaped start/stop scripts run unchanged; the chain reaches its final action
// (rehearsed); timing `active`; suspend/resume/clear; reload keeps counters; a bad reload is
// refused; a file edit reloads; a schedule restarts a group; groups stop in reverse order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, sleep, type Pcheck } from '../helpers/harness';

/** A start.sh of the shape CLUSTERPRO generates: branch on $CLP_EVENT (START or FAILOVER), NO_CLP otherwise. */
function clusterproScript(sb: FailsafeSandbox, name: string, onStart: string, onStop: string): string {
  return sb.script(
    name,
    [
      'echo "CLP_EVENT=$CLP_EVENT CLP_DISK=$CLP_DISK CLP_SERVER=$CLP_SERVER CLP_GROUPNAME=$CLP_GROUPNAME"',
      'if [ "$CLP_EVENT" = "START" ]; then',
      '  if [ "$CLP_DISK" = "SUCCESS" ]; then',
      `    ${onStart}`,
      '  fi',
      'elif [ "$CLP_EVENT" = "FAILOVER" ]; then',
      '  echo FAILOVER',
      'else',
      '  echo NO_CLP',
      '  exit 1',
      'fi',
      onStop ? `${onStop}` : '',
      'exit 0',
    ].join('\n'),
  );
}

describe('FailSafe chain and operations', () => {
  const sb = new FailsafeSandbox();
  let pc: Pcheck;
  const broken = join(sb.dir, 'broken');
  const order = join(sb.dir, 'order.log');
  let ini: string;

  before(async () => {
    const check = sb.script('check.sh', `[ ! -e ${broken} ]`);
    const dbStart = clusterproScript(sb, 'db-start.sh', `echo db >> ${order}`, '');
    const dbStop = sb.script('db-stop.sh', `echo "stop $PS_EVENT"; echo db-stop >> ${order}`);
    const webStart = clusterproScript(sb, 'web-start.sh', `echo web >> ${order}`, '');
    const webStop = sb.script('web-stop.sh', `echo "stop $PS_EVENT"; echo web-stop >> ${order}`);
    ini = sb.ini(
      [
        `[group:db]\nstart = "${dbStart}"\nstop = "${dbStop}"\n`,
        `[group:web]\nstart = "${webStart}"\nstop = "${webStop}"\n`,
        `[monitor:web-check]\ntype = custom\ncommand = "${check}"\ntarget = web\ninterval = 0.2\ntimeout = 1\nretries = 1\nrestart_threshold = 2\ngrace = 3600\nfinal_action = reboot\n`,
        `[monitor:db-check]\ntype = custom\ncommand = "${check}"\ntarget = db\ntiming = active\ninterval = 0.2\ntimeout = 1\nretries = 0\nrestart_threshold = 1\ngrace = 3600\n`,
      ].join('\n'),
    );
    pc = sb.failsafe(['--rehearse']);
    await sb.until('both groups Online', (s) => s.groups.every((g) => g.state === 'Online'));
  });
  after(() => sb.cleanup());

  it('starts groups in file order with CLUSTERPRO’s variables, so a CLUSTERPRO start.sh runs unchanged', async () => {
    assert.deepEqual(readFileSync(order, 'utf8').trim().split('\n'), ['db', 'web']);
    await pc.waitLine('Group web start: CLP_EVENT=START CLP_DISK=SUCCESS CLP_SERVER=HOME CLP_GROUPNAME=web');
    assert.equal(pc.count('NO_CLP'), 0);
  });

  it('padmin status shows the server, groups, monitors and counters', () => {
    const r = sb.admin('status');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Server testhost: pid \d+/);
    assert.match(r.stdout, /web \.+: Online/);
    assert.match(r.stdout, /web-check \(custom -> web\) \.+: Normal {4}failures 0\/2 {2}group restarts 0\/2/);
  });

  it('a suspended monitor does not act on failures; resumed, it does', async () => {
    assert.equal(sb.admin('monitor', 'suspend', 'web-check').code, 0);
    await pc.waitLine('Monitor web-check suspended');
    writeFileSync(broken, '');
    await sleep(800);
    assert.equal(sb.monitor('web-check').status, 'Suspended');
    assert.equal(pc.count('restarting group web'), 0);
    writeFileSync(order, '');
    assert.equal(sb.admin('monitor', 'resume', 'web-check').code, 0);
    const restart = await pc.waitLine('Monitor web-check failed 2 times: restarting group web (group restart 1/2)');
    // CLUSTERPRO's template takes only START (or FAILOVER): a restart's start script gets START
    await pc.waitLine('Group web start: CLP_EVENT=START', 10_000, restart.index);
  });

  it('the chain goes on to the final action once the group restarts are used up (rehearsed)', async () => {
    await pc.waitLine('restarting group web (group restart 2/2)');
    await pc.waitLine('Monitor web-check failed 2 times after 2 restarts of group web: final action reboot');
    await pc.waitLine('REHEARSE: would reboot');
    const m = sb.monitor('web-check');
    assert.equal(m.finalActionDone, true);
    assert.equal(m.groupRestarts, 2);
    await sleep(600);
    assert.equal(pc.count('REHEARSE: would reboot'), 1, 'the final action runs once');
  });

  it('timing active: a monitor of a stopped group is Offline and does nothing', async () => {
    assert.equal(sb.admin('group', 'stop', 'db').code, 0);
    await sb.until('db Offline, db-check Offline', (s) => s.groups[0].state === 'Offline' && s.monitors.find((m) => m.name === 'db-check')!.status === 'Offline');
    const failedBefore = pc.count('Monitor db-check failed');
    await sleep(600); // `broken` exists: an active monitor would fail now
    assert.equal(pc.count('Monitor db-check failed'), failedBefore);
    assert.equal(sb.group('db').state, 'Offline', 'and nothing restarted it');
  });

  it('clear resets the counters and the final action', async () => {
    const r = sb.admin('monitor', 'clear', 'web-check');
    assert.equal(r.code, 0);
    await pc.waitLine('Monitor web-check cleared');
  });

  it('reload keeps unchanged monitors and their counters, and refuses a bad file', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(broken);
    await sb.until('web-check Normal', (s) => s.monitors.find((m) => m.name === 'web-check')!.status === 'Normal');
    // one more restart on record, then reload
    writeFileSync(broken, '');
    await pc.waitLine('restarting group web (group restart 1/2)', 10_000, pc.lines.length);
    rmSync(broken);
    await sb.until('web-check Normal', (s) => s.monitors.find((m) => m.name === 'web-check')!.status === 'Normal');
    const before = sb.monitor('web-check').groupRestarts;
    assert.equal(before, 1);

    writeFileSync(ini, readFileSync(ini, 'utf8') + '\n[monitor:extra]\ntype = tcp\nhost = 127.0.0.1\nport = 1\ninterval = 60\n');
    const r = sb.admin('reload');
    assert.equal(r.code, 0, r.stderr);
    const s = await sb.until('the new monitor', (v) => v.monitors.some((m) => m.name === 'extra'));
    assert.equal(s.monitors.find((m) => m.name === 'web-check')!.groupRestarts, before, 'counters kept');

    const good = readFileSync(ini, 'utf8');
    writeFileSync(ini, good.replace('interval = 60', 'interval = sixty'));
    const bad = sb.admin('reload');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /procsafe\.ini:\d+: .*interval/);
    assert.ok(sb.status().monitors.some((m) => m.name === 'extra'), 'the running configuration stays');
    writeFileSync(ini, good);
  });

  it('an edit of the ini file is picked up by the file watch', async () => {
    const from = pc.lines.length;
    writeFileSync(ini, readFileSync(ini, 'utf8').replace(/\n\[monitor:extra\][^[]*/, '\n'));
    await pc.waitLine(/Command execute\. \[reload\] .*\(file watch\)/, 10_000, from);
    await sb.until('extra gone', (v) => !v.monitors.some((m) => m.name === 'extra'));
  });

  it('SIGTERM stops the groups in reverse order, then exits 0', async () => {
    assert.equal(sb.admin('group', 'start', 'db').code, 0);
    await sb.until('db Online', (s) => s.groups[0].state === 'Online');
    writeFileSync(order, '');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.deepEqual(readFileSync(order, 'utf8').trim().split('\n'), ['web-stop', 'db-stop']);
    assert.match(pc.lines.at(-1)!.text, /Stop pcheck!!$/);
  });
});

describe('FailSafe schedules and --keep-running', () => {
  const sb = new FailsafeSandbox();
  // a pcheck of its own for each case: the first leaves its group running (--keep-running), which
  // a pcheck started after it with the same state file would adopt
  const fresh = new FailsafeSandbox();
  after(() => {
    sb.cleanup();
    fresh.cleanup();
  });

  it('a schedule restarts a group on time, and --keep-running leaves groups up at SIGTERM', async () => {
    const stop = sb.script('stop.sh', 'echo "stop $PS_EVENT"');
    const start = sb.script('start.sh', 'echo "start $PS_EVENT"');
    sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\n\n[schedule:nightly]\ncron = */2 * * * * *\naction = restart_group app\n`);
    const pc = sb.failsafe(['--rehearse', '--keep-running']);
    await pc.waitLine(/Schedule nightly \(\*\/2 \* \* \* \* \*\).*: restart group app/, 10_000);
    await pc.waitLine('Group app start: start RESTART');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.equal(pc.count('stop STOP'), 0, 'no stop script at SIGTERM with --keep-running');
  });

  it('a start that keeps failing is tried activation_retries more times, then the group is Error and its final action runs (rehearsed)', async () => {
    const sb = fresh;
    const start = sb.script('bad-start.sh', 'echo "cannot start: port in use"; exit 1');
    sb.ini(`[group:app]\nstart = "${start}"\nactivation_retries = 1\nfinal_action = reboot\n`);
    const pc = sb.failsafe(['--rehearse']);
    await pc.waitLine('Group app start: cannot start: port in use');
    await pc.waitLine('Group app: start failed (exit 1); activation retry 1/1');
    await pc.waitLine('Group app: start failed 2 times (exit 1): Error; final action reboot');
    await pc.waitLine('REHEARSE: would reboot');
    assert.equal(sb.group('app').state, 'Error');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it("a group's own final action refused by max_final_actions 0: its final_action alert says not done", async () => {
    const own = new FailsafeSandbox();
    try {
      const start = own.script('bad-start.sh', 'exit 1');
      own.ini(`[group:app]\nstart = "${start}"\nfinal_action = reboot\n\n[alert]\nevents = final_action\nwebhook_url = http://127.0.0.1:1/hook\n`, 'max_final_actions = 0\n');
      const pc = own.failsafe(['--rehearse']);
      await pc.waitLine('Final action reboot (group app) not done: max_final_actions 0: no OS final action is ever done; nothing is done');
      await pc.waitLine('ALERT final_action app: Group app: start failed; final action reboot (not done: max_final_actions 0: no OS final action is ever done)');
      assert.equal(pc.count('REHEARSE: would reboot'), 0);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    } finally {
      own.cleanup();
    }
  });

  it('a bad ini file is refused at start with section, key and line, exit 2', async () => {
    sb.ini('[group:app]\nstart = /bin/true; /bin/false\n');
    const pc = sb.failsafe();
    assert.equal(await pc.exited, 2);
    assert.match(pc.stderr, /procsafe\.ini:\d+: .*start.*;/);
  });
});
