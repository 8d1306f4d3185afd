// Prometheus's own tools from Debian's `prometheus` and `prometheus-alertmanager` packages
// (.ci/run installs them), for the tests in this folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/harness';

export const ETC = join(ROOT, 'etc', 'prometheus');

/** Runs a Prometheus tool; fails with how to install it when it is missing. */
export function tool(name: 'promtool' | 'amtool' | 'prometheus', args: string[], input?: string): { code: number; out: string } {
  const bin = `/usr/bin/${name}`;
  if (!existsSync(bin)) {
    assert.fail(`${bin} is missing: install it with apt-get install -y ${name === 'amtool' ? 'prometheus-alertmanager' : 'prometheus'}`);
  }
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000, cwd: ROOT });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Polls an async check every 250 ms until it gives a value (not null/false). */
export async function waitUntil<T>(fn: () => Promise<T | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export { failingGroup, healthyGroup, webDaemon, type WebDaemon } from '../helpers/web-daemon';
