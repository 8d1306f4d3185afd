// Building the npm tarball and the .deb from a copy of this working tree (so that packing,
// which rebuilds dist/, never rewrites the files that other tests are running), and a PATH
// of a server without a compiler: node and the few tools scripts use, no cc, make or python.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Pcheck, ROOT } from '../helpers/harness';

/** Tools a server has and restart scripts use; `node` for the `#!/usr/bin/env node` line. */
const SERVER_TOOLS = ['node', 'sh', 'bash', 'env', 'setsid', 'sleep', 'cat', 'rm', 'mkdir', 'kill', 'nohup'];
export const COMPILERS = ['cc', 'gcc', 'c++', 'g++', 'make', 'python3', 'python'];

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A directory of symlinks to the server tools only: a PATH with no compiler, make or python. */
export function serverPath(dir: string): string {
  const bin = join(dir, 'server-bin');
  mkdirSync(bin, { recursive: true });
  for (const t of SERVER_TOOLS) {
    const where = run('sh', ['-c', `command -v ${t}`]).stdout.trim();
    if (where.startsWith('/')) symlinkSync(where, join(bin, t));
  }
  return bin;
}

/** `npm run package:deb` in a copy of the working tree: the .tgz (npm pack) and the .deb. */
export function buildPackages(dir: string): { tgz: string; deb: string; log: string } {
  const src = join(dir, 'src-copy');
  const files = run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT }).stdout.split('\0').filter(Boolean);
  for (const f of files.filter((f) => existsSync(join(ROOT, f)))) cpSync(join(ROOT, f), join(src, f), { recursive: true, preserveTimestamps: true });
  // the dev dependencies that prepack needs (tsc, prebuildify) and the bundled runtime ones
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const out = join(dir, 'out');
  const r = run('npm', ['run', 'package:deb', '--', '--out', out], { cwd: src });
  if (r.code !== 0) throw new Error(`npm run package:deb failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  const names = readdirSync(out);
  const pick = (re: RegExp) => join(out, names.find((n) => re.test(n)) ?? `(no ${re} in ${names.join(' ')})`);
  return { tgz: pick(/^procsafe-.*\.tgz$/), deb: pick(/^procsafe_.*_amd64\.deb$/), log: `${r.stdout}${r.stderr}` };
}

/** An installed pcheck, started as its unit or an operator would: no terminal, our env only. */
export function startInstalled(pcheck: string, args: string[], env: NodeJS.ProcessEnv): Pcheck {
  return new Pcheck(spawn(pcheck, args, { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] }));
}
