// Hostile probe (field suite): a restart script that starts the daemon in the background and
// then `wait`s for it — the script lives exactly as long as the program (a wrapper that keeps
// a shell around the program, as some vendor scripts do). Each kill of the program ends its
// script too; the program must be healed at once (not after RESTART_WAIT), one copy, one
// retry per kill, and the script's own exit is not a second failure.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kill, sandboxes, waitFor } from '../helpers/harness';
import { countLines } from '../helpers/field';

describe('a restart script that starts the program and waits for it', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('each kill is healed at once by one new run of the script: one copy, one retry per kill', async () => {
    const sb = box();
    const pname = join(sb.dir, 'app');
    const runs = join(sb.dir, 'app.runs');
    const script = sb.script('start-app.sh', `echo run >> '${runs}'\nbash -c 'exec -a "$0" sleep infinity' '${pname}' &\nwait`);
    const runCount = () => countLines(runs);
    // RESTART_WAIT 20: a heal that waits for it fails the 8 s bound below
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.5, RESTART_WAIT: 20 }, pents: [`${pname}:${script}:0:3:none`] });
    const pc = sb.pcheck(pfile);
    const log = () => pc.lines.map((l) => l.text).join('\n');
    await pc.waitLine('Start pcheck');
    // nothing runs at start: pcheck runs the script, which stays
    let pid = await waitFor(() => {
      const v = sb.showPent(pfile)[0];
      return v?.proc_sts === 'AVAIL' && Number(v.pid);
    }, 10_000, 'the program started by pcheck');
    for (const n of [1, 2]) {
      const t0 = performance.now();
      kill(pid, 'SIGKILL');
      const healed = await waitFor(() => {
        const v = sb.showPent(pfile)[0];
        return v.proc_sts === 'AVAIL' && Number(v.pid) !== pid && v;
      }, 8000, `heal #${n}`).catch((e: Error) => assert.fail(`${e.message}\n${log()}`));
      console.log(`# script that waits for its program: heal #${n} ${Math.round(performance.now() - t0)} ms`);
      pid = Number(healed.pid);
      // the start at start-up (nothing ran) was the first retry
      assert.equal(healed.retry_count, String(n + 1), log());
      assert.equal(runCount(), n + 1, `one script run per kill\n${log()}`);
      assert.deepEqual(sb.pidsOf({ pname, script }), [pid], `one copy\n${log()}`);
    }
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});
