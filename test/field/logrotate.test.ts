// LOG_FILE under a real logrotate (Debian's), configured as operators configure it for a daemon
// they do not signal: `create` (the file moved to .1 and a new one made) or `nocreate` (only
// moved), no postrotate, no copytruncate. pcheck goes on writing to the path: the lines after the
// rotation are in the new file, the ones before in .1, none lost or doubled (docs/decisions.md "Logs").
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, sleep } from '../helpers/harness';

const boxes: Sandbox[] = [];
after(() => boxes.forEach((b) => b.cleanup()));

/** The messages of pcheck `pid` in a log file (`TIME pcheck[PID]: MSG`). */
function messages(file: string, pid: number): string[] {
  if (!existsSync(file)) return [];
  const tag = `pcheck[${pid}]: `;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(tag))
    .map((l) => l.slice(l.indexOf(tag) + tag.length));
}

for (const mode of ['create', 'nocreate'] as const) {
  describe(`LOG_FILE rotated by logrotate (${mode}, no postrotate)`, () => {
    it('the lines after the rotation go to the new file at the path, the ones before stay in .1, none lost or doubled', async () => {
      const sb = new Sandbox();
      boxes.push(sb);
      const svc = sb.service();
      const log = join(sb.dir, 'pcheck.log');
      const pfile = sb.pfile({ param: { INITIAL_WAIT: 1 }, pents: [`${svc.pname}:${svc.script}:0:5:none`] });
      const pc = sb.pcheck(pfile);
      const up = await pc.waitLine(/\) Up$/, 10_000);
      const conf = join(sb.dir, 'logrotate.conf');
      writeFileSync(conf, `${log} {\n  rotate 3\n  ${mode}\n  missingok\n  notifempty\n}\n`);
      execFileSync('logrotate', ['-f', '-s', join(sb.dir, 'logrotate.state'), conf], { encoding: 'utf8' });
      assert.ok(existsSync(`${log}.1`), 'logrotate moved the file');
      assert.equal(existsSync(log), mode === 'create', `the path after logrotate (${mode})`);
      await sleep(1100); // the file sink looks at its path at most once a second

      const before = sb.pidsOf(svc)[0];
      kill(before, 'SIGKILL');
      const healed = await pc.waitLine(/\) Up$/, 15_000, up.index + 1);
      await sleep(200);
      const now = messages(log, pc.pid);
      const old = messages(`${log}.1`, pc.pid);
      assert.ok(now.some((m) => m.startsWith(`Process [${svc.pname} , pid=${before}] Down`)), `Down in the new file:\n${now.join('\n')}`);
      assert.ok(now.some((m) => healed.text.endsWith(m)), 'Up in the new file');
      assert.ok(old.some((m) => m.startsWith('Start pcheck')), `the lines before the rotation stay in .1:\n${old.join('\n')}`);
      assert.equal(statSync(log).mode & 0o777, 0o600, 'a file pcheck makes again is 0600');
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
      await pc.waitLine('Stop pcheck!!');
      // every line pcheck printed is in exactly one of the two files, in order
      const tag = `pcheck[${pc.pid}]: `;
      const printed = pc.lines.filter((l) => l.text.includes(tag)).map((l) => l.text.slice(l.text.indexOf(tag) + tag.length));
      assert.deepEqual([...messages(`${log}.1`, pc.pid), ...messages(log, pc.pid)], printed);
      assert.equal(messages(log, pc.pid).at(-1), 'Stop pcheck!!');
    });
  });
}
