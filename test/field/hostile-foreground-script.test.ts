// Hostile probe (field suite): a restart script that runs the program in the foreground — the
// last line `exec /opt/app/bin/app` (a systemd ExecStart= turned into a script), or
// `catalina.sh run` without `&` (the program is the script's child and the script waits for
// it). The program is adopted while its script runs, as it must be. Killed, it is a death to
// heal at once — not "a step of the script": healing must not wait for RESTART_WAIT and a
// `Set pid fail`.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { kill, sandboxes, waitFor } from '../helpers/harness';
import { endProgram, programTree, showPentJson } from '../helpers/field';

describe('a restart script that runs the program in the foreground', () => {
  const { box, cleanup } = sandboxes();
  const apps: string[] = [];
  after(async () => {
    cleanup();
    for (const app of apps) await endProgram((p) => p.exe === app);
  });

  for (const [how, last] of [
    ['exec app (the script becomes the program)', 'exec'],
    ['app as the script’s last command (the script waits for it)', ''],
  ] as const) {
    it(`${how}: a kill -9 is healed within 5 s (RESTART_WAIT is 10 s), one copy, retry_count 2`, async () => {
      const sb = box();
      const app = join(sb.dir, 'app');
      apps.push(app);
      copyFileSync('/bin/sleep', app);
      const script = sb.script('start-app.sh', `echo "starting app"\n${last ? `${last} ` : ''}${app} 100000`);
      const pfile = sb.pfile({ param: { RESTART_WAIT: 10, INITIAL_WAIT: 1 }, pents: [`${app}:${script}:0:3:exit`] });
      const pc = sb.pcheck(pfile);
      const isMine = (p: { exe: string }) => p.exe === app;
      // pcheck starts it once INITIAL_WAIT has passed (retry_count 1)
      await pc.waitLine(`(${app} ,pid=`, 10_000);
      const first = await waitFor(() => programTree(isMine).mains[0], 5000, 'the app');
      const from = pc.lines.length;
      const t0 = performance.now();
      kill(first.pid, 'SIGKILL');
      const log = () => pc.lines.map((l) => l.text).join('\n');
      const next = await waitFor(
        () => programTree(isMine).mains.find((p) => p.pid !== first.pid),
        5000,
        'a new app within 5 s of the kill',
      ).catch((e: Error) => assert.fail(`${e.message}\n${log()}`));
      const healMs = performance.now() - t0;
      await waitFor(() => showPentJson(sb, pfile)[0].pid === next.pid, 5000, 'the entry on the new app');
      assert.equal(programTree(isMine).mains.length, 1, log());
      assert.equal(showPentJson(sb, pfile)[0].retry_count, 2, log());
      assert.equal(pc.lines.slice(from).filter((l) => l.text.includes('Set pid fail')).length, 0, log());
      console.log(`# foreground script (${last || 'child'}): healed in ${Math.round(healMs)} ms`);
      kill(pc.pid, 'SIGTERM');
      await pc.exited;
    });
  }
});
