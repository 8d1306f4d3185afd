// pcheck's lines reach a real rsyslogd with the tag pcheck[PID], in the format of Debian's
// /var/log/syslog, with the native addon and with the logger(1) fallback; the last line
// before exit (Stop pcheck!!, FATAL) is never lost.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Sandbox, kill, waitFor } from '../helpers/harness';
import { startRsyslog } from '../helpers/rsyslog';

/** The lines rsyslogd has written, once `done(lines)` holds (or after 5 s). */
async function syslogLines(file: string, done: (lines: string[]) => boolean): Promise<string[]> {
  const read = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  return waitFor(() => (done(read()) ? read() : null), 5000, `syslog lines in ${file}`, 20).catch(() => read());
}

for (const mode of ['native', 'logger'] as const) {
  describe(`syslog through a real rsyslogd (${mode === 'native' ? 'native addon' : 'logger(1) fallback'})`, () => {
    const sb = new Sandbox();
    after(() => sb.cleanup());
    const env: Record<string, string> = mode === 'logger' ? { PROCSAFE_NATIVE: 'off' } : {};

    it('receives Down, Try to restart, Up and Stop pcheck!! tagged pcheck[PID]', async () => {
      const rs = await startRsyslog(sb.dir, { template: 'traditional' });
      try {
        const svc = sb.service();
        const pfile = sb.pfile({
          param: { SYSLOG: 'on', SYSLOG_SOCKET: rs.sock, SYSLOG_FACILITY: 'local3' },
          pents: [`${svc.pname}:${svc.script}:0:3:exit`],
        });
        const pid = await sb.startService(svc);
        const pc = sb.pcheck(pfile, [], env);
        const up = await pc.waitLine(') Up');
        kill(pid, 'SIGKILL');
        const up2 = await pc.waitLine(') Up', 10_000, up.index + 1);
        const newPid = /pid=(\d+)/.exec(up2.text)![1];
        kill(pc.pid, 'SIGTERM');
        assert.equal(await pc.exited, 0);
        const tag = `pcheck[${pc.pid}]:`;
        const want = [
          `${tag} Process [${svc.pname} , pid=${pid}] Down`,
          `${tag} Try to restart (${svc.pname})`,
          `${tag} (${svc.pname} ,pid=${newPid}) Up`,
          `${tag} SIGTERM Catch (15)!!`,
          `${tag} Stop pcheck!!`,
        ];
        const lines = await syslogLines(rs.out, (ls) => want.every((w) => ls.some((l) => l.endsWith(w))));
        for (const w of want) {
          const line = lines.find((l) => l.endsWith(w));
          assert.ok(line, `rsyslog lacks "${w}":\n${lines.join('\n')}`);
          // Debian's traditional format: "Nov 23 17:40:39 host pcheck[123]: ..."
          assert.match(line, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ pcheck\[\d+\]: /);
        }
        assert.ok(lines.at(-1)!.endsWith(`${tag} Stop pcheck!!`), 'Stop pcheck!! is the last line');
      } finally {
        await rs.stop();
      }
    });

    it('receives FATAL as the last line of a retry-over exit', async () => {
      const rs = await startRsyslog(sb.dir, { template: 'traditional' });
      try {
        const svc = sb.service('fatal');
        const pfile = sb.pfile({ param: { SYSLOG: 'on', SYSLOG_SOCKET: rs.sock }, pents: [`${svc.pname}:${svc.script}:0:0:exit`] });
        const pid = await sb.startService(svc);
        const pc = sb.pcheck(pfile, [], env);
        await pc.waitLine(') Up');
        kill(pid, 'SIGKILL');
        assert.equal(await pc.exited, 1);
        const tag = `pcheck[${pc.pid}]:`;
        const fatal = `${tag} (${svc.pname}) FATAL`;
        const last = (await syslogLines(rs.out, (ls) => ls.some((l) => l.endsWith(fatal)))).at(-1) ?? '';
        assert.ok(last.endsWith(fatal), `last syslog line: ${last}`);
      } finally {
        await rs.stop();
      }
    });
  });
}
