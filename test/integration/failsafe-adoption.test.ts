// SPEC §10 "No double start", with the real pcheck --config: pcheck killed (or stopped with
// --keep-running) while a group is Online, then started again in the same boot, adopts the group
// that still runs instead of running its start script a second time; a group whose application
// died meanwhile is restarted (stop script, then start script), never started on top of what is
// left; and a group the operator stopped stays stopped across a restart of pcheck, whatever its
// `always` monitor sees, until the operator starts it (docs/failsafe.md "Restarts of pcheck").
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, sleep, waitFor, type Pcheck, type Service } from '../helpers/harness';

interface App {
  svc: Service;
  starts: string;
  stops: string;
}

/** Group `app`: a start script as operators write it (nohup … &), a stop script, and a pfile
 *  whose entry watches the application (retry-over: the group's recovery). */
function appGroup(sb: FailsafeSandbox, monitor = ''): App {
  const svc = sb.service('app');
  const starts = join(sb.dir, 'starts.log');
  const stops = join(sb.dir, 'stops.log');
  const start = sb.script('start.sh', `echo "$PS_EVENT" >> ${starts}\nnohup bash -c 'exec -a "$0" sleep infinity' ${svc.pname} &\nexit 0`);
  const stop = sb.script('stop.sh', `echo "$PS_EVENT" >> ${stops}\nfor p in $(pgrep -f '^${svc.pname}'); do kill $p; done\nexit 0`);
  const pfile = sb.pfile({ param: { INITIAL_WAIT: 2, MONITOR_INTERVAL: 1 }, pents: [`${svc.pname}:${svc.script}:0:1:group`] });
  sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\npfile = ${pfile}\n${monitor}`, `state_file = ${sb.stateFile}\n`);
  return { svc, starts, stops };
}

/** A check as operators write it: is the application running? (fails while the group is stopped) */
const check = (sb: FailsafeSandbox): string => sb.script('check.sh', `pgrep -f '^${join(sb.dir, 'app')}' > /dev/null`);

const lines = (f: string): string[] => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);

async function online(sb: FailsafeSandbox, app: App): Promise<{ pc: Pcheck; pid: number }> {
  const pc = sb.failsafe(['--rehearse']);
  const s = await sb.until('app Online, its entry AVAIL', (v) => v.groups[0]?.state === 'Online' && v.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL', 20_000);
  const pid = s.pfiles[0].entries[0].pid!;
  assert.deepEqual(sb.pidsOf(app.svc), [pid]);
  return { pc, pid };
}

describe('pcheck started again in the same boot adopts a group that still runs', () => {
  for (const how of ['SIGKILL', 'SIGTERM with --keep-running'] as const) {
    it(`after a ${how}: the group is Online with its process, the start script is not run again`, async () => {
      const sb = new FailsafeSandbox();
      try {
        const app = appGroup(sb);
        const args = how === 'SIGKILL' ? ['--rehearse'] : ['--rehearse', '--keep-running'];
        const first = sb.failsafe(args);
        await sb.until('app Online, its entry AVAIL', (v) => v.groups[0]?.state === 'Online' && v.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL', 20_000);
        const pid = sb.pidsOf(app.svc)[0];
        kill(first.pid, how === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM');
        await first.exited;
        assert.deepEqual(sb.pidsOf(app.svc), [pid], 'the application outlived pcheck');

        const second = sb.failsafe(['--rehearse']);
        await second.waitLine('Group app: still Online from the previous pcheck', 20_000);
        const s = await sb.until('app Online, its entry AVAIL', (v) => v.groups[0]?.state === 'Online' && v.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL', 20_000);
        assert.equal(s.pfiles[0].entries[0].pid, pid);
        await sleep(1500); // INITIAL_WAIT and a scan: nothing more is started
        assert.deepEqual(lines(app.starts), ['START'], 'one start script run in all');
        assert.deepEqual(lines(app.stops), []);
        assert.deepEqual(sb.pidsOf(app.svc), [pid], 'exactly one copy of the application');
        assert.equal(second.count('Group app: starting'), 0);
        kill(second.pid, 'SIGTERM');
        assert.equal(await second.exited, 0);
      } finally {
        sb.cleanup();
      }
    });
  }

  it('a group whose application died while pcheck was down is restarted: its stop script, then its start script', async () => {
    const sb = new FailsafeSandbox();
    try {
      const app = appGroup(sb);
      const { pc: first, pid } = await online(sb, app);
      kill(first.pid, 'SIGKILL');
      await first.exited;
      kill(pid, 'SIGKILL');
      await waitFor(() => sb.pidsOf(app.svc).length === 0, 5000, 'the application to die');

      const second = sb.failsafe(['--rehearse']);
      await second.waitLine(/Group app: was Online before pcheck restarted, but .*not running: restarting it/, 20_000);
      await sb.until('app Online, its entry AVAIL', (v) => v.groups[0]?.state === 'Online' && v.pfiles[0]?.entries[0]?.proc_sts === 'AVAIL', 20_000);
      assert.deepEqual(lines(app.stops), ['RESTART']);
      assert.deepEqual(lines(app.starts), ['START', 'RESTART']);
      assert.equal(sb.pidsOf(app.svc).length, 1, 'exactly one copy of the application');
      kill(second.pid, 'SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      sb.cleanup();
    }
  });
});

describe('a stop by the operator is kept across a restart of pcheck', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('a group stopped with padmin group stop stays Offline when pcheck starts again, although its always monitor fails; padmin group start starts it', async () => {
    const app = appGroup(sb, `\n[monitor:app-check]\ntype = custom\ncommand = "${check(sb)}"\ntarget = app\ntiming = always\ninterval = 0.3\ntimeout = 2\nretries = 0\nrestart_threshold = 3\n`);
    const { pc: first } = await online(sb, app);
    assert.equal(sb.admin('group', 'stop', 'app').code, 0);
    await sb.until('app Offline', (v) => v.groups[0].state === 'Offline');
    kill(first.pid, 'SIGTERM');
    assert.equal(await first.exited, 0);

    const second = sb.failsafe(['--rehearse']);
    await second.waitLine('Group app: stopped by the operator before pcheck restarted: left Offline', 20_000);
    await sleep(1500); // the always monitor fails every 0.3 s meanwhile
    assert.equal(sb.group('app').state, 'Offline');
    assert.deepEqual(lines(app.starts), ['START'], 'not started by pcheck nor by the monitor');
    assert.equal(second.count('restarting group app'), 0);

    assert.equal(sb.admin('group', 'start', 'app').code, 0);
    await sb.until('app Online', (v) => v.groups[0].state === 'Online', 20_000);
    assert.deepEqual(lines(app.starts), ['START', 'START']);
    kill(second.pid, 'SIGTERM');
    assert.equal(await second.exited, 0);
  });
});
