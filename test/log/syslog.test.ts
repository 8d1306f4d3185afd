// Talks to a real rsyslogd on a private socket, in both modes (addon and logger(1)).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadNative, nativeLoadError } from '../../src/native';
import { startRsyslog, waitForLines, type Rsyslog } from '../helpers/rsyslog';
import { createSyslogSink, formatSyslogDatagram, syslogFacility, type SyslogSink } from '../../src/log/syslog';
import { Severity } from '../../src/log/types';

const SYSLOG_JS = join(__dirname, '..', '..', 'src', 'log', 'syslog.js');
const token = () => randomBytes(4).toString('hex');

/** Runs a node process that writes one line through a fresh sink and exits at once. */
async function writeAndExit(mode: 'native' | 'logger', socketPath: string, message: string): Promise<number> {
  const script = `
    const { createSyslogSink } = require(${JSON.stringify(SYSLOG_JS)});
    const s = createSyslogSink({ socketPath: ${JSON.stringify(socketPath)}, facility: 'daemon', tag: 'pcheck',
      pid: process.pid, native: ${mode === 'logger' ? 'null' : 'undefined'} });
    if (s.mode !== ${JSON.stringify(mode)}) process.exit(3);
    s.write(2, ${JSON.stringify(message)});
    process.exit(1);`;
  const c = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
  const code = await new Promise<number | null>((r) => c.once('exit', (n) => r(n)));
  assert.equal(code, 1, 'the child should have exited right after write()');
  assert.ok(c.pid);
  return c.pid;
}

describe('syslog datagram format', () => {
  it('is <PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE with a space-padded day, like glibc', () => {
    const d = new Date(2026, 10, 3, 7, 4, 5); // local time
    assert.equal(
      formatSyslogDatagram(3 * 8 + Severity.notice, 'pcheck', 1234, '(/usr/bin/java ,pid=12742) Up', d),
      '<29>Nov  3 07:04:05 pcheck[1234]: (/usr/bin/java ,pid=12742) Up',
    );
    assert.equal(formatSyslogDatagram(16 * 8 + Severity.err, 'pcheck', 7, 'x', new Date(2026, 0, 23, 17, 30, 59)), '<131>Jan 23 17:30:59 pcheck[7]: x');
  });

  it('knows the syslog facility names and refuses unknown ones', () => {
    assert.equal(syslogFacility('daemon'), 3);
    assert.equal(syslogFacility('LOG_LOCAL0'), 16);
    assert.equal(syslogFacility('local7'), 23);
    assert.equal(syslogFacility('authpriv'), 10);
    assert.throws(() => syslogFacility('kern'), /unknown syslog facility 'kern'/);
    assert.throws(() => syslogFacility('deamon'), /unknown syslog facility 'deamon'/);
    assert.throws(() => createSyslogSink({ socketPath: '/dev/log', facility: 'nope', tag: 'pcheck', pid: 1 }), /unknown syslog facility/);
  });
});

for (const mode of ['native', 'logger'] as const) {
  describe(`syslog sink through ${mode === 'native' ? 'the native addon' : 'a logger(1) child'}`, () => {
    let dir: string;
    let rs: Rsyslog;
    const sinks: SyslogSink[] = [];
    const daemons: Rsyslog[] = [];
    const make = (socketPath: string) => {
      const s = createSyslogSink({ socketPath, facility: 'daemon', tag: 'pcheck', pid: process.pid, native: mode === 'native' ? loadNative() : null });
      sinks.push(s);
      return s;
    };

    before(async () => {
      if (mode === 'native') assert.ok(loadNative(), `native addon not loaded (${nativeLoadError()}): run node scripts/build-native.js --verbose`);
      dir = mkdtempSync(join(tmpdir(), 'procsafe-syslog-'));
      rs = await startRsyslog(dir);
      daemons.push(rs);
    });
    after(async () => {
      await Promise.all(sinks.map(async (s) => s.close?.()));
      await Promise.all(daemons.map((d) => d.stop()));
      rmSync(dir, { recursive: true, force: true });
    });

    it(`runs in ${mode} mode`, () => {
      assert.equal(make(rs.sock).mode, mode);
    });

    it('delivers ProcessSaver lines as pcheck[PID]: MESSAGE with the right facility and severity', async () => {
      const s = make(rs.sock);
      const t = token();
      s.write(Severity.notice, `(/usr/bin/java ,pid=12742) Up ${t}`);
      s.write(Severity.err, `Process [/usr/bin/java , pid=12742] Down ${t}`);
      s.write(Severity.crit, `(/usr/bin/java) FATAL ${t}`);
      await waitForLines(rs.out, [
        `daemon.notice pcheck[${process.pid}]: (/usr/bin/java ,pid=12742) Up ${t}`,
        `daemon.err pcheck[${process.pid}]: Process [/usr/bin/java , pid=12742] Down ${t}`,
        `daemon.crit pcheck[${process.pid}]: (/usr/bin/java) FATAL ${t}`,
      ]);
    });

    it('sends each line of a multi-line message as its own record', async () => {
      const s = make(rs.sock);
      const t = token();
      s.write(Severity.info, `first ${t}\nsecond ${t}\n`);
      await waitForLines(rs.out, [`daemon.info pcheck[${process.pid}]: first ${t}`, `daemon.info pcheck[${process.pid}]: second ${t}`]);
    });

    it('delivers the line written right before the process exits', async () => {
      const t = token();
      const pid = await writeAndExit(mode, rs.sock, `(/usr/bin/java) FATAL ${t}`);
      await waitForLines(rs.out, [`daemon.crit pcheck[${pid}]: (/usr/bin/java) FATAL ${t}`]);
    });

    it('delivers the last lines when SIGTERM hits the whole process group (as systemd does)', async () => {
      const t = token();
      const script = `
        const { createSyslogSink } = require(${JSON.stringify(SYSLOG_JS)});
        const s = createSyslogSink({ socketPath: ${JSON.stringify(rs.sock)}, facility: 'daemon', tag: 'pcheck',
          pid: process.pid, native: ${mode === 'logger' ? 'null' : 'undefined'} });
        process.on('SIGTERM', () => {
          s.write(4, 'SIGTERM Catch (15)!! ${t}');
          s.write(4, 'Stop pcheck!! ${t}');
          process.exit(0);
        });
        s.write(5, 'started ${t}');
        console.log('ready');
        setInterval(() => undefined, 1000);`;
      const c = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      assert.ok(c.pid);
      const pid = c.pid;
      await new Promise((r) => c.stdout?.once('data', r));
      await waitForLines(rs.out, [`daemon.notice pcheck[${pid}]: started ${t}`]);
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(-pid, 'SIGTERM'); // the child's own process group: node and logger(1)
      await exited;
      await waitForLines(rs.out, [`daemon.warning pcheck[${pid}]: SIGTERM Catch (15)!! ${t}`, `daemon.warning pcheck[${pid}]: Stop pcheck!! ${t}`]);
    });

    it('does not throw while no daemon listens, and delivers again once one has (re)started', async () => {
      const dir2 = join(dir, 'later');
      const sock2 = join(dir2, 'log.sock');
      const s = make(sock2);
      const t = token();
      s.write(Severity.notice, `nobody listens ${t}`); // no socket file at all
      mkdirSync(dir2);
      const rs2 = await startRsyslog(dir2);
      daemons.push(rs2);
      s.write(Severity.notice, `daemon started ${t}`);
      await waitForLines(rs2.out, [`daemon.notice pcheck[${process.pid}]: daemon started ${t}`]);

      await rs2.stop();
      s.write(Severity.notice, `daemon stopped ${t}`); // stale or missing socket
      const rs3 = await startRsyslog(dir2);
      daemons.push(rs3);
      s.write(Severity.notice, `daemon restarted ${t}`);
      await waitForLines(rs3.out, [`daemon.notice pcheck[${process.pid}]: daemon restarted ${t}`]);
    });

    if (mode === 'logger') {
      it('close() resolves after the line written right before it has arrived', async () => {
        const s = make(rs.sock);
        const t = token();
        const expected: string[] = [];
        for (let i = 0; i < 200; i++) {
          s.write(Severity.info, `line ${i} ${t}`);
          expected.push(`daemon.info pcheck[${process.pid}]: line ${i} ${t}`);
        }
        const t0 = Date.now();
        await s.close?.();
        assert.ok(Date.now() - t0 < 2500, `close() took ${Date.now() - t0} ms`);
        await waitForLines(rs.out, expected, 3000);
        s.write(Severity.info, `after close ${t}`); // dropped, and no throw
      });
    }
  });
}
