// redis-server from Debian's package, started as its documentation starts it: `redis-server
// CONF` with `daemonize yes`. The daemon renames itself after the fork ("redis-server
// 127.0.0.1:PORT", setproctitle, no exec): the operator copies that name from ps into
// include_strings, so the process only matches once it has renamed itself.
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { freePort, tcpAsk } from '../helpers/field';

const REDIS = '/usr/bin/redis-server';
/** /usr/bin/redis-server is a symlink (to redis-check-rdb): /proc/PID/exe shows the target */
const REDIS_EXE = realpathSync(REDIS);

/** Sends one inline command and returns the first line of the answer, or null. */
async function redisCommand(port: number, command: string): Promise<string | null> {
  const answer = await tcpAsk(port, `${command}\r\n`, '\r\n');
  return answer === null ? null : answer.slice(0, answer.indexOf('\r\n'));
}

fieldScenario('redis-server (daemonize yes, renames itself)', async (sb) => {
  const port = await freePort(21480);
  const conf = join(sb.dir, 'redis.conf');
  const logfile = join(sb.dir, 'redis.log');
  writeFileSync(
    conf,
    [`daemonize yes`, `port ${port}`, 'bind 127.0.0.1', `pidfile ${join(sb.dir, 'redis.pid')}`, `dir ${sb.dir}`, `logfile ${logfile}`, 'save ""', ''].join('\n'),
  );
  const script = sb.script('redis-start.sh', `${REDIS} ${conf}`);
  const title = `127.0.0.1:${port}`;
  return {
    pname: REDIS,
    script,
    options: `include_strings=${title}`,
    isMine: (p) => p.exe === REDIS_EXE && (p.cmdline.includes(title) || p.cmdline.includes(conf)),
    port,
    serves: async () => (await redisCommand(port, 'PING')) === '+PONG',
    // a BGSAVE forks a child (redis-rdb-bgsave) and logs it; the log must still be written
    writesLog: async () => (await redisCommand(port, 'BGSAVE')) === '+Background saving started',
  };
});
