// SPEC §10: "Inherited descriptors other than 0–2 are not passed on to scripts" (issue 10,
// case 9). pcheck is started the way a cluster agent or a careless shell starts it: with a
// socket on fd 3 (which Node itself marks close-on-exec, but holds) and a pipe on fd 40, after
// a gap (which Node leaves inheritable). Neither may reach the restart script or the program
// it starts, and pcheck must not hold them either: the holder of the other end sees EOF.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readlinkSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { PCHECK, Pcheck, kill, sandboxes, waitFor, type Sandbox } from '../helpers/harness';
import { FailsafeSandbox } from '../helpers/failsafe';

const HIGH_FD = 40;

interface Leaked {
  pc: Pcheck;
  /** the other end of the socket on pcheck's fd 3 */
  socket: Socket;
  /** the read end of the FIFO (a named pipe) whose write end is pcheck's fd 40 */
  fifo: number;
  /** what pcheck's fd 3 and fd 40 were, as /proc links show them */
  targets: string[];
}

/** Starts pcheck with `args`, an extra socket on fd 3 and a FIFO's write end on fd 40. */
function spawnLeaky(sb: Sandbox, args: string[]): Leaked {
  const path = join(sb.dir, 'leak.fifo');
  execFileSync('mkfifo', [path]);
  const fifo = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', 'pipe', ...Array<'ignore'>(HIGH_FD - 4).fill('ignore'), writer];
  const child: ChildProcess = spawn(process.execPath, [PCHECK, ...args], { env: sb.env(), stdio });
  sb.track(child.pid!);
  closeSync(writer);
  const targets = [`/proc/${child.pid}/fd/3`, `/proc/${child.pid}/fd/${HIGH_FD}`].map((l) => {
    try {
      return readlinkSync(l);
    } catch {
      return '(closed)';
    }
  });
  const socket = child.stdio[3] as Socket;
  socket.on('error', () => undefined);
  return { pc: new Pcheck(child), socket, fifo, targets };
}

/** What the descriptors a script listed with `ls -l /proc/$$/fd` point to. */
function linksIn(listing: string): string[] {
  return [...listing.matchAll(/-> (\S+)$/gm)].map((m) => m[1]);
}

function fifoAtEof(fd: number): boolean {
  try {
    return readSync(fd, Buffer.alloc(16)) === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return false; // a writer still holds it
    throw e;
  }
}

function fdLinks(pid: number): string[] {
  const out: string[] = [];
  for (const n of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${n}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

async function assertNotPassedOn(sb: Sandbox, l: Leaked, scriptFds: string, programPid: number | null): Promise<void> {
  const [sock, pipe] = l.targets;
  assert.match(sock, /^socket:\[\d+\]$/, 'fd 3 was a socket when pcheck started');
  assert.equal(pipe, join(sb.dir, 'leak.fifo'), `fd ${HIGH_FD} was the FIFO when pcheck started`);
  const listing = await waitFor(() => (existsSync(scriptFds) ? readFileSync(scriptFds, 'utf8') : null), 15_000, 'the script to list its descriptors');
  for (const t of [pipe, sock]) {
    assert.ok(!linksIn(listing).includes(t), `the script must not inherit ${t}:\n${listing}`);
    if (programPid !== null) assert.ok(!fdLinks(programPid).includes(t), `the program must not inherit ${t}`);
    assert.ok(!fdLinks(l.pc.pid).includes(t), `pcheck must not hold ${t}`);
  }
  // the holders of the other ends see them closed while pcheck runs on
  await waitFor(() => fifoAtEof(l.fifo), 5000, 'EOF on the FIFO');
  await waitFor(() => l.socket.readableEnded || l.socket.destroyed || null, 5000, 'EOF on the socket');
  assert.equal(l.pc.child.exitCode, null, 'pcheck runs on');
  const closed = await l.pc.waitLine('inherited from pcheck\'s parent, so that scripts do not inherit them', 5000);
  assert.match(closed.text, new RegExp(`fd 3 \\(socket:\\[\\d+\\]\\)`));
  assert.ok(closed.text.includes(`fd ${HIGH_FD} (${pipe})`), closed.text);
  closeSync(l.fifo);
}

describe('descriptors pcheck inherited are not passed on to scripts (SPEC §10)', () => {
  const { box, cleanup } = sandboxes();
  const fs = new FailsafeSandbox();
  after(() => {
    cleanup();
    fs.cleanup();
  });

  it('pcheck -f: neither the restart script nor its program gets fd 3 or fd 40, and pcheck closes them', async () => {
    const sb = box();
    const fds = join(sb.dir, 'script.fds');
    const svc = sb.service('svc', {
      scriptBody: `ls -l /proc/$$/fd > '${fds}.tmp'; mv '${fds}.tmp' '${fds}'\nsetsid bash -c 'exec -a "$0" sleep infinity' '${join(sb.dir, 'svc')}' &\n`,
    });
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3 }, pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    const l = spawnLeaky(sb, ['-f', pfile]);
    const up = await l.pc.waitLine(`(${svc.pname} ,pid=`, 15_000);
    const pid = Number(/pid=(\d+)/.exec(up.text)![1]);
    sb.track(pid);
    await assertNotPassedOn(sb, l, fds, pid);
    kill(l.pc.pid, 'SIGTERM');
    assert.equal(await l.pc.exited, 0);
  });

  it('pcheck --config: the group start script does not get them either', async () => {
    const fds = join(fs.dir, 'group.fds');
    const start = fs.script('start.sh', `ls -l /proc/$$/fd > '${fds}.tmp'; mv '${fds}.tmp' '${fds}'`);
    fs.ini(`[group:app]\nstart = "${start}"\n`);
    const l = spawnLeaky(fs, ['--config', fs.iniPath, '--rehearse']);
    await assertNotPassedOn(fs, l, fds, null);
    kill(l.pc.pid, 'SIGTERM');
    assert.equal(await l.pc.exited, 0);
  });
});
