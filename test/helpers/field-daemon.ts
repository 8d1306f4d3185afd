// The scenario every real daemon of the field suite goes through (issue 10, SPEC §10): the
// operator starts it with its restart script, pcheck adopts it; kill -9 of its main process,
// twice → each time exactly one instance serves again and retry_count counts 1, then 2;
// SIGTERM to pcheck → the daemon keeps serving and logging. Each heal (kill → served by one
// new instance, nothing of the old one left) is timed and printed as a test diagnostic.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Sandbox, kill, sleep, waitFor, type Pcheck } from './harness';
import { alive, describeProcs, endProgram, listeners, liveProcs, programTree, showPentJson, withDescendants, type PentView, type ProcRow } from './field';

export interface FieldDaemon {
  /** the PENT line's pname */
  pname: string;
  /** the restart script, written as an operator writes it */
  script: string;
  /** the PENT options field (include_strings=…), if any */
  options?: string;
  /** every process of this daemon instance: its main process and its workers */
  isMine: (p: ProcRow) => boolean;
  /** when set, whoever listens on this loopback port must belong to the current instance */
  port?: number;
  /** true when the service answers now (an HTTP GET, a log line through its socket) */
  serves: () => Promise<boolean>;
  /** true when the daemon writes a new line to its own log after being asked to (a request, a message) */
  writesLog: () => Promise<boolean>;
  /**
   * Processes that are not the program and must outlive every heal and pcheck's stop (an open
   * ssh session, another program of the same binary): started once the daemon runs; returns them.
   */
  bystanders?: () => Promise<ProcRow[]>;
}

/** Fails naming every bystander that did not survive `when`. */
function assertBystanders(bystanders: readonly ProcRow[], when: string): void {
  const dead = bystanders.filter((p) => !alive(p));
  assert.equal(dead.length, 0, `processes that are not the program were ended ${when}: ${describeProcs(dead)}`);
}

export interface Heal {
  ms: number;
  main: ProcRow;
}

/** pcheck's log so far, for a failure message. */
function pcheckLog(pc: Pcheck): string {
  return `\npcheck:\n${pc.lines.map((l) => l.text).join('\n')}`;
}

/** How long a heal may take at most before the test says what it sees instead. */
const HEAL_LIMIT_MS = 25_000;

/**
 * Kills the main process with SIGKILL and waits until exactly one main process (a new one)
 * runs, nothing of the old instance is left, the port is held by the new instance only and
 * the service answers. Fails with what it saw last otherwise.
 */
export async function killAndHeal(d: FieldDaemon, pc: Pcheck): Promise<Heal> {
  const before = programTree(d.isMine);
  assert.equal(before.mains.length, 1, `one main process before the kill: ${describeProcs(before.mains)}`);
  const old = before.all;
  const t0 = performance.now();
  kill(before.mains[0].pid, 'SIGKILL');
  for (;;) {
    const now = programTree(d.isMine);
    const left = old.filter((p) => alive(p));
    const newMain = now.mains.length === 1 && !old.some((o) => o.pid === now.mains[0].pid) ? now.mains[0] : null;
    const own = newMain ? new Set(withDescendants([newMain.pid])) : new Set<number>();
    const foreign = d.port === undefined ? [] : listeners(d.port).filter((pid) => !own.has(pid));
    if (newMain && left.length === 0 && foreign.length === 0 && (await d.serves())) return { ms: performance.now() - t0, main: newMain };
    const seen = `main processes: ${describeProcs(now.mains)}; left of the old instance: ${describeProcs(left)}; port held by others: ${foreign.join(' ') || 'none'}`;
    if (performance.now() - t0 > HEAL_LIMIT_MS) {
      assert.fail(`not healed to exactly one instance within ${HEAL_LIMIT_MS} ms — ${seen}${pcheckLog(pc)}`);
    }
    await sleep(25);
  }
}

/** Waits until padmin shows the entry AVAIL on the daemon's one main process (read afresh each
 *  time: a daemon whose parent waits for its child hands over right after it serves); returns it. */
async function entryUpOn(d: FieldDaemon, sb: Sandbox, pfile: string, pc: Pcheck): Promise<PentView> {
  let last: PentView | undefined;
  try {
    return await waitFor(
      () => {
        last = showPentJson(sb, pfile)[0];
        const { mains } = programTree(d.isMine);
        return last.proc_sts === 'AVAIL' && mains.length === 1 && last.pid === mains[0].pid ? last : null;
      },
      15_000,
      'the entry AVAIL on the one main process',
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; padmin shows ${JSON.stringify(last)}${pcheckLog(pc)}`, { cause: e });
  }
}

/**
 * After a heal: padmin shows the entry AVAIL on the one main process with `retryCount`, and for
 * `ms` the same single main process runs (no second copy appears late, no second restart is
 * run). Returns its pid.
 */
async function assertSettled(d: FieldDaemon, sb: Sandbox, pfile: string, pc: Pcheck, retryCount: number, ms = 2500): Promise<number> {
  const entry = await entryUpOn(d, sb, pfile, pc);
  assert.equal(entry.retry_count, retryCount, `retry_count after the kill: ${JSON.stringify(entry)}${pcheckLog(pc)}`);
  const pid = entry.pid as number;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = programTree(d.isMine);
    assert.deepEqual(t.mains.map((p) => p.pid), [pid], `exactly the healed main process runs: ${describeProcs(t.mains)}${pcheckLog(pc)}`);
    await sleep(100);
  }
  const after = showPentJson(sb, pfile)[0];
  assert.equal(after.retry_count, retryCount, `retry_count stays: ${JSON.stringify(after)}${pcheckLog(pc)}`);
  assert.equal(after.pid, pid);
  return pid;
}

/**
 * The field scenario as four tests in sequence, one describe() per daemon. `setup` writes the
 * daemon's private configuration and restart script in the sandbox and says how to see it.
 */
export function fieldScenario(name: string, setup: (sb: Sandbox) => Promise<FieldDaemon>): void {
  describe(`${name} supervised by pcheck`, () => {
    const sb = new Sandbox();
    let d: FieldDaemon;
    let pfile: string;
    let pc: Pcheck;
    let bystanders: ProcRow[] = [];

    before(async () => {
      d = await setup(sb);
      pfile = sb.pfile({ param: { RESTART_WAIT: 10 }, pents: [`${d.pname}:${d.script}:86400:3:exit${d.options ? `:${d.options}` : ''}`] });
    });
    after(async () => {
      // pcheck first (a failed test may leave it running: it would start the daemon again),
      // then its scripts still running, then the daemon with whatever it forked
      if (pc && pc.child.exitCode === null && pc.child.signalCode === null) {
        kill(pc.pid, 'SIGKILL');
        await pc.exited;
      }
      for (const pid of withDescendants(liveProcs().filter((p) => p.cmdline.includes(sb.dir)).map((p) => p.pid))) kill(pid, 'SIGKILL');
      for (const p of bystanders) if (alive(p)) kill(p.pid, 'SIGKILL');
      if (d) await endProgram(d.isMine);
      sb.cleanup();
    });

    it(`pcheck adopts the ${name} that the operator started with the restart script`, async () => {
      const r = spawnSync(d.script, { stdio: 'ignore', timeout: 30_000 });
      assert.equal(r.status, 0, `the restart script exits 0 when run by hand (${String(r.error ?? r.signal ?? '')})`);
      await waitFor(() => programTree(d.isMine).mains.length === 1, 10_000, `${name} to run`);
      await waitFor(() => d.serves(), 10_000, `${name} to serve`, 100);
      const main = programTree(d.isMine).mains[0];
      if (d.bystanders) bystanders = await d.bystanders();
      pc = sb.pcheck(pfile);
      await pc.waitLine(`(${d.pname} ,pid=${main.pid}) Up`, 15_000);
      const entry = await entryUpOn(d, sb, pfile, pc);
      assert.equal(entry.pid, main.pid);
      assert.equal(entry.retry_count, 0);
    });

    for (const n of [1, 2]) {
      it(`kill -9 of the main process (${n === 1 ? 'first' : 'second'} time): exactly one ${name} serves again, retry_count ${n}`, async (t: TestContext) => {
        const heal = await killAndHeal(d, pc);
        t.diagnostic(`field heal ${name} #${n}: ${Math.round(heal.ms)} ms`);
        const pid = await assertSettled(d, sb, pfile, pc, n);
        await pc.waitLine(`(${d.pname} ,pid=${pid}) Up`, 5000);
        assertBystanders(bystanders, `by heal #${n}`);
      });
    }

    it(`stopping pcheck (SIGTERM) leaves ${name} serving and writing its log; then it is ended by PID`, async () => {
      const { mains } = programTree(d.isMine);
      assert.equal(mains.length, 1, `exactly one ${name} runs before pcheck stops: ${describeProcs(mains)}`);
      const main = mains[0];
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
      for (let i = 0; i < 6; i++) {
        await sleep(500);
        assert.ok(alive(main), `${name} (pid ${main.pid}) still runs ${(i + 1) * 0.5} s after pcheck stopped`);
        assert.ok(await d.serves(), `${name} still serves ${(i + 1) * 0.5} s after pcheck stopped`);
      }
      assert.ok(await d.writesLog(), `${name} still writes its log after pcheck stopped`);
      assert.ok(alive(main), `${name} survived writing its log`);
      assertBystanders(bystanders, 'when pcheck stopped');
      await endProgram(d.isMine);
      assert.equal(programTree(d.isMine).all.length, 0);
    });
  });
}
