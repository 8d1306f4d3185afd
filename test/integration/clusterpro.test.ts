// What a CLUSTERPRO custom monitor (genw, asynchronous / resident type) relies on when its
// script is `exec pcheck -f PFILE` (docs/clusterpro.md): pcheck stays in the foreground with
// the pid genw started; it exits 1 on retry-over (genw: error → recovery action, failover);
// it exits 0 on SIGTERM (genw stopping the monitor) and leaves the watched process running;
// it exits 2 at once on a bad pfile and starts nothing.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Pcheck, Sandbox, kill, sleep } from '../helpers/harness';

/** A genw monitor script as docs/clusterpro.md writes it: it execs pcheck, so genw's pid is pcheck's. */
function genwScript(sb: Sandbox, pfile: string): string {
  const path = join(sb.dir, 'genw.sh');
  writeFileSync(path, `#!/bin/sh\n# CLUSTERPRO genw, asynchronous: the monitor is pcheck itself\nexec ${PCHECK} -f ${pfile}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Starts the genw script the way genw does: a child whose exit genw waits for. */
function startGenw(sb: Sandbox, script: string): Pcheck {
  const child = spawn(script, [], { env: sb.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  sb.track(child.pid!);
  return new Pcheck(child);
}

/** pcheck's exit code; fails the test instead of hanging if it has not exited in time. */
async function exitWithin(pc: Pcheck, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pcheck ${pc.pid} has not exited within ${ms} ms; output:\n${pc.lines.map((l) => l.text).join('\n')}`)), ms);
  });
  try {
    return await Promise.race([pc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('pcheck as a CLUSTERPRO genw custom monitor: foreground, then exit 1 on retry-over', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());
  const svc = sb.service('app');
  const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:1:exit`] });
  let pc: Pcheck;

  it('stays in the foreground with the pid genw started, and has not exited after 3 s', async () => {
    const first = await sb.startService(svc);
    pc = startGenw(sb, genwScript(sb, pfile));
    await pc.waitLine(`(${svc.pname} ,pid=${first}) Up`);
    // the pcheck that answers padmin is the process genw started (exec, no fork, no daemonising)
    const list = sb.padmin(null, 'list', ['--json']);
    assert.equal(list.code, 0, list.stderr);
    const me = (JSON.parse(list.stdout) as { pfile: string; pid: number }[]).find((i) => i.pfile === pfile);
    assert.ok(me, `padmin list shows our pcheck: ${list.stdout}`);
    assert.equal(me.pid, pc.pid);
    assert.equal(ppidOf(pc.pid), process.pid, 'still our child');
    assert.ok(readFileSync(`/proc/${pc.pid}/cmdline`, 'latin1').split('\0').includes(PCHECK));
    await sleep(3000);
    assert.equal(pc.child.exitCode, null, 'pcheck has not exited');
    assert.equal(pc.child.signalCode, null);
    assert.equal(sb.showPent(pfile)[0].proc_sts, 'AVAIL');
  });

  it('heals the first death itself and exits 1 on the second (RETRY_OVER:EXIT, FATAL): genw sees an error', async () => {
    const p1 = Number(sb.showPent(pfile)[0].pid);
    const before = pc.lines.length;
    kill(p1, 'SIGKILL');
    await pc.waitLine(`Process [${svc.pname} , pid=${p1}] Down`, 10_000, before);
    const up = await pc.waitLine(new RegExp(`\\(${svc.pname.replace(/[/.]/g, '\\$&')} ,pid=(\\d+)\\) Up`), 10_000, before);
    const p2 = Number(/pid=(\d+)/.exec(up.text)![1]);
    sb.track(p2);
    assert.equal(pc.child.exitCode, null, 'a healed death does not end the monitor');

    const from = pc.lines.length;
    const t0 = performance.now();
    kill(p2, 'SIGKILL');
    const code = await exitWithin(pc, 10_000);
    const ms = performance.now() - t0;
    assert.equal(code, 1);
    await pc.waitLine(`(${svc.pname}) RETRY_OVER:EXIT`, 1000, from);
    const fatal = await pc.waitLine(`(${svc.pname}) FATAL`, 1000, from);
    assert.equal(fatal.index, pc.lines.length - 1, 'FATAL is the last line');
    process.stdout.write(`kill at retry-over → pcheck exit 1 (what genw sees): ${ms.toFixed(0)} ms\n`);
    assert.ok(ms < 2000, `exit after ${ms.toFixed(0)} ms`);
  });
});

describe('pcheck as a CLUSTERPRO genw custom monitor: SIGTERM and a bad pfile', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('on SIGTERM (genw stops the monitor) logs SIGTERM Catch (15)!! and Stop pcheck!!, exits 0, and leaves the watched process running', async () => {
    const svc = sb.service('app');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:1:exit`] });
    const pid = await sb.startService(svc);
    const pc = startGenw(sb, genwScript(sb, pfile));
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    const t0 = performance.now();
    kill(pc.pid, 'SIGTERM');
    assert.equal(await exitWithin(pc, 10_000), 0);
    const ms = performance.now() - t0;
    await pc.waitLine('SIGTERM Catch (15)!!', 1000);
    await pc.waitLine('Stop pcheck!!', 1000);
    await sleep(300);
    assert.deepEqual(sb.pidsOf(svc), [pid], 'the watched process still runs, same pid');
    process.stdout.write(`SIGTERM → pcheck exit 0: ${ms.toFixed(0)} ms\n`);
  });

  it('exits 2 at once on a bad pfile, naming the file and line, and starts nothing', async () => {
    const svc = sb.service('other');
    const pfile = sb.pfile({ param: { IPCKEY: 'zz' }, pents: [`${svc.pname}:${svc.script}:0:1:exit`] });
    const t0 = performance.now();
    const pc = startGenw(sb, genwScript(sb, pfile));
    assert.equal(await exitWithin(pc, 10_000), 2);
    const ms = performance.now() - t0;
    assert.match(pc.stderr, new RegExp(`${pfile.replace(/[/.]/g, '\\$&')}:2: IPCKEY`));
    await sleep(1000);
    assert.deepEqual(sb.pidsOf(svc), [], 'no restart script ran');
    const sockets = existsSync(sb.runDir) ? readdirSync(sb.runDir).filter((n) => n.includes(sb.ipckey.toString(16))) : [];
    assert.deepEqual(sockets, [], 'no control socket');
    process.stdout.write(`bad pfile → pcheck exit 2: ${ms.toFixed(0)} ms\n`);
  });
});
