import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/control/client';
import { ControlErrorCode, socketPath, type ControlRequest } from '../../src/control/protocol';
import { startControlServer, type ControlServer } from '../../src/control/server';
import { ProcsafeError } from '../../src/errors';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'procsafe-srv-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh socket path per test, in its own run directory. */
function freshPath(ipckey = 0x1a2b3c4d): string {
  return socketPath(join(root, `run${++n}`), ipckey);
}

const echo = (req: ControlRequest) => ({ ok: true as const, text: `did ${req.command}`, data: req.args ?? null });

/** Sends `payload` as is and collects everything the server sends until it closes. */
function rawExchange(path: string, payload: string | Buffer, halfClose = false): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = createConnection(path);
    const chunks: Buffer[] = [];
    s.on('connect', () => {
      if (payload.length > 0) s.write(payload);
      if (halfClose) s.end();
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    // The server may close while we still write (oversized request): EPIPE/ECONNRESET are expected.
    s.on('error', () => {});
    s.on('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
  });
}

/** Leaves a socket file nobody listens on, as a pcheck killed with SIGKILL would. */
async function makeStaleSocket(path: string): Promise<void> {
  const code = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`listener exited early (${c})`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid as number, 'SIGKILL');
  await exited;
}

async function withServer(
  path: string,
  handler: Parameters<typeof startControlServer>[1],
  fn: (srv: ControlServer) => Promise<void>,
  opts?: Parameters<typeof startControlServer>[2],
): Promise<void> {
  const srv = await startControlServer(path, handler, opts);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

describe('control server', () => {
  it('answers a request from the client with the handler answer', async () => {
    const path = freshPath();
    await withServer(path, echo, async () => {
      const r = await request(path, { command: 'stop pent', args: { id: 2 } });
      assert.deepEqual(r, { ok: true, text: 'did stop pent', data: { id: 2 } });
    });
  });

  it('awaits a handler that answers asynchronously', async () => {
    const path = freshPath();
    const slow = async (req: ControlRequest) => {
      await new Promise((r) => setTimeout(r, 20));
      return { ok: true as const, text: req.command };
    };
    await withServer(path, slow, async () => {
      assert.deepEqual(await request(path, { command: 'reload' }), { ok: true, text: 'reload' });
    });
  });

  it('creates a missing run directory with mode 0755 and the socket with mode 0600', async () => {
    const path = freshPath();
    const runDir = join(path, '..');
    assert.equal(existsSync(runDir), false);
    const oldMask = process.umask(0o077); // the directory mode must not depend on our umask
    try {
      await withServer(path, echo, async () => {
        assert.equal(statSync(runDir).mode & 0o777, 0o755);
        const st = statSync(path);
        assert.ok(st.isSocket());
        assert.equal(st.mode & 0o777, 0o600);
      });
    } finally {
      process.umask(oldMask);
    }
  });

  it('restores the process umask after listening', async () => {
    const path = freshPath();
    const before = process.umask(0o022);
    try {
      await withServer(path, echo, async () => {
        assert.equal(process.umask(0o022), 0o022);
      });
    } finally {
      process.umask(before);
    }
  });

  it('removes its socket file on close', async () => {
    const path = freshPath();
    const srv = await startControlServer(path, echo);
    assert.ok(existsSync(path));
    await srv.close();
    assert.equal(existsSync(path), false);
    await srv.close(); // a second close is harmless
  });

  it('replaces a stale socket left by a killed pcheck', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'));
    await makeStaleSocket(path);
    assert.ok(statSync(path).isSocket());
    await withServer(path, echo, async () => {
      assert.equal((await request(path, { command: 'list' })).ok, true);
    });
  });

  it('refuses to start when another live server answers on the same path, naming the IPCKEY', async () => {
    const path = freshPath(0xabcd);
    await withServer(path, echo, async () => {
      await assert.rejects(
        startControlServer(path, echo),
        (e: unknown) =>
          e instanceof ProcsafeError &&
          e.exitCode === 2 &&
          e.message ===
            `another pcheck already serves IPCKEY 0x0000abcd (socket ${path}); give each pfile its own IPCKEY`,
      );
      // the first server is untouched and still answers
      assert.equal((await request(path, { command: 'list' })).ok, true);
    });
  });

  it('refuses to start over a path that is not a socket, and leaves the file alone', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'));
    writeFileSync(path, 'precious');
    await assert.rejects(startControlServer(path, echo), /exists and is not a socket/);
    assert.equal(statSync(path).isFile(), true);
  });

  it('answers non-JSON with BAD_REQUEST without calling the handler', async () => {
    const path = freshPath();
    let calls = 0;
    await withServer(
      path,
      (req) => {
        calls++;
        return echo(req);
      },
      async () => {
        const { text } = await rawExchange(path, 'show pent\n');
        const r = JSON.parse(text) as { ok: boolean; code: number; error: string };
        assert.equal(r.ok, false);
        assert.equal(r.code, ControlErrorCode.BAD_REQUEST);
        assert.match(r.error, /not JSON/);
        assert.equal(calls, 0);
      },
    );
  });

  it('answers a request that ends at end-of-input instead of a newline', async () => {
    const path = freshPath();
    await withServer(path, echo, async () => {
      const { text } = await rawExchange(path, '{"command":"list"}', true);
      assert.deepEqual(JSON.parse(text), { ok: true, text: 'did list', data: null });
    });
  });

  it('answers an oversized request with BAD_REQUEST and still serves the next client', async () => {
    const path = freshPath();
    await withServer(path, echo, async () => {
      const { text } = await rawExchange(path, Buffer.alloc(200 * 1024, 0x61));
      const r = JSON.parse(text) as { ok: boolean; code: number; error: string };
      assert.equal(r.code, ControlErrorCode.BAD_REQUEST);
      assert.match(r.error, /longer than 65536 bytes/);
      assert.equal((await request(path, { command: 'list' })).ok, true);
    });
  });

  it('turns a handler exception or rejection into an INTERNAL answer and keeps serving', async () => {
    const path = freshPath();
    const faulty = (req: ControlRequest) => {
      if (req.command === 'sync-throw') throw new Error('boom');
      if (req.command === 'async-throw') return Promise.reject(new Error('later boom'));
      return echo(req);
    };
    await withServer(path, faulty, async () => {
      assert.deepEqual(await request(path, { command: 'sync-throw' }), {
        ok: false,
        code: ControlErrorCode.INTERNAL,
        error: 'internal error: boom',
      });
      assert.deepEqual(await request(path, { command: 'async-throw' }), {
        ok: false,
        code: ControlErrorCode.INTERNAL,
        error: 'internal error: later boom',
      });
      assert.equal((await request(path, { command: 'list' })).ok, true);
    });
  });

  it('turns an answer that cannot be encoded into an INTERNAL answer', async () => {
    const path = freshPath();
    await withServer(path, () => ({ ok: true, data: { n: 1n } }), async () => {
      const r = await request(path, { command: 'x' });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, ControlErrorCode.INTERNAL);
    });
  });

  it('closes a client that sends nothing after the idle timeout, without blocking other clients', async () => {
    const path = freshPath();
    await withServer(
      path,
      echo,
      async () => {
        const idle = rawExchange(path, '');
        const t0 = performance.now();
        assert.equal((await request(path, { command: 'list' })).ok, true);
        const otherMs = performance.now() - t0;
        const { text, ms } = await idle;
        assert.equal(text, '', 'the idle client gets no answer');
        assert.ok(ms >= 250 && ms < 2000, `idle client closed after ${ms.toFixed(0)} ms`);
        assert.ok(otherMs < 250, `the other client waited ${otherMs.toFixed(0)} ms`);
      },
      { idleTimeoutMs: 300 },
    );
  });

  it('closes a client that sends half a line and then stalls', async () => {
    const path = freshPath();
    await withServer(
      path,
      echo,
      async () => {
        const { text, ms } = await rawExchange(path, '{"command":');
        assert.equal(text, '');
        assert.ok(ms >= 150 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
      },
      { idleTimeoutMs: 200 },
    );
  });

  it('serves many concurrent clients', async () => {
    const path = freshPath();
    await withServer(path, echo, async () => {
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => request(path, { command: `c${i}` })));
      rs.forEach((r, i) => assert.deepEqual(r, { ok: true, text: `did c${i}`, data: null }));
    });
  });

  it('answers a round trip in a few milliseconds (measured)', async () => {
    const path = freshPath();
    await withServer(path, echo, async () => {
      await request(path, { command: 'warm-up' });
      const N = 200;
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await request(path, { command: 'show pent' });
      const per = (performance.now() - t0) / N;
      console.log(`# control round trip: ${per.toFixed(3)} ms per request (connect, request, answer, close)`);
      assert.ok(per < 20, `${per} ms per round trip`);
    });
  });
});
