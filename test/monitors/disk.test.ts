import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProbe } from '../../src/monitors/index';
import { startHungFs } from '../fixtures/monitors/hung-fs';
import { check, monitor, need, sh, shQuiet } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-disk-'));
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

const reader = (path: string) => createProbe(monitor('disk', { path, writeDir: null }));
const writer = (writeDir: string) => createProbe(monitor('disk', { path: null, writeDir }));

describe('disk probe, write', () => {
  it('writes, syncs, reads back and removes a 4 KiB file in a writable directory', async () => {
    const wd = join(dir, 'ok');
    mkdirSync(wd);
    const p = writer(wd);
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, new RegExp(`^wrote, synced and read back 4 KiB in ${wd} in \\d+ ms$`));
    assert.deepEqual(readdirSync(wd), [], 'the temp file is removed');
    p.close();
  });

  it('fails when write_dir is a path under a file', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const p = writer(join(file, 'sub'));
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.match(r.detail, new RegExp(`^cannot write in ${file}/sub: create ${file}/sub/\\.procsafe-disk-\\d+-[0-9a-f]+: ENOTDIR$`));
    p.close();
  });

  it('fails on a read-only filesystem (a tmpfs mounted ro)', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    sh(['mount', '-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro], `mount -t tmpfs -o ro ${ro} (the test runs as root and needs mount(2))`);
    cleanups.push(() => shQuiet(['umount', ro]));
    const p = writer(ro);
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.match(r.detail, /: EROFS$/);
    p.close();
  });
});

describe('disk probe, read', () => {
  it('reads the first 4 KiB of a regular file', async () => {
    const file = join(dir, 'data');
    writeFileSync(file, Buffer.alloc(8192, 7));
    const p = reader(file);
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, new RegExp(`^read 4096 bytes of ${file} in \\d+ ms$`));
    p.close();
  });

  it('reads a block device with O_DIRECT, past the page cache', async () => {
    need('losetup', 'mount');
    const image = join(dir, 'loop.img');
    writeFileSync(image, Buffer.alloc(1024 * 1024));
    const dev = sh(['losetup', '-f', '--show', image], 'losetup -f --show (needs root and /dev/loop-control)').trim();
    cleanups.push(() => shQuiet(['losetup', '-d', dev]));
    const p = reader(dev);
    for (let i = 0; i < 2; i++) {
      // the second read reuses the aligned offset that the first one found
      const r = await check(p);
      assert.equal(r.ok, true, r.detail);
      assert.match(r.detail, new RegExp(`^read 4096 bytes of ${dev} \\(O_DIRECT\\) in \\d+ ms$`));
    }
    p.close();
  });

  it('fails when the path does not exist, is under a file, or is a directory', async () => {
    const file = join(dir, 'plain-file2');
    writeFileSync(file, 'x');
    const cases: [string, string][] = [
      [join(dir, 'missing'), 'stat: ENOENT'],
      [join(file, 'x'), 'stat: ENOTDIR'],
      [dir, 'open: is a directory, not a device or file'],
    ];
    for (const [path, why] of cases) {
      const p = reader(path);
      const r = await check(p);
      assert.equal(r.ok, false, path);
      assert.equal(r.detail, `cannot read ${path}: ${why}`);
      p.close();
    }
  });

  it('does both when path and write_dir are set', async () => {
    const file = join(dir, 'both');
    writeFileSync(file, 'short');
    const p = createProbe(monitor('disk', { path: file, writeDir: dir }));
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /^read 5 bytes of .* in \d+ ms; wrote, synced and read back 4 KiB in .* in \d+ ms$/);
    p.close();
  });
});

describe('disk probe on a filesystem that stops answering', () => {
  it('fails at the timeout, keeps the loop running, reports the hang without new I/O, and recovers when the I/O returns', async () => {
    assert.ok(existsSync('/dev/fuse'), '/dev/fuse is missing: the kernel needs FUSE (modprobe fuse)');
    need('mount', 'mount');
    const mnt = join(dir, 'hung');
    mkdirSync(mnt);
    const fs = await startHungFs(mnt);
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await fs.stop();
    });
    const p = createProbe(monitor('disk', { path: join(mnt, 'disk.img'), writeDir: null }));
    try {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 50);
      const hung = await check(p, 500);
      clearInterval(ticker);
      assert.equal(hung.ok, false);
      assert.equal(hung.detail, `the read of ${mnt}/disk.img did not finish within 500 ms`);
      assert.ok(hung.ms >= 480 && hung.ms < 1500, `took ${hung.ms} ms`);
      assert.ok(ticks >= 5, `the event loop ran only ${ticks} 50 ms ticks during a 500 ms hang`);
      const seen = fs.requests();
      assert.equal(seen, 1, 'one request (the lookup of disk.img) reached the filesystem');

      const still = await check(p, 500);
      assert.equal(still.ok, false);
      assert.match(still.detail, new RegExp(`^the read of ${mnt}/disk\\.img started \\d+ s ago has not returned \\(hung I/O\\); no new one started$`));
      assert.ok(still.ms < 300, `took ${still.ms} ms`);
      assert.equal(fs.requests(), seen, 'no new I/O was started');

      // the filesystem answers again (with EIO): the pending stat returns, a new check runs
      fs.release();
      await new Promise((r) => setTimeout(r, 200));
      const back = await check(p, 500);
      assert.equal(back.ok, false);
      assert.equal(back.detail, `cannot read ${mnt}/disk.img: stat: EIO`);
      assert.ok(fs.requests() > seen, 'a new I/O was started');
    } finally {
      p.close();
      await fs.stop();
      stopped = true;
    }
  });
});
