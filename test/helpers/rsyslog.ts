// A real rsyslogd on a private socket for tests (Debian package rsyslog; .ci/run installs it).
// Template "t" writes `facility.severity TAG[PID]: MSG`; "traditional" the format of
// Debian's /var/log/syslog: `Mmm dd hh:mm:ss HOST TAG[PID]: MSG`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rsyslogdPath(): string {
  for (const p of ['/usr/sbin/rsyslogd', '/sbin/rsyslogd', '/usr/local/sbin/rsyslogd']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  assert.fail('rsyslogd not found: these tests need a real syslog daemon (apt-get install rsyslog)');
}

export interface Rsyslog {
  sock: string;
  out: string;
  stop(): Promise<void>;
}

/** rsyslogd -n on a private socket, writing `facility.severity TAG[PID]: MSG` lines. */
export async function startRsyslog(dir: string, opts: { template?: string } = {}): Promise<Rsyslog> {
  const sock = join(dir, 'log.sock');
  const out = join(dir, 'messages');
  const conf = join(dir, 'rsyslog.conf');
  rmSync(sock, { force: true }); // a stale socket of an earlier daemon would look ready
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      'module(load="imuxsock" SysSock.Use="off")',
      'template(name="t" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\\n")',
      'template(name="traditional" type="string" string="%timegenerated% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\\n")',
      `input(type="imuxsock" Socket="${sock}" CreatePath="on")`,
      `*.* action(type="omfile" file="${out}" template="${opts.template ?? 't'}")`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(rsyslogdPath(), ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const end = Date.now() + 10_000;
  while (!existsSync(sock)) {
    if (proc.exitCode !== null || Date.now() > end) {
      if (proc.pid && proc.exitCode === null) process.kill(proc.pid, 'SIGKILL');
      assert.fail(`rsyslogd did not create ${sock}: ${stderr}`);
    }
    await sleep(10);
  }
  return {
    sock,
    out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return;
      process.kill(proc.pid, 'SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
      if (!killed) {
        process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** Waits until every expected line is a whole line of the file; returns the file. */
export async function waitForLines(file: string, expected: string[], ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  let text: string;
  for (;;) {
    text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = new Set(text.split('\n'));
    const missing = expected.filter((e) => !lines.has(e));
    if (missing.length === 0) return text;
    if (Date.now() > end) assert.fail(`missing in ${file}:\n${missing.join('\n')}\n--- file:\n${text}`);
    await sleep(20);
  }
}

