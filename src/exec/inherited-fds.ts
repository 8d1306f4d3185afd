// The descriptors pcheck inherited from whoever started it (a cluster agent, a shell or a
// monitoring tool that leaked them) must not reach the scripts it runs: a script, and the
// program it leaves running for months, would hold the other end of someone's pipe, a lock or a
// log file. libuv passes on every descriptor without FD_CLOEXEC; Node marks the inherited ones
// 3..15 (and on up to the first gap) close-on-exec at start-up, but pcheck still holds them,
// so the holder of a pipe's other end never sees it close. So pcheck closes them first thing.
//
// Node's own descriptors at that point are its event loops (anon_inode: eventpoll, eventfd)
// and their wake-up pipes (both ends held here), all close-on-exec; everything else above 2 was
// inherited. JOURNAL_STREAM is stdout/stderr (kept); LISTEN_FDS (socket activation) is not used.
import { closeSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

export interface ClosedFd {
  fd: number;
  /** what it was: `pipe:[1234]`, `socket:[99]`, a path */
  target: string;
}

interface OpenFd {
  fd: number;
  target: string;
  cloexec: boolean;
}

/** Closes every descriptor above 2 that is not Node's own (nor its IPC channel); returns them. */
export function closeInheritedFds(env: NodeJS.ProcessEnv = process.env): ClosedFd[] {
  const fds = openFds();
  const ipc = Number(env['NODE_CHANNEL_FD']);
  const ends = new Map<string, number>();
  for (const f of fds) if (f.target.startsWith('pipe:')) ends.set(f.target, (ends.get(f.target) ?? 0) + 1);
  const closed: ClosedFd[] = [];
  for (const f of fds) {
    if (f.fd <= 2 || f.fd === ipc) continue;
    const nodes = f.cloexec && (f.target.startsWith('anon_inode:') || (ends.get(f.target) ?? 0) >= 2);
    if (nodes) continue;
    try {
      closeSync(f.fd);
      closed.push({ fd: f.fd, target: f.target });
    } catch {
      // closed meanwhile
    }
  }
  return closed;
}

/** `fd 3 (pipe:[1234]), fd 7 (/var/log/agent.log)` */
export function describeClosed(closed: readonly ClosedFd[]): string {
  return closed.map((c) => `fd ${c.fd} (${c.target})`).join(', ');
}

function openFds(): OpenFd[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return []; // no /proc: nothing to look at
  }
  const out: OpenFd[] = [];
  for (const name of names) {
    const fd = Number(name);
    try {
      const target = readlinkSync(`/proc/self/fd/${name}`);
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${name}`, 'utf8'))?.[1];
      out.push({ fd, target, cloexec: flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) !== 0 });
    } catch {
      // the directory listing's own descriptor, gone by now
    }
  }
  return out;
}
