// Helpers of the security tests (security.test.ts, security-web.test.ts): running as nobody,
// file modes, a hostile environment, pcheck under umask 000, shell-syntax payloads.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Pcheck, type Sandbox } from '../helpers/harness';

export const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

/** Runs argv as nobody (uid/gid 65534, no supplementary groups). */
export function asNobody(argv: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  assert.equal(process.getuid?.(), 0, 'these tests run as root, to become nobody and to own what pcheck creates');
  return spawnSync('setpriv', [...NOBODY, ...argv], { env, encoding: 'utf8', timeout: 10_000 });
}

export const mode = (p: string): number => statSync(p).mode & 0o7777;
export const octal = (m: number): string => `0${m.toString(8)}`;

/** What an attacker would like pcheck's children to inherit; none of it may reach a script. */
export function hostileEnv(dir: string): Record<string, string> {
  const bashEnv = join(dir, 'bash_env.sh');
  writeFileSync(bashEnv, `touch ${join(dir, 'canary', 'BASH_ENV-was-sourced')}\n`);
  return {
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    DB_PASSWORD: 'hunter2',
    LD_PRELOAD: join(dir, 'no-such-libevil.so'), // ld.so only warns about a missing one
    LD_LIBRARY_PATH: join(dir, 'evil-lib'),
    NODE_OPTIONS: '--max-old-space-size=512', // harmless to pcheck itself, must not travel on
    BASH_ENV: bashEnv, // bash sources it for a script: would create the canary
    ENV: bashEnv,
    SHELLOPTS: 'xtrace', // bash imports it: would trace the script into the log
    PS4: '+LEAKED-TRACE ',
    IFS: '/',
    HOME: '/nonexistent-home',
    LANG: 'C.UTF-8', // documented pass-through (docs/decisions.md), like LC_ALL and TZ
    TZ: 'UTC',
  };
}

/** pcheck started by `sh -c 'umask 000; exec …'`: the same pid, umask 000. */
export function pcheckUmask000(sb: Sandbox, args: string[], env: Record<string, string>, cwd: string): Pcheck {
  const full = { ...sb.env(), ...env };
  delete full.LC_ALL;
  const child = spawn('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, PCHECK, ...args], {
    env: full,
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  sb.track(child.pid!);
  return new Pcheck(child);
}

/** The environment a process started with, from a copy of its /proc/PID/environ. */
export function environOf(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of readFileSync(file, 'latin1').split('\0').filter(Boolean)) out.set(kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1));
  return out;
}

/** Shell syntax that would run `touch` in the canary directory if any shell ever saw it. */
export function payloads(canary: string, tag: string): string[] {
  return [`$(touch ${canary}/${tag}-1)`, `;touch ${canary}/${tag}-2;`, `\`touch ${canary}/${tag}-3\``, `| touch ${canary}/${tag}-4`, `$(touch ${tag}-rel)`];
}

/** Starts `sleep infinity` with argv[0] = pname in its own session, like a service; its pid. */
export function startSleeper(sb: Sandbox, pname: string): number {
  const c = spawn('bash', ['-c', 'exec -a "$0" sleep infinity', pname], { stdio: 'ignore', detached: true });
  c.unref();
  sb.track(c.pid!);
  return c.pid!;
}

/** The files in the canary directory: any is proof that shell syntax was run. */
export function canaries(dir: string): string[] {
  return readdirSync(dir);
}

/** A string as a literal inside a RegExp. */

export function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
