// PostgreSQL from Debian's package, started as its documentation starts it: `pg_ctl start -D
// DATA -l LOGFILE` as the postgres user (runuser), on a private data directory, port and socket
// directory. The postmaster's children (checkpointer, walwriter, …) call setsid() and exit
// by themselves when the postmaster dies; the postmaster refuses to start while postmaster.pid
// names a process that exists.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { freePort } from '../helpers/field';
import { sleep } from '../helpers/harness';

/** Debian installs one bin directory per major version: /usr/lib/postgresql/15/bin. */
function pgBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  return join('/usr/lib/postgresql', versions[0], 'bin');
}

fieldScenario('postgres (pg_ctl start)', async (sb) => {
  const bin = pgBin();
  const postgres = join(bin, 'postgres');
  const port = await freePort(21690);
  const home = join(sb.dir, 'pg');
  const data = join(home, 'data');
  const log = join(home, 'postgres.log');
  const user = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  chmodSync(sb.dir, 0o755); // postgres must reach its directory
  mkdirSync(home);
  chownSync(home, Number(user.stdout), Number(group.stdout));
  const init = spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb: ${init.stderr}`);
  const script = sb.script(
    'postgres-start.sh',
    `runuser -u postgres -- ${bin}/pg_ctl start -D ${data} -l ${log} -o "-p ${port} -k ${home} -c listen_addresses=127.0.0.1"`,
  );
  const size = () => {
    try {
      return statSync(log).size;
    } catch {
      return 0;
    }
  };
  const asPostgres = (...args: string[]) => spawnSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return {
    pname: postgres,
    script,
    options: `include_strings=${data}`,
    // the postmaster, and its children (retitled "postgres: checkpointer", …): orphans count as leftovers
    isMine: (p) => p.exe === postgres && (p.cmdline.includes(data) || p.cmdline.startsWith('postgres: ')),
    port,
    serves: async () => asPostgres(join(bin, 'pg_isready'), '-q', '-h', '127.0.0.1', '-p', String(port)),
    // a configuration reload is logged ("received SIGHUP, reloading configuration files")
    writesLog: async () => {
      const before = size();
      if (!asPostgres(join(bin, 'pg_ctl'), 'reload', '-D', data)) return false;
      for (let i = 0; i < 40 && size() <= before; i++) await sleep(50);
      return size() > before;
    },
  };
});
