// `disk` monitor. read (`path`, a device or a file): read its first 4 KiB; from a block
// device with O_DIRECT, so that the device answers and not the page cache. write
// (`write_dir`): create a temp file, write 4 KiB, fsync, read back, unlink. Both when
// both are set.
//
// All I/O is async (fs/promises: libuv's thread pool), so a read stuck on a dead device
// never blocks the event loop; the check ends at its deadline. The stuck syscall cannot be
// cancelled, though: see OneAtATime — a dead disk holds at most one pool thread per disk
// monitor, and later checks report the hang without adding to it.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Probe, ProbeResult } from './types';
import { deadline, errText, OneAtATime, since } from './util';

const BLOCK = 4096;

/** An error that says which step failed. */
class StepError extends Error {
  constructor(step: string, err: unknown) {
    super(`${step}: ${errText(err)}`);
  }
}

async function step<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new StepError(name, err);
  }
}

/**
 * O_DIRECT wants the buffer's address aligned (to the device's DMA alignment or logical
 * block size: 512 or 4096), and JavaScript cannot ask a Buffer for its address nor
 * allocate an aligned one. So the probe keeps one buffer of 2 blocks and, on its first
 * direct read, tries offsets into it 8 bytes apart until the kernel stops answering
 * EINVAL (a refusal without I/O); the offset found serves every later read.
 */
class DirectReader {
  private readonly buf = Buffer.alloc(2 * BLOCK);
  private offset: number | null = null;
  /** the device refused every alignment: read through the page cache instead. */
  private refused = false;

  /** bytes read, and whether O_DIRECT was used. */
  async read(path: string): Promise<{ bytes: number; direct: boolean }> {
    if (!this.refused) {
      const fh = await step('open (O_DIRECT)', open(path, constants.O_RDONLY | constants.O_DIRECT));
      try {
        const tries = this.offset !== null ? [this.offset] : Array.from({ length: BLOCK / 8 + 1 }, (_, i) => i * 8);
        for (const off of tries) {
          try {
            const { bytesRead } = await fh.read(this.buf, off, BLOCK, 0);
            this.offset = off;
            return { bytes: bytesRead, direct: true };
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw new StepError('read', err);
          }
        }
        if (this.offset !== null) throw new StepError('read', new Error('EINVAL on an offset that worked before'));
        this.refused = true;
      } finally {
        await fh.close().catch(() => {});
      }
    }
    return { bytes: await plainRead(path, this.buf), direct: false };
  }
}

async function plainRead(path: string, buf: Buffer): Promise<number> {
  const fh = await step('open', open(path, 'r'));
  try {
    return (await step('read', fh.read(buf, 0, BLOCK, 0))).bytesRead;
  } finally {
    await fh.close().catch(() => {});
  }
}

async function readCheck(path: string, direct: DirectReader): Promise<string> {
  const started = performance.now();
  const st: Stats = await step('stat', stat(path));
  if (st.isDirectory()) throw new StepError('open', new Error('is a directory, not a device or file'));
  // a FIFO or socket would block the open or the read until a writer comes
  if (!st.isFile() && !st.isBlockDevice() && !st.isCharacterDevice()) {
    throw new StepError('open', new Error('not a device or regular file'));
  }
  if (st.isBlockDevice()) {
    const r = await direct.read(path);
    const how = r.direct ? 'O_DIRECT' : 'through the page cache: O_DIRECT refused';
    return `read ${r.bytes} bytes of ${path} (${how}) in ${since(started)} ms`;
  }
  const bytes = await plainRead(path, Buffer.alloc(BLOCK));
  return `read ${bytes} bytes of ${path} in ${since(started)} ms`;
}

async function writeCheck(dir: string): Promise<string> {
  const started = performance.now();
  const file = join(dir, `.procsafe-disk-${process.pid}-${randomBytes(6).toString('hex')}`);
  // fresh random content, so that stale data on the device cannot pass the comparison
  const data = randomBytes(BLOCK);
  const fh = await step(`create ${file}`, open(file, 'wx+', 0o600));
  try {
    await step('write', fh.write(data, 0, BLOCK, 0));
    await step('fsync', fh.sync());
    const back = Buffer.alloc(BLOCK);
    const { bytesRead } = await step('read back', fh.read(back, 0, BLOCK, 0));
    if (bytesRead !== BLOCK || !back.equals(data)) {
      throw new StepError('read back', new Error(`${bytesRead} bytes read, content differs`));
    }
  } finally {
    await fh.close().catch(() => {});
    await unlink(file).catch(() => {}); // reported below if it fails
  }
  return `wrote, synced and read back ${BLOCK / 1024} KiB in ${dir} in ${since(started)} ms`;
}

export function createDiskProbe(path: string | null, writeDir: string | null): Probe {
  if (path === null && writeDir === null) throw new Error('disk monitor: neither path nor write_dir is set');
  const direct = new DirectReader();
  const one = new OneAtATime();

  async function io(): Promise<ProbeResult> {
    const parts: string[] = [];
    if (path !== null) {
      try {
        parts.push(await readCheck(path, direct));
      } catch (err) {
        return { ok: false, detail: `cannot read ${path}: ${(err as Error).message}` };
      }
    }
    if (writeDir !== null) {
      try {
        parts.push(await writeCheck(writeDir));
      } catch (err) {
        return { ok: false, detail: `cannot write in ${writeDir}: ${(err as Error).message}` };
      }
    }
    return { ok: true, detail: parts.join('; ') };
  }

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    const what = [path !== null ? `read of ${path}` : null, writeDir !== null ? `write in ${writeDir}` : null]
      .filter((x) => x !== null)
      .join(' and ');
    const dl = deadline(signal, timeoutMs);
    try {
      const r = await one.run(io, dl.signal);
      if (r.state === 'done') return r.value;
      if (r.state === 'stuck') {
        return { ok: false, detail: `the ${what} started ${Math.round(r.sinceMs / 1000)} s ago has not returned (hung I/O); no new one started` };
      }
      return { ok: false, detail: dl.why() === 'aborted' ? `check aborted during the ${what}` : `the ${what} did not finish within ${Math.round(timeoutMs)} ms` };
    } finally {
      dl.dispose();
    }
  }

  return { check, close: () => {} };
}
