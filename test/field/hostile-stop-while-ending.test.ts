// Hostile probe (field suite): SIGTERM to pcheck while it ends a dead master's workers (they
// ignore SIGTERM, so pcheck waits 1 s before SIGKILL) and its restart script waits for that.
// Nothing starts after pcheck has stopped: no script run, no new master; pcheck exits at once.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, sleep, waitFor } from '../helpers/harness';
import { programTree } from '../helpers/field';
import { spawnSync } from 'node:child_process';

describe('SIGTERM to pcheck while it ends the workers of a dead master', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('stops without running the restart script or starting a new master', async () => {
    const bin = join(sb.dir, 'myd');
    copyFileSync('/bin/sleep', bin);
    const ran = join(sb.dir, 'script-ran');
    // a master (argv[0] = its path) and two workers (argv[0] "myd: worker"), in one new session;
    // all ignore SIGTERM, as a busy worker may
    const script = sb.script(
      'start-myd.sh',
      `touch ${ran}.$$\nsetsid bash -c 'trap "" TERM; for i in 1 2; do (exec -a "myd: worker" ${bin} infinity) & done; exec ${bin} infinity' </dev/null >/dev/null 2>&1 &`,
    );
    const pfile = sb.pfile({ pents: [`${bin}:${script}:0:3:exit`] });
    spawnSync(script, { stdio: 'ignore' });
    const isMine = (p: { exe: string }) => p.exe === bin;
    const master = await waitFor(() => {
      const t = programTree(isMine);
      return t.all.length === 3 && t.mains.length === 1 ? t.mains[0] : undefined;
    }, 5000, 'master and two workers');
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${bin} ,pid=${master.pid}) Up`);
    kill(master.pid, 'SIGKILL');
    await pc.waitLine('ending what the dead process left');
    await sleep(200);
    const t0 = performance.now();
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    const stopMs = performance.now() - t0;
    await sleep(1500); // a script that was to start would have by now
    const log = pc.lines.map((l) => l.text).join('\n');
    const runs = spawnSync('bash', ['-c', `ls ${ran}.* 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(runs, '1', `the restart script ran only when the operator ran it\n${log}`);
    assert.equal(pc.lines[pc.lines.length - 1].text.endsWith('Stop pcheck!!'), true, log);
    const masters = programTree(isMine).all.filter((p) => p.argv[0] === bin);
    assert.deepEqual(masters, [], 'no new master was started');
    assert.ok(stopMs < 3000, `pcheck took ${Math.round(stopMs)} ms to stop`);
  });
});
