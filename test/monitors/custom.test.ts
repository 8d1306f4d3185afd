import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProbe } from '../../src/monitors/index';
import { check, killPid, monitor, procState } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-custom-'));
const leftovers: number[] = [];
after(() => {
  for (const pid of leftovers) killPid(pid);
  rmSync(dir, { recursive: true, force: true });
});

const sync = (command: string[]) => createProbe(monitor('custom', { command, mode: 'sync' }));
const async_ = (command: string[]) => createProbe(monitor('custom', { command, mode: 'async' }));

/** A killed process is gone, or a zombie until whoever inherited it reaps it. */
const isKilled = (pid: number): boolean => procState(pid) !== 'alive';

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pidsIn(file: string): number[] {
  const pids = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  leftovers.push(...pids);
  return pids;
}

describe('custom probe, sync mode', () => {
  it('is ok when the command exits 0', async () => {
    const p = sync(['/bin/true']);
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /^\/bin\/true: exit code 0 in \d+ ms$/);
    p.close();
  });

  it('fails with the exit code when the command exits non-zero', async () => {
    const p = sync(['/bin/false']);
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^\/bin\/false: exit code 1 after \d+ ms$/);
    p.close();
  });

  it('passes the arguments without a shell and shows the last line of output', async () => {
    const p = sync(['/bin/sh', '-c', 'echo "checking $1"; echo "db down: $PS_MONITOR" >&2; exit 2', 'sh', 'a;b']);
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.match(r.detail, /: exit code 2: db down: test-custom after \d+ ms$/);
    p.close();
  });

  it('kills the command and everything it started at the timeout', async () => {
    const pidFile = join(dir, 'hang.pids');
    // the shell, and a background sleep in its process group
    const p = sync(['/bin/sh', '-c', `sleep 1000 & echo $$ $! > ${pidFile}; wait`]);
    const r = await check(p, 500);
    assert.equal(r.ok, false);
    assert.match(r.detail, /timed out after 500 ms waiting for it \(process group killed\)$/);
    assert.ok(r.ms >= 480 && r.ms < 1500, `took ${r.ms} ms`);
    const [shell, sleeper] = pidsIn(pidFile);
    await until('the shell and its background sleep to be killed', () => isKilled(shell) && isKilled(sleeper));
    p.close();
  });

  it('fails with the reason when the command cannot be started', async () => {
    const p = sync(['/nonexistent/check-db']);
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.equal(r.detail, '/nonexistent/check-db: cannot execute /nonexistent/check-db: ENOENT');
    p.close();
  });

  it('finds a command by name in the fixed PATH', async () => {
    const p = sync(['true']);
    assert.equal((await check(p)).ok, true);
    p.close();
  });
});

describe('custom probe, async mode', () => {
  it('is ok while the command runs, fails with its exit code once it has exited, then judges its restart', async () => {
    const pidFile = join(dir, 'async.pid');
    const p = async_(['/bin/sh', '-c', `echo $$ >> ${pidFile}; sleep 0.5; echo "lost the database"; exit 3`]);
    try {
      const first = await check(p);
      assert.equal(first.ok, true, first.detail);
      assert.match(first.detail, /: started, pid \d+$/);
      const second = await check(p);
      assert.equal(second.ok, true, second.detail);
      assert.match(second.detail, /: pid \d+ running for 0 s$/);

      await new Promise((r) => setTimeout(r, 800));
      const failed = await check(p);
      assert.equal(failed.ok, false);
      assert.match(failed.detail, /: pid \d+ exited after 0\.\d s, exit code 3: lost the database; restarted as pid \d+$/);
      assert.ok(failed.ms < 300, `took ${failed.ms} ms`);

      // the restarted run is judged by the next check: running, so ok
      const next = await check(p);
      assert.equal(next.ok, true, next.detail);
      assert.match(next.detail, /: pid \d+ running for 0 s$/);
    } finally {
      p.close();
    }
  });

  it('fails on every check while the command keeps dying', async () => {
    const p = async_(['/bin/sh', '-c', 'exit 7']);
    try {
      await check(p); // starts it
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const r = await check(p);
        assert.equal(r.ok, false, r.detail);
        assert.match(r.detail, /exit code 7; restarted as pid \d+$/);
      }
    } finally {
      p.close();
    }
  });

  it('kills the command and its process group on close', async () => {
    const pidFile = join(dir, 'close.pids');
    const p = async_(['/bin/sh', '-c', `sleep 1000 & echo $$ $! > ${pidFile}; wait`]);
    assert.equal((await check(p)).ok, true);
    await until('the pid file', () => {
      try {
        return readFileSync(pidFile, 'utf8').trim().split(' ').length === 2;
      } catch {
        return false;
      }
    });
    const [shell, sleeper] = pidsIn(pidFile);
    assert.equal(procState(shell), 'alive');
    p.close();
    await until('the command and its child to be killed', () => isKilled(shell) && isKilled(sleeper));
  });

  it('fails with the reason when the command cannot be started, and tries again on the next check', async () => {
    const p = async_(['/nonexistent/watcher']);
    for (let i = 0; i < 2; i++) {
      const r = await check(p);
      assert.equal(r.ok, false);
      assert.equal(r.detail, '/nonexistent/watcher: cannot execute /nonexistent/watcher: ENOENT');
    }
    p.close();
  });
});
