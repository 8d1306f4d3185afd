// The FailSafe state directory (the directory of `[daemon] state_file`): created at start
// when missing, as systemd's StateDirectory= does, private (0700: alert log, web token).
// A path that cannot be a directory, or one pcheck cannot create, stops pcheck (exit 2)
// with what to do, before anything is started: a warning later would leave the alert log
// and the web token nowhere.
import { mkdirSync, statSync } from 'node:fs';
import { ConfigError } from '../errors';

/** Makes sure `dir` is a directory; returns true if it had to be created. `source` names the
 *  configuration file, `key` the key that names the directory, for the error. */
export function ensureStateDir(dir: string, source: string, key: string): boolean {
  const fail = (problem: string): never => {
    throw new ConfigError(source, null, `${key}: the state directory ${dir} ${problem}`);
  };
  try {
    if (statSync(dir).isDirectory()) return false;
    return fail('is not a directory; remove what is there or choose another state_file');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return fail(`cannot be checked (${code ?? String(e)}); fix the permissions of its parent directories`);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(`does not exist and cannot be created (${code ?? String(e)}); create it (mkdir -p -m 0700 ${dir}) or fix state_file`);
  }
  return true;
}
