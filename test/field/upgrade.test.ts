// Upgrades (SPEC §10, issue 10 case 7): a program whose binary a package upgrade replaced on
// disk (/proc/PID/exe then ends in " (deleted)"), with pname a symlink to it as /usr/bin/java
// is, is still the same program: a restarted pcheck adopts it instead of starting a second
// copy; and a symlink re-pointed by an upgrade is followed at the next restart.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Sandbox, sandboxes, kill, sleep } from '../helpers/harness';

/** Replaces FILE the way dpkg does: the new file written beside it, then renamed over it. */
function upgrade(file: string): void {
  copyFileSync('/bin/sleep', `${file}.dpkg-new`);
  renameSync(`${file}.dpkg-new`, file);
}

/** A program started through the symlink with another argv[0] (so only its exe names it). */
function script(sb: Sandbox, name: string, link: string): string {
  return sb.script(`start-${name}.sh`, `setsid bash -c 'exec -a myapp-${name} "$0" infinity' '${link}' </dev/null >/dev/null 2>&1 &`);
}

function exeOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/exe`);
}

describe('a program upgraded on disk while it runs', () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('is adopted by a pcheck started again after the binary was replaced: no restart, one copy', async () => {
    const sb = box();
    mkdirSync(join(sb.dir, 'jvm'));
    const bin = join(sb.dir, 'jvm', 'java');
    copyFileSync('/bin/sleep', bin);
    const link = join(sb.dir, 'java'); // pname, like /usr/bin/java → the real binary
    symlinkSync(bin, link);
    const start = script(sb, 'a', link);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 1, RESTART_WAIT: 2 }, pents: [`${link}:${start}:0:3:exit`] });
    const pc1 = sb.pcheck(pfile);
    const up1 = await pc1.waitLine(`(${link} ,pid=`, 10_000); // not found → started by its script
    const pid = Number(/pid=(\d+)/.exec(up1.text)![1]);
    sb.track(pid);
    upgrade(bin);
    assert.equal(exeOf(pid), `${bin} (deleted)`);
    kill(pc1.pid, 'SIGKILL');
    await pc1.exited;
    const pc2 = sb.pcheck(pfile);
    await pc2.waitLine(`(${link} ,pid=${pid}) Up`, 5000);
    await sleep(2000); // past INITIAL_WAIT: a missed process would have been restarted by now
    assert.equal(pc2.count('Try to restart'), 0);
    assert.equal(pc2.count('process not found'), 0);
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid], ['AVAIL', String(pid)]);
    kill(pc2.pid, 'SIGTERM');
    assert.equal(await pc2.exited, 0);
  });

  it('follows pname when an upgrade re-points its symlink: the restarted program (the new path) is found', async () => {
    const sb = box();
    mkdirSync(join(sb.dir, 'jdk17'));
    mkdirSync(join(sb.dir, 'jdk21'));
    const old = join(sb.dir, 'jdk17', 'java');
    const next = join(sb.dir, 'jdk21', 'java');
    copyFileSync('/bin/sleep', old);
    copyFileSync('/bin/sleep', next);
    const link = join(sb.dir, 'java-b');
    symlinkSync(old, link);
    const start = script(sb, 'b', link);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 1, RESTART_WAIT: 2 }, pents: [`${link}:${start}:0:3:exit`] });
    const pc = sb.pcheck(pfile);
    const up = await pc.waitLine(`(${link} ,pid=`, 10_000);
    const pid = Number(/pid=(\d+)/.exec(up.text)![1]);
    sb.track(pid);
    await sleep(500); // its restart script has ended (a death before that is the script's business)
    // the upgrade: the alternatives symlink now names the new JDK
    unlinkSync(link);
    symlinkSync(next, link);
    const from = pc.lines.length;
    kill(pid, 'SIGKILL');
    const again = await pc.waitLine(new RegExp(`\\(${link} ,pid=\\d+\\) Up`), 10_000, from);
    const pid2 = Number(/pid=(\d+)/.exec(again.text)![1]);
    sb.track(pid2);
    assert.equal(exeOf(pid2), next);
    await sleep(500);
    assert.equal(pc.count('Set pid fail'), 0, pc.lines.map((l) => l.text).join('\n'));
    const [e] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.pid, e.retry_count], ['AVAIL', String(pid2), '2']);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
