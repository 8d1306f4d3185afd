// Nothing starts after pcheck has stopped (SPEC §10, issue 10 case 5). A slow restart script
// still running when pcheck stops (SIGTERM, or a retry-over exit) is stopped with what it
// started before `Stop pcheck!!`: it cannot start the program afterwards, on a node that has
// already handed the group over.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Sandbox, sandboxes, kill, sleep } from '../helpers/harness';

/** A script that works 3 s before it starts the program (detached, as start scripts do). */
function slowStart(sb: Sandbox, name: string, pname: string): string {
  return sb.script(`${name}-start.sh`, `echo "working"\nsleep 3\nnohup bash -c 'exec -a "$0" sleep infinity' '${pname}' >/dev/null 2>&1 &`);
}

describe('pcheck stopping while a restart script runs', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('SIGTERM stops the script before Stop pcheck!!, exits at once, and the program never starts', async () => {
    const sb = box();
    const pname = join(sb.dir, 'late');
    const script = slowStart(sb, 'late', pname);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3 }, pents: [`${pname}:${script}:0:3:exit`] });
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${pname}) script: working`);
    const t0 = performance.now();
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    const exitMs = performance.now() - t0;
    const texts = pc.lines.map((l) => l.text.replace(/^.*?pcheck\[\d+\]: /, ''));
    const stopped = texts.findIndex((t) => t.startsWith(`(${pname}) restart script (pid=`) && t.includes('stopped, pcheck stops: killed pid='));
    assert.ok(stopped >= 0, texts.join('\n'));
    assert.deepEqual(texts.slice(-3), ['SIGTERM Catch (15)!!', texts[stopped], 'Stop pcheck!!']);
    assert.ok(exitMs < 3000, `SIGTERM → exit ${Math.round(exitMs)} ms`);
    await sleep(4000); // the script would have started the program 3 s after it began
    assert.deepEqual(sb.pidsOf({ pname, script }), [], 'nothing started after pcheck stopped');
    console.log(`# SIGTERM → exit with a restart script running: ${Math.round(exitMs)} ms`);
  });

  it('a retry-over exit of one entry stops the running script of another', async () => {
    const sb = box();
    const a = sb.service('a');
    const pnameB = join(sb.dir, 'b');
    const scriptB = slowStart(sb, 'b', pnameB);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3 }, pents: [`${a.pname}:${a.script}:0:0:exit`, `${pnameB}:${scriptB}:0:3:exit`] });
    const pidA = await sb.startService(a);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${a.pname} ,pid=${pidA}) Up`);
    await pc.waitLine(`(${pnameB}) script: working`);
    kill(pidA, 'SIGKILL');
    assert.equal(await pc.exited, 1);
    const texts = pc.lines.map((l) => l.text);
    assert.ok(texts.some((t) => t.includes(`(${a.pname}) RETRY_OVER:EXIT`)));
    assert.ok(texts.some((t) => t.includes(`(${pnameB}) restart script (pid=`) && t.includes('stopped, pcheck stops')), texts.join('\n'));
    await sleep(4000);
    assert.deepEqual(sb.pidsOf({ pname: pnameB, script: scriptB }), [], 'nothing started after pcheck stopped');
  });
});
