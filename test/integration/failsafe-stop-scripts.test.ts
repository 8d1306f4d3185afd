// SPEC §10 "Nothing starts after pcheck has stopped", FailSafe side, with the real pcheck
// --config: SIGTERM while a group's start script still runs (longer than stop_timeout) stops
// that script and what it started (its process group and session, sparing what an entry
// watches) before the group's stop script runs and before `Stop pcheck!!`; nothing of it runs
// on after pcheck has exited.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, sleep, startTimeOf, waitFor } from '../helpers/harness';

describe('SIGTERM while a group start script runs', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('the start script and the application it started are stopped before the stop script and Stop pcheck!!; nothing runs on', async () => {
    const svc = sb.service('app');
    const stops = join(sb.dir, 'stops.log');
    const scriptPid = join(sb.dir, 'start.pid');
    // as operators write it: the application in the background, then a wait for it that hangs
    const start = sb.script('start.sh', `echo $$ > ${scriptPid}\nnohup bash -c 'exec -a "$0" sleep infinity' ${svc.pname} &\necho "waiting for the application"\nsleep 60\nexit 0`);
    const stop = sb.script('stop.sh', `echo "$PS_EVENT" >> ${stops}\nexit 0`);
    sb.ini(`[group:app]\nstart = "${start}"\nstop = "${stop}"\nstart_timeout = 120\nstop_timeout = 1\n`, `state_file = ${sb.stateFile}\n`);
    const pc = sb.failsafe(['--rehearse']);
    await pc.waitLine('Group app start: waiting for the application');
    const app = await waitFor(() => sb.pidsOf(svc)[0], 5000, 'the application');
    const script = Number(readFileSync(scriptPid, 'utf8'));
    const scriptStart = startTimeOf(script);
    assert.notEqual(scriptStart, null);

    const t0 = performance.now();
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    const took = performance.now() - t0;

    const text = pc.lines.map((l) => l.text);
    const stopped = text.findIndex((l) => new RegExp(`Group app start script \\(pid=${script}\\) stopped, pcheck stops: killed pid=.*\\b${app}\\b`).test(l));
    const stopRan = text.findIndex((l) => l.includes('Group app: stopping'));
    assert.ok(stopped >= 0, `the start script is stopped, its application with it:\n${text.join('\n')}`);
    assert.ok(stopRan > stopped, 'the stop script runs after the start script is stopped');
    assert.match(text.at(-1)!, /Stop pcheck!!$/);
    assert.deepEqual(existsSync(stops) ? readFileSync(stops, 'utf8').trim().split('\n') : [], ['STOP'], 'the stop script ran once');
    await sleep(300);
    assert.equal(startTimeOf(script), null, 'the start script is gone');
    assert.deepEqual(sb.pidsOf(svc), [], 'the application it started is gone');
    assert.ok(took < 5000, `pcheck stopped in ${Math.round(took)} ms, not after stop_timeout + 5 s`);
    assert.equal(text.filter((l) => l.includes('activation retry')).length, 0, 'a start pcheck stopped is not tried again');
  });
});
