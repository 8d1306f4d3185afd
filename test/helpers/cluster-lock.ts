// One Pacemaker test at a time on a machine: the single-node test (host namespaces, the host's
// /etc/corosync and /var/lib/pacemaker), the two-node test and `npm run demo:cluster` take this
// lock. The two-node cluster is isolated (its own namespaces and private copies of those
// directories), but the single-node test refuses to start beside any corosync it did not start,
// and three clusters at once on two cores would make the timings meaningless. So whoever comes
// second waits for the first (npm test runs two files at a time).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export const CLUSTER_LOCK = '/run/lock/procsafe-pacemaker-test.pid';

function ownerAlive(pid: number): boolean {
  try {
    const st = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return st !== undefined && st !== 'Z' && st !== 'X';
  } catch {
    return false;
  }
}

/** Tries once: a pid file created with O_EXCL; a dead owner's is taken over. Returns the live owner, or 0 when taken. */
function tryLock(): number {
  mkdirSync('/run/lock', { recursive: true });
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(CLUSTER_LOCK, `${process.pid}\n`, { flag: 'wx' });
      return 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = 0;
      try {
        owner = Number(readFileSync(CLUSTER_LOCK, 'utf8').trim());
      } catch {
        /* removed meanwhile */
      }
      if (owner === process.pid) return 0;
      if (owner && ownerAlive(owner)) return owner;
      rmSync(CLUSTER_LOCK, { force: true });
    }
  }
  return -1;
}

/** Takes the lock, waiting up to `waitMs` for another cluster test to finish; `onWait` hears once whom it waits for. */
export async function takeClusterLock(waitMs: number, onWait: (owner: number) => void = () => undefined): Promise<void> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const owner = tryLock();
    if (owner === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`another Pacemaker test (pid ${owner}, ${CLUSTER_LOCK}) still runs after ${Math.round(waitMs / 1000)} s: refusing to run beside it`);
    }
    if (!told && owner > 0) onWait(owner);
    told = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function releaseClusterLock(): void {
  try {
    if (Number(readFileSync(CLUSTER_LOCK, 'utf8').trim()) === process.pid) rmSync(CLUSTER_LOCK, { force: true });
  } catch {
    /* not ours, or gone */
  }
}
