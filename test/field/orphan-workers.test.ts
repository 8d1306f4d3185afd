// Orphaned workers are not the program (SPEC §10, issue 10 case 2). A master killed with
// SIGKILL leaves its workers running (nginx's `worker process`, apache's children): same
// program file, another argv[0], the master's session, and they keep its listening port.
// pcheck neither adopts them in its place nor lets them block the new master: it ends them
// (SIGTERM, then SIGKILL) before the restart script runs.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { Sandbox, kill, waitFor } from '../helpers/harness';
import { buildFixture } from '../fixtures/field/build';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** What the server on the port answers ("worker PID"), or null when nothing serves. */
function ask(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    let text = '';
    c.setTimeout(2000, () => c.destroy());
    c.on('data', (d) => (text += d.toString()));
    c.on('close', () => resolve(text.trim() || null));
    c.on('error', () => resolve(null));
  });
}

/** Polls an async check until it gives a value; throws after `ms`, naming `what`. */
async function until<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function procOf(pid: number): { ppid: number; argv0: string; sid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (f[0] === 'Z') return null;
    return { ppid: Number(f[1]), sid: Number(f[3]), argv0: readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] };
  } catch {
    return null;
  }
}

describe('a master killed with SIGKILL, its workers still holding the port', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('ends the workers before the restart: the new master binds and serves, the old workers are gone, retry_count 1', async () => {
    const bin = buildFixture('master-workers', sb.dir, 'fakesrv');
    const port = await freePort();
    // the server daemonizes itself, as nginx does
    const script = sb.script('start-fakesrv.sh', `${bin} ${port} 2`);
    const pfile = sb.pfile({ param: { RESTART_WAIT: 3 }, pents: [`${bin}:${script}:0:3:exit`] });
    spawnSync(script, { stdio: 'ignore' });
    const master = await waitFor(() => sb.pidsOf({ pname: bin, script })[0], 3000, 'the master');
    const workerOf = async (m: number) => {
      const w = Number(/^worker (\d+)$/.exec((await ask(port)) ?? '')?.[1]);
      return procOf(w)?.ppid === m ? w : undefined;
    };
    const oldWorker = await until(() => workerOf(master), 3000, 'a worker of the master serving');
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${bin} ,pid=${master}) Up`);
    const oldWorkers = [oldWorker];
    for (let i = 0; i < 10; i++) {
      const w = Number(/(\d+)/.exec((await ask(port)) ?? '')?.[1]);
      if (w && !oldWorkers.includes(w)) oldWorkers.push(w);
    }
    const t0 = performance.now();
    kill(master, 'SIGKILL');
    const ending = await pc.waitLine(`(${bin}) ending what the dead process left in its session`, 10_000);
    for (const w of oldWorkers) assert.match(ending.text, new RegExp(`[=,]${w}(,|$)`), `worker ${w} named in: ${ending.text}`);
    const ended = await pc.waitLine(`(${bin}) ended pid=`, 10_000);
    assert.match(ended.text, /by SIGTERM$/);
    const up = await pc.waitLine(new RegExp(`\\(${bin} ,pid=\\d+\\) Up`), 10_000, ended.index);
    const newMaster = Number(/pid=(\d+)/.exec(up.text)![1]);
    const served = await until(() => workerOf(newMaster), 5000, 'a worker of the new master serving');
    const healMs = performance.now() - t0;
    assert.ok(pc.lines.findIndex((l) => l.text.includes(`Try to restart (${bin})`)) > ending.index - 1);
    assert.equal(pc.count('fakesrv: bind'), 0, 'the new master could bind its port');
    for (const w of oldWorkers) assert.equal(procOf(w), null, `old worker ${w} is gone`);
    assert.equal(sb.pidsOf({ pname: bin, script }).length, 1, 'one master');
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid, e.retry_count], ['AVAIL', String(newMaster), '1']);
    assert.equal(procOf(served)?.argv0, 'fakesrv: worker process');
    console.log(`# master killed → a new master's worker serves: ${Math.round(healMs)} ms (${oldWorkers.length} old workers ended by SIGTERM)`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
