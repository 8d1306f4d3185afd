// Never kill what is Up (SPEC §10, issue 10 case 4). A restart script that starts the program
// in its own process group (`nohup … &`, as catalina.sh does) and then hangs is killed at its
// timeout with the helpers it started, but the program it started and pcheck adopted keeps
// running: no Down, no second restart, no retry-over loop.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Sandbox, sandboxes, kill, sleep } from '../helpers/harness';

/** Live (non-zombie) pids whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The script: the program in the script's own process group, then a hang (and a helper). */
function catalina(sb: Sandbox, pname: string, delay = 0): string {
  return sb.script(
    'catalina-start.sh',
    `echo "started $$"\n${delay > 0 ? `sleep ${delay}\n` : ''}nohup bash -c 'exec -a "$0" sleep infinity' '${pname}' >/dev/null 2>&1 &\nsleep 1000`,
  );
}

describe('a restart script that starts the program and then hangs', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('is killed at script_timeout with its helper, and the program it started stays Up: one restart, retry_count 1', async () => {
    const sb = box();
    const pname = join(sb.dir, 'catalina');
    const script = catalina(sb, pname);
    const svc = { pname, script };
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3, RESTART_WAIT: 2 }, pents: [`${pname}:${script}:0:3:exit:script_timeout=2`] });
    const pc = sb.pcheck(pfile);
    const started = await pc.waitLine(`(${pname}) script: started`);
    const scriptPid = Number(/started (\d+)/.exec(started.text)![1]);
    const up = await pc.waitLine(`(${pname} ,pid=`);
    const program = Number(/pid=(\d+)/.exec(up.text)![1]);
    assert.ok(groupMembers(scriptPid).includes(program), 'the program runs in the script\'s process group');
    const timedOut = await pc.waitLine(`Restart script of (${pname}) timed out`, 10_000);
    await sleep(3000); // past RESTART_WAIT: a killed program would have been restarted by now
    assert.ok(alive(program), 'the program is still running');
    assert.match(timedOut.text, new RegExp(`except pid=${program}: the program \\(Up\\)`));
    assert.deepEqual(groupMembers(scriptPid), [program], 'the script and its helper are gone, the program stays');
    assert.deepEqual(sb.pidsOf(svc), [program], 'one copy');
    assert.equal(pc.count(`Try to restart (${pname})`), 1);
    assert.equal(pc.count('Down'), 0);
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid, e.retry_count], ['AVAIL', String(program), '1']);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    assert.ok(alive(program), 'the program outlives pcheck');
  });

  it('the same for the script of a pcheck killed meanwhile: the next pcheck awaits it, adopts the program, kills only the script at the timeout', async () => {
    const sb = box();
    const pname = join(sb.dir, 'catalina2');
    // the program comes 1.5 s after the script starts: pcheck 1 is killed before that
    const script = catalina(sb, pname, 1.5);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3, RESTART_WAIT: 2 }, pents: [`${pname}:${script}:0:3:exit:script_timeout=4`] });
    const pc1 = sb.pcheck(pfile);
    await pc1.waitLine(`Try to restart (${pname})`);
    await sleep(300); // the script is named in the state file
    kill(pc1.pid, 'SIGKILL');
    await pc1.exited;
    const pc2 = sb.pcheck(pfile);
    await pc2.waitLine('restart script of the previous pcheck still runs');
    const up = await pc2.waitLine(`(${pname} ,pid=`, 10_000);
    const program = Number(/pid=(\d+)/.exec(up.text)![1]);
    const timedOut = await pc2.waitLine(`Restart script of (${pname}) timed out`, 10_000);
    await sleep(2500);
    assert.ok(alive(program), 'the program is still running');
    assert.match(timedOut.text, new RegExp(`except pid=${program}: the program \\(Up\\)`));
    assert.deepEqual(sb.pidsOf({ pname, script }), [program], 'one copy');
    assert.equal(pc2.count(`Try to restart (${pname})`), 0);
    assert.equal(pc2.count('Down'), 0);
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid], ['AVAIL', String(program)]);
    kill(pc2.pid, 'SIGTERM');
    assert.equal(await pc2.exited, 0);
  });
});
