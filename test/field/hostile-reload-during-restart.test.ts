// Hostile probe (field suite): the operator edits an entry's options (here: adds hang_timeout)
// and reloads while that entry's restart script runs — a slow start script, 2 s of work before
// it starts the program. The edited entry is the same program with the same restart script:
// its restart under way goes on (one script, one copy, the counters kept), and a SIGTERM
// afterwards still stops that script (nothing starts after pcheck has stopped).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countLines } from '../helpers/field';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { type Pcheck, type Sandbox, kill, sandboxes, sleep, waitFor } from '../helpers/harness';

/** A program (`sleep` under the argv[0] DIR/app) whose restart script works 2 s before starting
 *  it, and notes each run in DIR/app.runs. */
function slowProgram(sb: Sandbox): { pname: string; script: string; runs: () => number } {
  const pname = join(sb.dir, 'app');
  const runs = join(sb.dir, 'app.runs');
  const script = sb.script('start-app.sh', `echo run >> '${runs}'\nsleep 2\nnohup bash -c 'exec -a "$0" sleep infinity' '${pname}' >/dev/null 2>&1 &`);
  return { pname, script, runs: () => countLines(runs) };
}

/** pcheck watching the slow program; killed, its restart script runs; meanwhile the entry's
 *  options are edited (hang_timeout added) and pcheck reloads. Returns after the reload. */
async function reloadedMidRestart(sb: Sandbox): Promise<{ app: ReturnType<typeof slowProgram>; pfile: string; pc: Pcheck; reloaded: string; answer: string }> {
  const app = slowProgram(sb);
  const param = { INITIAL_WAIT: 1, RESTART_WAIT: 5 };
  const pfile = sb.pfile({ param, pents: [`${app.pname}:${app.script}:0:3:none`] });
  spawnSync(app.script, { stdio: 'ignore' });
  const pid = await waitFor(() => sb.pidsOf(app)[0], 5000, 'app to run');
  const pc = sb.pcheck(pfile);
  await pc.waitLine(`(${app.pname} ,pid=${pid}) Up`);
  kill(pid, 'SIGKILL');
  await waitFor(() => app.runs() === 2, 8000, 'the restart script to run');
  sb.pfile({ param, pents: [`${app.pname}:${app.script}:0:3:none:hang_timeout=30`] });
  const r = sb.padmin(pfile, 'reload');
  assert.equal(r.code, 0);
  const reloaded = (await pc.waitLine('Reloaded pfile=')).text;
  return { app, pfile, pc, reloaded, answer: r.stdout };
}

describe('a reload that edits an entry while its restart script runs', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('the restart goes on under the edited entry: one script, one copy, retry_count kept', async () => {
    const sb = box();
    const { app, pfile, pc, reloaded, answer } = await reloadedMidRestart(sb);
    // the log and padmin say the entry was kept (edited), not removed and added
    const edited = `1 entries (edited 1:${app.pname} (options - -> hang_timeout=30: its restart under way carries on); 0 unchanged)`;
    assert.ok(reloaded.endsWith(edited), reloaded);
    assert.ok(answer.includes(edited), answer);
    const healed = await waitFor(() => {
      const v = sb.showPent(pfile)[0];
      return v.proc_sts === 'AVAIL' && v;
    }, 10_000, 'the entry AVAIL');
    await sleep(3000); // a second script would have started its program by now
    const log = pc.lines.map((l) => l.text).join('\n');
    assert.equal(app.runs(), 2, `one restart script after the kill\n${log}`);
    assert.deepEqual(sb.pidsOf(app), [Number(healed.pid)], `one copy, the one watched\n${log}`);
    assert.equal(healed.retry_count, '1', `the restart under way is counted once\n${log}`);
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });

  it('SIGTERM after such a reload still stops the running script: nothing starts', async () => {
    const sb = box();
    const { app, pc } = await reloadedMidRestart(sb);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    await sleep(3000); // the script would have started the program 2 s after it began
    const log = pc.lines.map((l) => l.text).join('\n');
    assert.deepEqual(sb.pidsOf(app), [], `nothing started after pcheck stopped\n${log}`);
  });
});
