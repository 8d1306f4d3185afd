// memcached from Debian's package, started as its manual starts a daemon: `memcached -d` (fork,
// the parent exits, the child calls setsid() and drops to the memcache user) on a loopback port.
// memcached keeps no log of its own when it daemonizes (its stderr is /dev/null): "writes its
// log" is read as "stores and returns data".
import { fieldScenario } from '../helpers/field-daemon';
import { freePort, tcpAsk as ask } from '../helpers/field';

const MEMCACHED = '/usr/bin/memcached';

let seq = 0;

fieldScenario('memcached -d', async (sb) => {
  const port = await freePort(21780);
  const script = sb.script('memcached-start.sh', `${MEMCACHED} -d -u memcache -l 127.0.0.1 --port=${port} -U 0 -m 16`);
  return {
    pname: MEMCACHED,
    script,
    options: `include_strings=--port=${port}`,
    isMine: (p) => p.exe === MEMCACHED && p.cmdline.includes(`--port=${port}`),
    port,
    serves: async () => (await ask(port, 'version\r\n', '\r\n'))?.startsWith('VERSION ') ?? false,
    writesLog: async () => {
      const value = `v${process.pid}-${++seq}`;
      if ((await ask(port, `set field 0 0 ${value.length}\r\n${value}\r\n`, '\r\n')) !== 'STORED\r\n') return false;
      return (await ask(port, 'get field\r\n', 'END\r\n'))?.includes(value) ?? false;
    },
  };
});
