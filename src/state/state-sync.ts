// Makes the state file durable off the event loop.
//
// pcheck replaces its state file at each state change, before it starts a restart script: a
// pcheck started after this one was killed must see that write, and it does at once (the
// renamed file is in the page cache, which outlives any process). fsync only matters for a
// power loss or a kernel crash, after which the machine boots again and pids, scripts and
// restarts of the old boot mean nothing. So the file is written without fsync on the loop
// (writeStateFile with sync: false), and this fsyncs it and its directory on libuv's thread
// pool right after: one chain at a time, again once it ends if the file was replaced
// meanwhile. On the loop, the two fsyncs cost 2-50 ms per write on a shared VM, between a
// death and its restart script (docs/PERFORMANCE.md).
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

export interface StateSync {
  /** the file was just replaced: make it durable soon */
  changed(): void;
  /** resolves once everything written before the call is durable (or has failed) */
  settled(): Promise<void>;
}

/** `onError` gets a failed fsync (the next change tries again). */
export function syncStateFileLater(path: string, onError: (e: Error) => void): StateSync {
  let running: Promise<void> | null = null;
  let again = false;

  const run = (): Promise<void> => {
    again = false;
    const p = syncOnce(path)
      .catch((e: unknown) => onError(e as Error))
      .then(() => {
        running = null;
        if (again) void run();
      });
    running = p;
    return p;
  };

  return {
    changed() {
      if (running) again = true;
      else void run();
    },
    async settled() {
      while (running) await running;
    },
  };
}

async function syncOnce(path: string): Promise<void> {
  for (const [p, dir] of [[path, false], [dirname(path), true]] as const) {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(p, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile: nothing to keep
      throw e;
    }
    try {
      await fh.sync();
    } catch (e) {
      // some filesystems cannot fsync a directory; the file itself is on disk
      const code = (e as NodeJS.ErrnoException).code;
      if (!dir || (code !== 'EINVAL' && code !== 'ENOTSUP')) throw e;
    } finally {
      await fh.close();
    }
  }
}
