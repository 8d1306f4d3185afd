// Security of what is not a socket: LOG_FILE 0600, `padmin list` as nobody, the web token never
// in a log sink even when stdout is a terminal, custom monitor commands with umask >= 022.
// (security.test.ts and security-web.test.ts hold the rest.)
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PADMIN, PCHECK, Sandbox, kill, waitFor } from '../helpers/harness';
import { FailsafeSandbox } from '../helpers/failsafe';
import { asNobody, mode, octal, pcheckUmask000 } from './security-helpers';

describe('security: log files, padmin list, the token at a terminal, monitor commands', () => {
  const sb = new Sandbox();
  const fs = new FailsafeSandbox();
  after(() => {
    sb.cleanup();
    fs.cleanup();
  });

  it('LOG_FILE is 0600 under umask 000, and padmin list as nobody says permission denied, exit 1', async () => {
    chmodSync(sb.dir, 0o755);
    const svc = sb.service();
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 60 }, pents: [`${svc.pname}:${svc.script}:0:1:none`] });
    const pc = pcheckUmask000(sb, ['-f', pfile], {}, sb.dir);
    try {
      await pc.waitLine('Start pcheck');
      assert.equal(octal(mode(join(sb.dir, 'pcheck.log'))), '0600');
      const r = asNobody([process.execPath, PADMIN, '-c', 'list'], sb.env());
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.equal(
        r.stderr,
        `padmin: permission denied on 1 control socket in ${sb.runDir} (owner-only, mode 0600); run padmin as the user that runs pcheck (usually root)\n`,
      );
    } finally {
      kill(pc.pid, 'SIGTERM');
      await pc.exited;
    }
  });

  it('at a terminal, the token URL goes to the terminal only, never to log_file; monitor commands get umask 022', async () => {
    chmodSync(fs.dir, 0o755);
    const tokenDir = join(fs.dir, 'st');
    mkdirSync(tokenDir);
    const start = fs.script('start.sh', 'exit 0');
    const probe = fs.script('probe.sh', `umask > ${join(fs.dir, 'probe.umask')}\nexit 0`);
    const port = 41000 + (process.pid % 15000);
    const log = join(fs.dir, 'procsafe.log');
    writeFileSync(
      fs.iniPath,
      `[daemon]\nname = t\nsyslog = off\nlog_file = ${log}\nstate_file = ${join(tokenDir, 'x.state')}\n\n[group:app]\nstart = "${start}"\n\n` +
        `[monitor:probe]\ntype = custom\ncommand = "${probe}"\ntarget = app\ninterval = 1\n\n[web]\nlisten = 127.0.0.1:${port}\n`,
    );
    // script(1) gives pcheck a terminal as stdout
    const cmd = `umask 000; exec ${process.execPath} ${PCHECK} --config ${fs.iniPath} --rehearse`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: fs.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let tty = '';
    child.stdout.on('data', (d: Buffer) => (tty += d.toString()));
    try {
      await waitFor(() => /Open the web page: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}/.test(tty), 10_000, 'the token URL on the terminal');
      // the shell creates the file before umask(1) writes to it: wait for its content
      await waitFor(() => existsSync(join(fs.dir, 'probe.umask')) && readFileSync(join(fs.dir, 'probe.umask'), 'utf8').endsWith('\n'), 10_000, 'the probe to run');
      const token = readFileSync(join(tokenDir, 'web.token'), 'utf8').trim();
      assert.ok(tty.includes(token));
      assert.ok(!readFileSync(log, 'utf8').includes(token), 'the token is not in log_file');
      assert.equal(readFileSync(join(fs.dir, 'probe.umask'), 'utf8').trim(), '0022');
    } finally {
      const pid = Number(/pcheck\[(\d+)\]/.exec(readFileSync(log, 'utf8'))?.[1]);
      if (pid > 0) kill(pid, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
