// Hostile probe (field suite): the seed guide's own include_strings=apache&tomcat for one Tomcat,
// next to include_strings=/opt/tomcat2 for a second one. Neither entry's strings contain the
// other's, yet Tomcat's command line (-Dcatalina.base=/opt/tomcat2 … org.apache.catalina…)
// carries "apache", "tomcat" and "/opt/tomcat2": both entries can match tomcat2. Either pcheck
// refuses the pfile naming both lines, or each entry watches its own process — never both the
// same one while the other Tomcat goes unwatched.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { kill, sandboxes, sleep, waitFor } from '../helpers/harness';

describe('two entries whose include strings differ but both match one Tomcat', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('are refused at load, or each watches its own process and the death of either is healed', async () => {
    const sb = box();
    const java = join(sb.dir, 'java');
    const start = (base: string) =>
      sb.script(`start-${base.split('/').pop()}.sh`, `nohup bash -c 'exec -a "$0" perl -e sleep -- "$@"' '${java}' -Dcatalina.base=${base} -Dcatalina.home=${base} org.apache.catalina.startup.Bootstrap start &`);
    const tomcat = { base: '/opt/tomcat', script: start('/opt/tomcat') };
    const tomcat2 = { base: '/opt/tomcat2', script: start('/opt/tomcat2') };
    const pfile = sb.pfile({
      pents: [`${java}:${tomcat.script}:0:3:none:include_strings=apache&tomcat`, `${java}:${tomcat2.script}:0:3:none:include_strings=${tomcat2.base}`],
    });
    // tomcat2 was started first (the older process), then tomcat
    spawnSync(tomcat2.script, { stdio: 'ignore' });
    await sleep(50);
    spawnSync(tomcat.script, { stdio: 'ignore' });
    const pc = sb.pcheck(pfile);
    const refused = await Promise.race([pc.exited.then((code) => code === 2), pc.waitLine('Start pcheck').then(() => false)]);
    if (refused) {
      assert.match(pc.stderr, /line 9/, 'refused naming both lines');
      return;
    }
    const pids = await waitFor(() => {
      const v = sb.showPent(pfile);
      return v.every((e) => e.proc_sts === 'AVAIL') && v.map((e) => Number(e.pid));
    }, 15_000, 'both entries AVAIL');
    assert.notEqual(pids[0], pids[1], `both entries watch pid ${pids[0]}; the other Tomcat is unwatched\n${pc.lines.map((l) => l.text).join('\n')}`);
    for (const [i, pid] of pids.entries()) {
      const from = pc.lines.length;
      kill(pid, 'SIGKILL');
      await pc.waitLine(`Process [${java} , pid=${pid}] Down`, 10_000, from);
      await waitFor(() => sb.showPent(pfile)[i].proc_sts === 'AVAIL', 10_000, `entry ${i + 1} healed`);
    }
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});
