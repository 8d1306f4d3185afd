// nginx from Debian's package as an operator runs it under pcheck: `nginx -c CONF`, which
// daemonizes once it has read its configuration (daemon on, the default) into a master and
// two workers (same exe, argv "nginx: worker process"). pname /usr/sbin/nginx, no include
// strings: the workers match it too, and outlive a killed master holding the port.
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { freePort, httpGet } from '../helpers/field';
import { sleep } from '../helpers/harness';

const NGINX = '/usr/sbin/nginx';

fieldScenario('nginx (master + workers)', async (sb) => {
  const port = await freePort(21080);
  const logs = join(sb.dir, 'logs');
  mkdirSync(logs);
  const conf = join(sb.dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `pid ${join(sb.dir, 'nginx.pid')};`,
      `error_log ${join(logs, 'error.log')};`,
      'worker_processes 2;',
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${join(logs, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(sb.dir, t)};`),
      `  server { listen 127.0.0.1:${port}; location / { return 200 "ok\\n"; } }`,
      '}',
      '',
    ].join('\n'),
  );
  // the operator's restart script: nginx's own documented start command, nothing else
  const script = sb.script('nginx-start.sh', `${NGINX} -c ${conf} -e ${join(logs, 'error.log')}`);
  const access = join(logs, 'access.log');
  const size = () => {
    try {
      return statSync(access).size;
    } catch {
      return 0;
    }
  };
  return {
    pname: NGINX,
    script,
    isMine: (p) => p.exe === NGINX,
    port,
    serves: async () => (await httpGet(port)) === 200,
    writesLog: async () => {
      const before = size();
      if ((await httpGet(port, '/after-pcheck')) !== 200) return false;
      for (let i = 0; i < 20 && size() <= before; i++) await sleep(50);
      return size() > before;
    },
  };
});
