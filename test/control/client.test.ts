import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/control/client';
import { startControlServer } from '../../src/control/server';
import { NoDaemonError, ProcsafeError } from '../../src/errors';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'procsafe-cli-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => join(root, `s${++n}.sock`);

/** A raw unix server whose connections get `onConn`; for misbehaving peers. */
async function rawServer(path: string, onConn: (s: Socket) => void): Promise<Server> {
  const srv = createServer((s) => {
    s.on('error', () => {});
    s.resume(); // read (and drop) the request, so that the client's close is seen
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(path, r));
  return srv;
}

async function stopServer(srv: Server): Promise<void> {
  await new Promise<void>((r) => srv.close(() => r()));
}

/** Leaves a socket file nobody listens on, as a pcheck killed with SIGKILL would. */
async function makeStaleSocket(path: string): Promise<void> {
  const code = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid as number, 'SIGKILL');
  await exited;
}

describe('control client', () => {
  it('throws NoDaemonError (exit 3) when the socket does not exist', async () => {
    const path = fresh();
    await assert.rejects(
      request(path, { command: 'show pent' }),
      (e: unknown) => e instanceof NoDaemonError && e.exitCode === 3 && e.message.startsWith(`no pcheck answers on ${path} (`),
    );
  });

  it('throws NoDaemonError when the socket is stale (connection refused)', async () => {
    const path = fresh();
    await makeStaleSocket(path);
    await assert.rejects(
      request(path, { command: 'show pent' }),
      (e: unknown) => e instanceof NoDaemonError && e.exitCode === 3 && /connection refused/.test(e.message),
    );
  });

  it('throws NoDaemonError saying it timed out when the daemon never answers', async () => {
    const path = fresh();
    const srv = await rawServer(path, () => {}); // accepts, reads nothing, answers nothing
    try {
      const t0 = performance.now();
      await assert.rejects(
        request(path, { command: 'show pent' }, 200),
        (e: unknown) => e instanceof NoDaemonError && /timed out after 200 ms/.test(e.message),
      );
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      await stopServer(srv);
    }
  });

  it('throws a ProcsafeError (exit 1) for an answer that is not a control response', async () => {
    const path = fresh();
    const srv = await rawServer(path, (s) => s.end('hello\n'));
    try {
      await assert.rejects(
        request(path, { command: 'x' }),
        (e: unknown) => e instanceof ProcsafeError && e.exitCode === 1 && /bad answer.*not JSON/.test(e.message),
      );
    } finally {
      await stopServer(srv);
    }
  });

  it('throws a ProcsafeError (exit 1) when the daemon closes without answering', async () => {
    const path = fresh();
    const srv = await rawServer(path, (s) => s.end());
    try {
      await assert.rejects(
        request(path, { command: 'x' }),
        (e: unknown) => e instanceof ProcsafeError && e.exitCode === 1 && /without answering/.test(e.message),
      );
    } finally {
      await stopServer(srv);
    }
  });

  it('refuses a socket path longer than a unix socket allows, saying what to do', async () => {
    const path = join('/tmp', 'd'.repeat(120), 'x.sock');
    await assert.rejects(request(path, { command: 'x' }), /over the unix-socket limit.*PROCSAFE_RUN_DIR/);
  });

  it('gives a clear permission error to a user who is not the socket owner', async () => {
    // CI runs as root with util-linux; the client runs as nobody through setpriv
    assert.equal(process.getuid?.(), 0, 'this test runs as root, to become nobody');
    assert.equal(spawnSync('setpriv', ['--version']).status, 0, 'setpriv missing: apt-get install util-linux');
    const dir = mkdtempSync(join(tmpdir(), 'procsafe-perm-'));
    chmodSync(dir, 0o755); // nobody may traverse the directory; only the 0600 socket stops it
    const path = join(dir, 'pcheck-0x00000001.sock');
    const srv = await startControlServer(path, () => ({ ok: true }));
    try {
      const clientJs = join(__dirname, '..', '..', 'src', 'control', 'client.js');
      const code = `require(${JSON.stringify(clientJs)}).request(${JSON.stringify(path)}, { command: 'show pent' }).then(
        () => console.log(JSON.stringify({ ok: true })),
        (e) => console.log(JSON.stringify({ name: e.name, exitCode: e.exitCode, message: e.message })))`;
      const r = spawnSync(
        'setpriv',
        ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', code],
        { encoding: 'utf8', timeout: 10_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        name: 'ProcsafeError',
        exitCode: 1,
        message:
          `permission denied on ${path}: the control socket is owner-only (mode 0600); ` +
          'run padmin as the user that runs pcheck (usually root)',
      });
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
