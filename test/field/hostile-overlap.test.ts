// Hostile probe (field suite), now a rule: the seed guide's own include_strings=apache&tomcat for
// one Tomcat, next to include_strings=/opt/tomcat2 for a second one. Neither entry's strings
// contain the other's, so the load check accepts them, yet Tomcat 2's command line
// (-Dcatalina.base=/opt/tomcat2 … org.apache.catalina…) carries "apache", "tomcat" and
// "/opt/tomcat2": both entries match it. At run time a process one entry watches is never
// adopted by another, and entries looking together each prefer a process no other matches: each
// Tomcat is watched by its own entry, whichever started first, and the entry that matches the
// other's Tomcat says so once.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { type Sandbox, kill, sandboxes, sleep, waitFor } from '../helpers/harness';
import { liveProcs } from '../helpers/field';

/** Two Tomcat-like instances (`java` in the sandbox, perl sleeping under Tomcat's argv). */
function tomcats(sb: Sandbox) {
  const java = join(sb.dir, 'java');
  const start = (base: string) =>
    sb.script(`start-${base.split('/').pop()}.sh`, `nohup bash -c 'exec -a "$0" perl -e sleep -- "$@"' '${java}' -Dcatalina.base=${base} -Dcatalina.home=${base} org.apache.catalina.startup.Bootstrap start &`);
  /** the one live Tomcat of this sandbox with that base, read from /proc */
  const pidOf = (base: string) => {
    const pids = liveProcs().filter((p) => p.argv[0] === java && p.argv.includes(`-Dcatalina.base=${base}`));
    return pids.length === 1 ? pids[0].pid : undefined;
  };
  return { java, tomcat: { base: '/opt/tomcat', script: start('/opt/tomcat') }, tomcat2: { base: '/opt/tomcat2', script: start('/opt/tomcat2') }, pidOf };
}

describe('two entries whose include strings differ but both match one Tomcat', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('each watches its own Tomcat (the older one matches both), says once that the other is not its, and heals each death', async () => {
    const sb = box();
    const t = tomcats(sb);
    const pfile = sb.pfile({
      pents: [`${t.java}:${t.tomcat.script}:0:3:none:include_strings=apache&tomcat`, `${t.java}:${t.tomcat2.script}:0:3:none:include_strings=${t.tomcat2.base}`],
    });
    // tomcat2 was started first (the older process: the one the wide entry took before), then tomcat
    spawnSync(t.tomcat2.script, { stdio: 'ignore' });
    const tomcat2 = await waitFor(() => t.pidOf(t.tomcat2.base), 5000, 'tomcat2');
    await sleep(50);
    spawnSync(t.tomcat.script, { stdio: 'ignore' });
    const tomcat = await waitFor(() => t.pidOf(t.tomcat.base), 5000, 'tomcat');
    sb.track(tomcat);
    sb.track(tomcat2);
    const pc = sb.pcheck(pfile);
    const log = () => pc.lines.map((l) => l.text).join('\n');
    await pc.waitLine('Start pcheck');
    const pids = await waitFor(() => {
      const v = sb.showPent(pfile);
      return v.every((e) => e.proc_sts === 'AVAIL') && v.map((e) => Number(e.pid));
    }, 15_000, 'both entries AVAIL');
    assert.deepEqual(pids, [tomcat, tomcat2], `entry 1 watches tomcat, entry 2 tomcat2\n${log()}`);

    // tomcat dies: entry 1 matches only tomcat2 until its script has run, and never takes it
    const told = `(${t.java}) pid=${tomcat2} matches but is watched by pent_id 2: not adopted; make the entries' include/exclude strings distinct`;
    kill(tomcat, 'SIGKILL');
    await pc.waitLine(`Process [${t.java} , pid=${tomcat}] Down`, 10_000);
    await pc.waitLine(told, 10_000);
    const healed1 = await waitFor(() => {
      const v = sb.showPent(pfile);
      return v[0].proc_sts === 'AVAIL' && v[1].proc_sts === 'AVAIL' && v.map((e) => Number(e.pid));
    }, 15_000, 'entry 1 healed');
    const newTomcat = await waitFor(() => t.pidOf(t.tomcat.base), 5000, 'the new tomcat');
    assert.deepEqual(healed1, [newTomcat, tomcat2], log());

    // tomcat2 dies: entry 2 heals on a new tomcat2; entry 1 keeps its own
    kill(tomcat2, 'SIGKILL');
    await pc.waitLine(`Process [${t.java} , pid=${tomcat2}] Down`, 10_000);
    const healed2 = await waitFor(() => {
      const v = sb.showPent(pfile);
      return v[1].proc_sts === 'AVAIL' && Number(v[1].pid) !== tomcat2 && v.map((e) => Number(e.pid));
    }, 15_000, 'entry 2 healed');
    const newTomcat2 = await waitFor(() => t.pidOf(t.tomcat2.base), 5000, 'the new tomcat2');
    assert.deepEqual(healed2, [newTomcat, newTomcat2], log());
    assert.equal(pc.count('matches but is watched by pent_id'), 1, `told once\n${log()}`);
    kill(pc.pid, 'SIGTERM');
    await pc.exited;
  });
});
