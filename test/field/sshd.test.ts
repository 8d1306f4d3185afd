// openssh's sshd in the foreground (-D) under a wrapper script started with `nohup … &`, on a
// private configuration and port. sshd forks one process per connection (same exe, retitled
// "sshd: USER@notty"): an operator logged in over ssh while the listener is killed and
// restarted keeps the session — systemd's ssh.service has KillMode=process for that reason.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { fieldScenario } from '../helpers/field-daemon';
import { freePort, liveProcs, type ProcRow } from '../helpers/field';
import { kill, waitFor } from '../helpers/harness';

const SSHD = '/usr/sbin/sshd';
const clients: ChildProcess[] = [];
after(() => clients.forEach((c) => c.pid && c.exitCode === null && kill(c.pid, 'SIGKILL')));

fieldScenario('sshd -D under a wrapper script', async (sb) => {
  const port = await freePort(21580);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory (the package's tmpfiles.d makes it at boot)
  const key = (name: string) => {
    const path = join(sb.dir, name);
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
    if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
    return path;
  };
  const hostKey = key('host_key');
  const userKey = key('user_key');
  const conf = join(sb.dir, 'sshd_config');
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(sb.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${userKey}.pub`,
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      '',
    ].join('\n'),
  );
  const wrapper = sb.script('run-sshd.sh', `${SSHD} -D -f ${conf}`);
  const script = sb.script('sshd-start.sh', `nohup ${wrapper} &`);
  const ssh = (remote: string[], stdio: 'ignore' | 'pipe' = 'pipe') =>
    spawn('ssh', ['-i', userKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', '-p', String(port), 'root@127.0.0.1', ...remote], {
      stdio: ['ignore', stdio, 'ignore'],
    });
  const loginWorks = () =>
    new Promise<boolean>((resolve) => {
      const c = ssh(['echo', 'field-ok']);
      clients.push(c);
      let out = '';
      c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', () => resolve(out.includes('field-ok')));
    });
  return {
    pname: SSHD,
    script,
    options: `include_strings=${conf}`,
    isMine: (p) => p.exe === SSHD && p.cmdline.includes(conf),
    port,
    serves: loginWorks,
    writesLog: loginWorks, // sshd logs to syslog, absent here: a login that still works is what counts
    bystanders: async () => {
      // an operator's open session: the remote `sleep` and the sshd processes that carry it
      const marker = String(600 + (process.pid % 300));
      clients.push(ssh(['sleep', marker], 'ignore'));
      const remote = await waitFor(() => liveProcs().find((p) => p.cmdline === `sleep ${marker}`), 10_000, 'the ssh session to start');
      const chain: ProcRow[] = [remote];
      for (let p = remote; ; ) {
        const parent = liveProcs().find((q) => q.pid === p.ppid);
        if (!parent || parent.exe !== SSHD || parent.cmdline.includes(conf)) break;
        chain.push(parent);
        p = parent;
      }
      return chain;
    },
  };
});
