// nginx from Debian's package as an operator runs it under pcheck: `nginx -c CONF`, which
// daemonizes once it has read its configuration (daemon on, the default) into a master and
// two workers (same exe, argv "nginx: worker process"). pname /usr/sbin/nginx, no include
// strings: the workers match it too, and outlive a killed master holding the port.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario, type FieldDaemon } from '../helpers/field-daemon';
import { freePort, getIsLogged, httpGet } from '../helpers/field';
import type { Sandbox } from '../helpers/harness';

const NGINX = '/usr/sbin/nginx';

/** A private nginx on a loopback port: its configuration, logs and temp dirs in the sandbox. */
async function privateNginx(sb: Sandbox, base: number): Promise<{ port: number; conf: string; logs: string }> {
  const port = await freePort(base);
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
  return { port, conf, logs };
}

function nginx(port: number, logs: string, script: string): FieldDaemon {
  const access = join(logs, 'access.log');
  return {
    pname: NGINX,
    script,
    isMine: (p) => p.exe === NGINX,
    port,
    serves: async () => (await httpGet(port)) === 200,
    writesLog: () => getIsLogged(port, '/after-pcheck', access),
  };
}

fieldScenario('nginx (master + workers)', async (sb) => {
  const { port, conf, logs } = await privateNginx(sb, 21080);
  // the operator's restart script: nginx's own documented start command, nothing else
  return nginx(port, logs, sb.script('nginx-start.sh', `${NGINX} -c ${conf} -e ${join(logs, 'error.log')}`));
});

// Hostile probe: operators test the configuration before they start (nginx -t, as Debian's init
// script does): a short-lived process of the same program runs first, in the script.
fieldScenario('nginx whose restart script tests the configuration first (nginx -t && nginx)', async (sb) => {
  const { port, conf, logs } = await privateNginx(sb, 21080);
  const e = `-e ${join(logs, 'error.log')}`;
  return nginx(port, logs, sb.script('nginx-start.sh', `${NGINX} -t -q -c ${conf} ${e} && ${NGINX} -c ${conf} ${e}`));
});
