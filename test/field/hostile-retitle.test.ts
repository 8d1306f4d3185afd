// Hostile probe (field suite): a daemon that renames itself after it has forked (setproctitle,
// as redis-server, nginx's master and postgres do), with the include string an operator copies
// from ps — a part of the new title only ("127.0.0.1:PORT"). pcheck reads the fork's command
// line before the rename; it must see the new one, not keep the first reading until the restart
// wait runs out (Set pid fail, a second restart, a second copy).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Sandbox, kill, sleep, waitFor } from '../helpers/harness';
import { buildFieldFixture, describeProcs, endProgram, programTree, showPentJson, type ProcRow } from '../helpers/field';

describe('a daemon that renames itself 300 ms after its fork', () => {
  const sb = new Sandbox();
  let bin = '';
  const isMine = (p: ProcRow) => p.exe === bin;
  after(async () => {
    if (bin) await endProgram(isMine);
    sb.cleanup();
  });

  it('is found under its new title after each restart: one copy, retry_count 1 then 2, no Set pid fail', async () => {
    bin = buildFieldFixture('retitle-daemon', sb.dir);
    const port = 6000 + (process.pid % 1000);
    const script = sb.script('start-retitled.sh', `${bin} --port ${port}`);
    const title = `127.0.0.1:${port}`;
    const pfile = sb.pfile({ param: { RESTART_WAIT: 5 }, pents: [`${bin}:${script}:0:3:exit:include_strings=${title}`] });
    spawnSync(script, { stdio: 'ignore' });
    const first = await waitFor(() => programTree(isMine).all.find((p) => p.cmdline.includes(title)), 5000, 'the renamed daemon');
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${bin} ,pid=${first.pid}) Up`);
    let victim = first.pid;
    for (const round of [1, 2]) {
      const from = pc.lines.length;
      kill(victim, 'SIGKILL');
      await pc.waitLine(`Try to restart (${bin})`, 10_000, from);
      const up = await pc.waitLine(new RegExp(`\\(${bin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} ,pid=\\d+\\) Up`), 4000, from);
      await sleep(1500);
      const { all } = programTree(isMine);
      const log = pc.lines.map((l) => l.text).join('\n');
      assert.equal(all.length, 1, `copies: ${describeProcs(all)}\n${log}`);
      assert.equal(pc.count('Set pid fail'), 0, log);
      const [e] = showPentJson(sb, pfile);
      assert.equal(e.pid, all[0].pid, log);
      assert.equal(e.retry_count, round, log);
      assert.match(up.text, new RegExp(`pid=${all[0].pid}\\)`));
      victim = all[0].pid;
    }
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});
