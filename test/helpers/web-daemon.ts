// FailSafe daemons with a [web] page on a free loopback port, for the tests of the web page's
// Servers view and of Prometheus: real pcheck --config processes, each in its own sandbox.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailsafeSandbox } from './failsafe';
import type { Pcheck } from './harness';
import { freePort } from '../web/ports';

export interface WebDaemon {
  sb: FailsafeSandbox;
  pc: Pcheck;
  /** http://127.0.0.1:PORT/ */
  base: string;
  port: number;
  tokenFile: string;
  token(): string;
}

/**
 * A FailSafe daemon named `name` with a [web] on a free loopback port and its own token file.
 * `body` is the rest of the ini file (groups, monitors); `web` more [web] keys.
 */
export async function webDaemon(name: string, body: (sb: FailsafeSandbox) => string, web = '', port?: number): Promise<WebDaemon> {
  const sb = new FailsafeSandbox();
  port ??= await freePort();
  const tokenFile = join(sb.dir, 'web.token');
  writeFileSync(
    sb.iniPath,
    `[daemon]\nname = ${name}\nsyslog = off\nlog_file = ${join(sb.dir, 'procsafe.log')}\n\n${body(sb)}\n\n[web]\nlisten = 127.0.0.1:${port}\ntoken_file = ${tokenFile}\n${web}\n`,
  );
  const pc = sb.failsafe(['--rehearse']);
  await pc.waitLine(`Web page: http://127.0.0.1:${port}/`, 20_000);
  return { sb, pc, base: `http://127.0.0.1:${port}/`, port, tokenFile, token: () => readFileSync(tokenFile, 'utf8').trim() };
}

/** A group whose start script fails every time: it ends in Error, for good. */
export function failingGroup(sb: FailsafeSandbox, group: string): string {
  const start = sb.script(`${group}-start.sh`, 'echo "cannot start: /data is not mounted"\nexit 1');
  return `[group:${group}]\nstart = "${start}"\n`;
}

/** A group with a pfile entry (a detached sleep under its own argv[0]) and a pid monitor that
 *  tolerates three failures: a killed app is healed in place by its entry (after PID 1's late
 *  reap on this kind of VM) before the monitor would restart the whole group. */
export function healthyGroup(sb: FailsafeSandbox, group: string): string {
  const pname = join(sb.dir, `${group}-app`);
  const pidFile = join(sb.dir, `${group}.pid`);
  const start = sb.script(`${group}-start.sh`, `setsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &\necho $! > ${pidFile}`);
  const stop = sb.script(`${group}-stop.sh`, `kill "$(cat ${pidFile})" 2>/dev/null; exit 0`);
  // INITIAL_WAIT 1: the entry finds its process 1 s after the group start, not 10 s (WAIT, a Warning, meanwhile)
  const pfile = sb.pfile({ param: { INITIAL_WAIT: 1 }, pents: [`${pname}:${start}:60:3:group`] });
  return `[group:${group}]\nstart = "${start}"\nstop = "${stop}"\npfile = ${pfile}\n\n[monitor:${group}-pid]\ntype = pid\npid_file = ${pidFile}\ntarget = ${group}\ntiming = active\ninterval = 1\nretries = 3\n`;
}

