// Abuse of the control socket: oversized requests, malformed lines and clients that connect
// and send nothing must not delay a well-formed request, and must not disturb a real pcheck
// healing its processes.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ControlErrorCode, errorResponse, socketPath, type ControlResponse } from '../../src/control/protocol';
import { startControlServer } from '../../src/control/server';
import { kill, Sandbox, sleep, waitFor } from '../helpers/harness';
import { checkRequest, requestInput } from './gen';

const OVERSIZED = Buffer.alloc(200 * 1024, 'a');

/** 50 generated request lines that the parser rejects (fixed seed), each without a newline inside. */
const MALFORMED = fc
  .sample(requestInput(), { numRuns: 2000, seed: 7 })
  .filter((l) => !/[\r\n]/.test(l) && Buffer.byteLength(l) < 60_000 && checkRequest(l) === 'rejected')
  .slice(0, 50);

/** Sends `payload` on a new connection and resolves with everything the server answers before closing. */
function exchange(path: string, payload: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    // The server may close while an oversized request is still being written: EPIPE/ECONNRESET
    // on our side is expected then, and the answer already read is what counts.
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(payload, () => undefined);
  });
}

/** Clients that connect and send nothing; `closed` counts those the server has hung up on. */
function idleClients(path: string, n: number): { socks: Socket[]; closed: () => number } {
  let closed = 0;
  const socks = Array.from({ length: n }, () => {
    const s = createConnection(path);
    s.on('error', () => undefined);
    s.on('close', () => closed++);
    return s;
  });
  return { socks, closed: () => closed };
}

function parse(answer: string): ControlResponse {
  assert.ok(answer.endsWith('\n'), `answer is not one line: ${JSON.stringify(answer.slice(0, 200))}`);
  return JSON.parse(answer) as ControlResponse;
}

describe('control server under abuse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procsafe-fuzz-sock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a well-formed request within 200 ms while a 200 KiB request, 50 malformed lines and 10 silent clients are in flight', async (t) => {
    assert.equal(MALFORMED.length, 50);
    const path = join(dir, 'c.sock');
    const server = await startControlServer(
      path,
      (req) => (req.command === 'ping' ? { ok: true, text: 'pong' } : errorResponse(ControlErrorCode.UNKNOWN_COMMAND, 'unknown')),
      { idleTimeoutMs: 1000 },
    );
    try {
      const idle = idleClients(path, 10);
      await sleep(50); // the silent clients are connected before the rest starts
      const oversized = exchange(path, OVERSIZED);
      const malformed = MALFORMED.map((l) => exchange(path, `${l}\n`));
      const t0 = performance.now();
      const good = parse(await exchange(path, '{"command":"ping"}\n'));
      const ms = performance.now() - t0;
      assert.deepEqual(good, { ok: true, text: 'pong' });
      assert.ok(ms < 200, `the well-formed request took ${ms.toFixed(1)} ms`);
      t.diagnostic(`well-formed request answered in ${ms.toFixed(1)} ms`);

      const big = parse(await oversized);
      assert.equal(big.ok, false);
      assert.ok(!big.ok && big.code === ControlErrorCode.BAD_REQUEST && /longer than 65536 bytes/.test(big.error), JSON.stringify(big));
      for (const [i, p] of malformed.entries()) {
        const r = parse(await p);
        assert.ok(!r.ok && r.code === ControlErrorCode.BAD_REQUEST && r.error.length > 0, `${JSON.stringify(MALFORMED[i])} → ${JSON.stringify(r)}`);
      }
      // the silent clients are still connected, then dropped by the idle timeout
      assert.equal(idle.closed(), 0);
      await waitFor(() => idle.closed() === 10, 3000, 'the idle timeout to close the 10 silent clients');
      assert.deepEqual(parse(await exchange(path, '{"command":"ping"}\n')), { ok: true, text: 'pong' });
    } finally {
      await server.close();
    }
  });
});

describe('a real pcheck whose control socket is hammered', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('keeps healing a killed process while bad clients hammer its socket (kill, then ) Up, three times)', async (t) => {
    const svc = sb.service('hammered');
    const pfile = sb.pfile({ param: { RESTART_WAIT: 0.5 }, pents: [`${svc.pname}:${svc.script}:0:10:exit`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(') Up');
    const sock = socketPath(sb.runDir, sb.ipckey);
    await waitFor(() => existsSync(sock), 5000, 'the control socket');

    let stop = false;
    let sent = 0;
    const idle: Socket[] = [];
    const hammer = (async () => {
      while (!stop) {
        idle.push(...idleClients(sock, 10).socks);
        const batch = [exchange(sock, OVERSIZED), ...MALFORMED.slice(0, 20).map((l) => exchange(sock, `${l}\n`))];
        sent += batch.length;
        await Promise.all(batch.map((p) => p.catch(() => '')));
        if (idle.length > 200) idle.splice(0, 100).forEach((s) => s.destroy());
      }
    })();
    try {
      let victim = pid;
      const heals: number[] = [];
      for (let round = 1; round <= 3; round++) {
        // the hammer has been at it for a few batches before each kill
        await waitFor(() => sent >= round * 100, 10_000, `${round * 100} bad requests`);
        const from = pc.lines.length;
        const t0 = performance.now();
        assert.ok(kill(victim, 'SIGKILL'));
        const up = await pc.waitLine(/hammered ,pid=\d+\) Up/, 15_000, from);
        heals.push(performance.now() - t0);
        victim = Number(/pid=(\d+)/.exec(up.text)![1]);
        assert.notEqual(victim, pid);
        sb.track(victim);
      }
      assert.ok(sent > 0, 'the hammer sent nothing');
      t.diagnostic(`3 kills healed in ${heals.map((h) => h.toFixed(0)).join(', ')} ms while ${sent} bad requests and ${idle.length} silent clients hit the socket`);
      assert.equal(pc.child.exitCode, null, `pcheck exited: ${pc.stderr}`);
    } finally {
      stop = true;
      await hammer;
      idle.forEach((s) => s.destroy());
    }
    // and it still answers padmin, with the process up
    const [e] = sb.showPent(pfile);
    assert.equal(e.pid, String(sb.pidsOf(svc)[0]));
    assert.equal(e.restart_count, '3');
  });
});
