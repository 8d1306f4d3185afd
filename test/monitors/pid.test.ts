import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProbe } from '../../src/monitors/index';
import { startHungFs } from '../fixtures/monitors/hung-fs';
import { check, killPid, monitor, need, procState } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-pid-'));
const started: number[] = [];
after(() => {
  for (const pid of started) killPid(pid);
  rmSync(dir, { recursive: true, force: true });
});

function probeFor(file: string) {
  return createProbe(monitor('pid', { pidFile: file }));
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('pid probe', () => {
  it('is ok while the process in the pid file runs, and fails once it is killed', async () => {
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const pid = child.pid as number;
    started.push(pid);
    const file = join(dir, 'sleep.pid');
    writeFileSync(file, `${pid}\n`);
    const p = probeFor(file);

    const up = await check(p);
    assert.equal(up.ok, true, up.detail);
    assert.equal(up.detail, `pid ${pid} from ${file} is running`);

    const exited = new Promise((r) => child.once('exit', r));
    killPid(pid);
    await exited; // reaped by us: the pid is gone
    const down = await check(p);
    assert.equal(down.ok, false);
    assert.equal(down.detail, `pid ${pid} from ${file}: no such process`);
    p.close();
  });

  it('fails on a zombie: a process that exited and that its parent has not reaped', async () => {
    // sh starts `sleep 1000` in the background, prints its pid, then becomes `sleep 1001`,
    // which never waits for children: the inner sleep, once killed, stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 1000 & echo $!; exec sleep 1001'], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(parent.pid as number);
    const inner = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    started.push(inner);
    const file = join(dir, 'zombie.pid');
    writeFileSync(file, `${inner}\n`);
    const p = probeFor(file);
    assert.equal((await check(p)).ok, true);

    killPid(inner);
    await until(`pid ${inner} to become a zombie`, () => procState(inner) === 'zombie');
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.equal(r.detail, `pid ${inner} from ${file} is a zombie (exited, not reaped by its parent ${parent.pid})`);
    p.close();
  });

  it('fails when the pid file is missing', async () => {
    const file = join(dir, 'none.pid');
    const r = await check(probeFor(file));
    assert.equal(r.ok, false);
    assert.equal(r.detail, `pid file ${file} is missing`);
  });

  it('fails when the pid file holds no pid, quoting what it holds', async () => {
    const cases: [string, RegExp][] = [
      ['garbage\n', /does not hold a pid: "garbage"$/],
      ['12abc\n', /does not hold a pid: "12abc"$/],
      ['0\n', /does not hold a pid: "0"$/],
      ['-5\n', /does not hold a pid: "-5"$/],
      ['99999999999\n', /does not hold a pid: "99999999999"$/],
      ['\n', /is empty$/],
    ];
    for (const [content, want] of cases) {
      const file = join(dir, 'bad.pid');
      writeFileSync(file, content);
      const r = await check(probeFor(file));
      assert.equal(r.ok, false, JSON.stringify(content));
      assert.match(r.detail, want);
    }
  });

  it('reads only the first line, as some daemons write more after the pid', async () => {
    const file = join(dir, 'self.pid');
    writeFileSync(file, `  ${process.pid}  \n/usr/sbin/sendmail -bd\n`);
    const r = await check(probeFor(file));
    assert.equal(r.ok, true, r.detail);
  });

  it('fails with the reason when the pid file cannot be read', async () => {
    const r = await check(probeFor(dir)); // a directory
    assert.equal(r.ok, false);
    assert.equal(r.detail, `cannot read pid file ${dir}: EISDIR`);
  });

  it('fails at the timeout when the pid file is on a filesystem that stops answering, and starts no second read', async () => {
    assert.ok(existsSync('/dev/fuse'), '/dev/fuse is missing: the kernel needs FUSE (modprobe fuse)');
    need('mount', 'mount');
    const mnt = join(dir, 'hung');
    mkdirSync(mnt);
    const fs = await startHungFs(mnt);
    const p = probeFor(join(mnt, 'app.pid'));
    try {
      const first = await check(p, 300);
      assert.equal(first.ok, false);
      assert.equal(first.detail, `timed out after 300 ms reading ${mnt}/app.pid`);
      const second = await check(p, 300);
      assert.equal(second.ok, false);
      assert.match(second.detail, /has not returned \(hung I\/O\)$/);
      assert.equal(fs.requests(), 1);
    } finally {
      p.close();
      await fs.stop();
    }
  });
});
