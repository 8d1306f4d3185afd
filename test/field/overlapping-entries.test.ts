// Field case 6: two entries with include_strings=/opt/tomcat and include_strings=/opt/tomcat2
// both adopted tomcat2 (each takes the oldest match); tomcat was unwatched and its death went
// unnoticed. Such a pfile is refused at start (exit 2, both line numbers, the fix) and on
// reload; with the fix applied, each entry watches its own process.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Sandbox, kill, sandboxes, waitFor } from '../helpers/harness';
import { socketPath } from '../../src/control/protocol';

/** Two Tomcat-like instances: one program (`java` in the sandbox) with its base directory in argv. */
function tomcats(sb: Sandbox) {
  const java = join(sb.dir, 'java');
  const start = (base: string) =>
    // perl -e sleep: a process that sleeps for ever with any arguments after --
    sb.script(`start-${base.split('/').pop()}.sh`, `nohup bash -c 'exec -a "$0" perl -e sleep -- "$@"' '${java}' -Dcatalina.base=${base} org.apache.catalina.startup.Bootstrap start &`);
  return { java, tomcat: { base: '/opt/tomcat', script: start('/opt/tomcat') }, tomcat2: { base: '/opt/tomcat2', script: start('/opt/tomcat2') } };
}

describe('two entries that can match the same process', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('are refused at start: exit 2, both lines and the exclude to add; nothing is started', () => {
    const sb = box();
    const t = tomcats(sb);
    const pfile = sb.pfile({
      pents: [`${t.java}:${t.tomcat.script}:0:3:exit:include_strings=/opt/tomcat`, `${t.java}:${t.tomcat2.script}:0:3:exit:include_strings=/opt/tomcat2`],
    });
    const r = spawnSync(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.ok(r.stderr.startsWith(`pcheck: ${pfile}:10: this entry and the one on line 9 can match the same process`), r.stderr);
    assert.match(r.stderr, /add exclude_strings=\/opt\/tomcat2 to line 9, or make the include strings distinct/);
    assert.equal(existsSync(socketPath(sb.runDir, sb.ipckey)), false, 'no control socket');
  });

  it('with exclude_strings on the wider entry, each watches its own process: a kill of tomcat is healed', async () => {
    const sb = box();
    const t = tomcats(sb);
    const pfile = sb.pfile({
      param: { INITIAL_WAIT: 0.5 },
      pents: [
        `${t.java}:${t.tomcat.script}:0:3:none:include_strings=/opt/tomcat,exclude_strings=/opt/tomcat2`,
        `${t.java}:${t.tomcat2.script}:0:3:none:include_strings=/opt/tomcat2`,
      ],
    });
    const pc = sb.pcheck(pfile);
    // both are missing at start: each entry starts its own instance
    await pc.waitLine(/\) Up/);
    const pids = await waitFor(() => {
      const v = sb.showPent(pfile);
      return v.every((e) => e.proc_sts === 'AVAIL') && v.map((e) => Number(e.pid));
    }, 15_000, 'both entries AVAIL');
    assert.notEqual(pids[0], pids[1], 'two processes, one per entry');
    const from = pc.lines.length;
    kill(pids[0], 'SIGKILL');
    await pc.waitLine(`Process [${t.java} , pid=${pids[0]}] Down`, 10_000, from);
    // the new one: its script runs once the dead one is reaped (the Up lines of the start may
    // reach pc.lines only after `from` was taken, so the entry is asked, not the log)
    const after = await waitFor(() => {
      const v = sb.showPent(pfile);
      return v[0].proc_sts === 'AVAIL' && v[0].pid !== String(pids[0]) && v;
    }, 10_000, 'tomcat healed');
    assert.equal(after[1].pid, String(pids[1]), 'tomcat2 untouched');
  });

  it('an edit that makes two entries overlap is refused on reload; the running configuration stays', async () => {
    const sb = box();
    const t = tomcats(sb);
    const apart = `${t.java}:${t.tomcat.script}:0:3:none:include_strings=/opt/tomcat,exclude_strings=/opt/tomcat2`;
    const narrow = `${t.java}:${t.tomcat2.script}:0:3:none:include_strings=/opt/tomcat2`;
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.5 }, pents: [apart, narrow] });
    const pc = sb.pcheck(pfile);
    await pc.waitLine('Start pcheck');
    sb.pfile({ param: { INITIAL_WAIT: 0.5 }, pents: [`${t.java}:${t.tomcat.script}:0:3:none:include_strings=/opt/tomcat`, narrow] });
    const r = sb.padmin(pfile, 'reload');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /:11: this entry and the one on line 10 can match the same process/);
    await pc.waitLine('Reload refused (padmin)');
    assert.equal(sb.showPent(pfile)[0].include_strings, '/opt/tomcat');
    assert.equal(sb.showPent(pfile)[0].exclude_strings, '/opt/tomcat2');
  });
});
