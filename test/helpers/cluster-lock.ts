// One Pacemaker test at a time on a machine: the single-node test (host namespaces, the host's
// /etc/corosync and /var/lib/pacemaker), the two-node test and `npm run demo:cluster` take this
// lock. The two-node cluster is isolated (its own namespaces and private copies of those
// directories), but the single-node test refuses to start beside any corosync it did not start,
// and three clusters at once on two cores would make the timings meaningless. So whoever comes
// second waits for the first (npm test runs two files at a time).
// The lock is an flock(2) on the file (the native addon's): the kernel drops it when its holder
// dies, so no stale lock is ever taken over by two waiters at once. The file names the holder
// for the message of whoever waits.
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { loadNative } from '../../src/native/index';

export const CLUSTER_LOCK = '/run/lock/procsafe-pacemaker-test.lock';
const EAGAIN = 11;

let held: number | null = null;

/** Tries once. Returns 0 when taken, else the holder's pid as its file says (-1 unknown). */
function tryLock(): number {
  const native = loadNative();
  if (!native?.flockExclusive) throw new Error('the cluster tests need the native addon (flock): run npm ci');
  mkdirSync('/run/lock', { recursive: true });
  const fd = openSync(CLUSTER_LOCK, 'a+', 0o644);
  const err = native.flockExclusive(fd);
  if (err === 0) {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    held = fd;
    return 0;
  }
  closeSync(fd);
  if (err !== EAGAIN) throw new Error(`flock ${CLUSTER_LOCK}: errno ${err}`);
  return Number(readFileSync(CLUSTER_LOCK, 'utf8').trim()) || -1;
}

/** Takes the lock, waiting up to `waitMs` for another cluster test to finish; `onWait` hears once whom it waits for. */
export async function takeClusterLock(waitMs: number, onWait: (owner: number) => void = () => undefined): Promise<void> {
  if (held !== null) return;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const owner = tryLock();
    if (owner === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`another Pacemaker test (pid ${owner}, ${CLUSTER_LOCK}) still runs after ${Math.round(waitMs / 1000)} s: refusing to run beside it`);
    }
    if (!told) onWait(owner);
    told = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function releaseClusterLock(): void {
  if (held === null) return;
  closeSync(held); // drops the flock
  held = null;
}
