// rsyslogd from Debian's package as a watched daemon: started without -n it forks, does its
// start-up work in the child while the parent waits for it, then the parent exits — a real
// daemon that forks late. A private configuration with its own socket, pid file and output.
// rsyslogd refuses to start while its pid file names a process that exists.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { sleep } from '../helpers/harness';

const RSYSLOGD = '/usr/sbin/rsyslogd';
let seq = 0;

fieldScenario('rsyslogd (forks after start-up)', async (sb) => {
  const conf = join(sb.dir, 'rsyslog-field.conf');
  const sock = join(sb.dir, 'log.sock');
  const out = join(sb.dir, 'messages');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${sb.dir}")`,
      'module(load="imuxsock" SysSock.Use="off")',
      `input(type="imuxsock" Socket="${sock}" CreatePath="on")`,
      `*.* action(type="omfile" file="${out}")`,
      '',
    ].join('\n'),
  );
  const script = sb.script('rsyslogd-start.sh', `${RSYSLOGD} -f ${conf} -i ${join(sb.dir, 'rsyslogd.pid')}`);
  /** Sends one message through the daemon's socket (logger, from bsdutils) and waits for it in its output. */
  const logs = async (): Promise<boolean> => {
    const marker = `field-${process.pid}-${++seq}`;
    if (spawnSync('logger', ['-u', sock, '-t', 'fieldtest', marker], { stdio: 'ignore', timeout: 5000 }).status !== 0) return false;
    for (let i = 0; i < 40; i++) {
      if (existsSync(out) && readFileSync(out, 'utf8').includes(marker)) return true;
      await sleep(25);
    }
    return false;
  };
  return {
    pname: RSYSLOGD,
    script,
    options: `include_strings=${conf}`,
    isMine: (p) => p.exe === RSYSLOGD && p.cmdline.includes(conf),
    serves: logs,
    writesLog: logs,
  };
});
