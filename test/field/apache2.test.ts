// apache2 from Debian's package, started as Debian documents it: `apachectl start` (Debian's
// apache2ctl) for a private instance whose APACHE_CONFDIR holds its own envvars and
// apache2.conf (README.Debian, README.multiple-instances). The master (root) forks children
// (www-data) with the same exe and the same command line; a killed master's children go on
// serving its port.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { freePort, getIsLogged, httpGet } from '../helpers/field';

const APACHE2 = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

fieldScenario('apache2 (apachectl start)', async (sb) => {
  const port = await freePort(21180);
  const confdir = join(sb.dir, 'apache2');
  const logs = join(sb.dir, 'logs');
  const www = join(sb.dir, 'www');
  for (const d of [confdir, logs, www]) mkdirSync(d);
  chmodSync(sb.dir, 0o755); // the children run as www-data and serve www/
  writeFileSync(join(www, 'index.html'), '<p>ok</p>\n');
  // envvars as Debian's /etc/apache2/envvars has it, with this instance's own directories
  writeFileSync(
    join(confdir, 'envvars'),
    [
      'export APACHE_RUN_USER=www-data',
      'export APACHE_RUN_GROUP=www-data',
      `export APACHE_PID_FILE=${join(sb.dir, 'run-apache2', 'apache2.pid')}`,
      `export APACHE_RUN_DIR=${join(sb.dir, 'run-apache2')}`,
      `export APACHE_LOCK_DIR=${join(sb.dir, 'lock-apache2')}`,
      `export APACHE_LOG_DIR=${logs}`,
      'export LANG=C',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(confdir, 'apache2.conf'),
    [
      `ServerRoot ${confdir}`,
      'ServerName 127.0.0.1',
      'DefaultRuntimeDir ${APACHE_RUN_DIR}',
      'PidFile ${APACHE_PID_FILE}',
      'Mutex file:${APACHE_LOCK_DIR} default',
      'User ${APACHE_RUN_USER}',
      'Group ${APACHE_RUN_GROUP}',
      'ErrorLog ${APACHE_LOG_DIR}/error.log',
      'LogLevel warn',
      `LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so`,
      `LoadModule authz_core_module ${MODULES}/mod_authz_core.so`,
      `LoadModule dir_module ${MODULES}/mod_dir.so`,
      `Listen 127.0.0.1:${port}`,
      'LogFormat "%h %l %u %t \\"%r\\" %>s %O" common',
      'CustomLog ${APACHE_LOG_DIR}/access.log common',
      `DocumentRoot ${www}`,
      `<Directory ${www}>`,
      '  Require all granted',
      '</Directory>',
      'DirectoryIndex index.html',
      '',
    ].join('\n'),
  );
  const script = sb.script('apache2-start.sh', `export APACHE_CONFDIR=${confdir}\n/usr/sbin/apachectl start`);
  const access = join(logs, 'access.log');
  return {
    pname: APACHE2,
    script,
    options: `include_strings=${confdir}`,
    isMine: (p) => p.exe === APACHE2 && p.cmdline.includes(confdir),
    port,
    serves: async () => (await httpGet(port)) === 200,
    writesLog: () => getIsLogged(port, '/index.html?after-pcheck', access),
  };
});
