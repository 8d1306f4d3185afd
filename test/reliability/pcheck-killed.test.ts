// pcheck itself killed with SIGKILL in every phase of a restart, then started again with the
// same pfile and state file (SHM_DUMP_FILE). The new pcheck must keep the counts (retry_count,
// restart_count) and must never start a second copy of the program: after things settle,
// exactly one process has the pname as argv[0], for seconds.
//
// Phases: (a) the death is seen by nobody (pcheck stopped, then killed) before any script runs;
// (b) the restart script is running (it outlives pcheck: scripts run in their own session);
// (c) the script has ended and pcheck waits RESTART_WAIT for the program to appear;
// (d) as (b), but the script hangs: the new pcheck enforces its timeout.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, sandboxes, sleep, waitFor, type Pcheck } from '../helpers/harness';
import { copiesService, countLines, isGone, liveCopies, pidOf, stampOf, startCopyLine, upLine, type Copies } from './fault-helpers';

/** How long "exactly one copy" must hold once the program is up again. */
const STEADY_MS = 3000;

const PARAM = { INITIAL_WAIT: 0.5, RESTART_WAIT: 10, MONITOR_INTERVAL: 1 };

interface Svc extends Copies {
  /** one line per script run: "PID EPOCH_MS" */
  runs: string;
  /** the file the test creates to let a waiting script (or program start) go on */
  go: string;
}

/** Waits (50 ms polls, 30 s at most) for the file `go` (or the placeholder GO); without it (the test
 *  failed and cleaned up), gives up and starts nothing. */
const waitGo = (go: string) => `for i in $(seq 600); do [ -e "${go}" ] && break; sleep 0.05; done; [ -e "${go}" ] || exit 0`;

/** A service whose restart script logs its run, runs `pre`, then starts a registered copy (after GO when `late`). */
function service(sb: Sandbox, name: string, opts: { pre?: string; late?: boolean } = {}): Svc {
  const runs = join(sb.dir, `${name}.runs`);
  const go = join(sb.dir, `${name}.go`);
  const c = copiesService(sb, name, {
    pre: `echo "$$ $(date +%s%3N)" >> '${runs}'\n${(opts.pre ?? '').replaceAll('GO', go)}`,
    first: opts.late ? `${waitGo(go)}; ` : '',
  });
  return { ...c, runs, go };
}

function runLines(svc: Svc): [number, number][] {
  try {
    return readFileSync(svc.runs, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ').map(Number) as [number, number]);
  } catch {
    return [];
  }
}
const runsOf = (svc: Svc): number[] => runLines(svc).map(([pid]) => pid);

/** Starts the first copy directly (some of these restart scripts are slow on purpose). */
/** A pcheck watching the first copy, which is then killed: the restart begins. */
async function watchThenKill(sb: Sandbox, svc: Svc, pfile: string): Promise<Pcheck> {
  const first = await startFirst(svc);
  const pc = sb.pcheck(pfile);
  await pc.waitLine(`(${svc.pname} ,pid=${first}) Up`);
  kill(first, 'SIGKILL');
  return pc;
}

async function startFirst(svc: Svc): Promise<number> {
  execFileSync('bash', ['-c', startCopyLine(svc.pname, svc.reg)], { stdio: 'ignore' });
  return waitFor(() => liveCopies(svc)[0], 10_000, `${svc.pname} to start`, 50);
}

/** The program is up (one copy), and stays exactly one copy (the same pid) for STEADY_MS; then a
 *  full scan of /proc confirms that no other process has its argv[0]. */
async function assertOneCopy(sb: Sandbox, svc: Svc): Promise<number> {
  const pid = await waitFor(() => liveCopies(svc).length === 1 && liveCopies(svc)[0], 15_000, `one copy of ${svc.pname}`, 50);
  const end = Date.now() + STEADY_MS;
  while (Date.now() < end) {
    assert.deepEqual(liveCopies(svc), [pid], 'exactly one copy, the same one');
    await sleep(100);
  }
  assert.deepEqual(sb.pidsOf(svc), [pid], 'no other process has the argv[0]');
  return pid;
}

async function killPcheck(pc: Pcheck): Promise<void> {
  kill(pc.pid, 'SIGKILL');
  await pc.exited;
}

function counts(sb: Sandbox, pfile: string): { retry: string; restart: string; sts: string; pid: string } {
  const [e] = sb.showPent(pfile);
  return { retry: e.retry_count, restart: e.restart_count, sts: e.proc_sts, pid: e.pid };
}

/** The state file names the running restart script (pcheck writes it right after the fork). */
function namedScript(sb: Sandbox): number | null {
  try {
    const snap = JSON.parse(readFileSync(join(sb.dir, 'state.dmp'), 'utf8')) as { entries: { restart?: { script: { pid: number } | null } | null }[] };
    return snap.entries[0].restart?.script?.pid ?? null;
  } catch {
    return null;
  }
}

describe('pcheck killed with SIGKILL during a restart, then started again', { concurrency: true }, () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('(a) before the script runs: the death is counted once by the new pcheck, one copy', async () => {
    const sb = box();
    const svc = service(sb, 'a');
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:0:5:exit`] });
    const first = await startFirst(svc);
    let pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${first}) Up`);
    // one ordinary heal first, so that there is a count to lose
    const from = pc.lines.length;
    kill(first, 'SIGKILL');
    const second = pidOf(await pc.waitLine(upLine(svc.pname), 10_000, from));
    assert.deepEqual(counts(sb, pfile), { retry: '1', restart: '1', sts: 'AVAIL', pid: String(second) });

    // the phase: pcheck cannot react (stopped), the program dies, pcheck is killed
    kill(pc.pid, 'SIGSTOP');
    kill(second, 'SIGKILL');
    await waitFor(() => isGone(second), 5000, 'the program to die');
    await killPcheck(pc);
    assert.equal(countLines(svc.runs), 1, 'no script ran in between');

    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname}) restored: retry_count=1 restart_count=1 monitor_sts=on`);
    await pc.waitLine(`(${svc.pname}) process not found`);
    await pc.waitLine(`Try to restart (${svc.pname})`);
    await pc.waitLine(upLine(svc.pname));
    const third = await assertOneCopy(sb, svc);
    assert.deepEqual(counts(sb, pfile), { retry: '2', restart: '2', sts: 'AVAIL', pid: String(third) });
    assert.equal(countLines(svc.runs), 2, 'one script run for one death');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('(b) while the restart script runs: the new pcheck waits for that script instead of running a second one', async () => {
    const sb = box();
    // the script starts the program only once the test says GO: two pchecks are killed meanwhile
    const svc = service(sb, 'b', { pre: waitGo('GO') });
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:0:5:exit`] });
    let pc = await watchThenKill(sb, svc, pfile);
    await pc.waitLine(`Try to restart (${svc.pname})`);
    const [script] = await waitFor(() => runsOf(svc).length === 1 && runsOf(svc), 10_000, 'the script to start', 20);
    // killed as soon as the script has begun: it may not be named in the state file yet
    await killPcheck(pc);
    assert.ok(!isGone(script), 'the script outlives pcheck');

    // a second pcheck finds the script still running, waits for it, and is killed too
    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname}) restart script of the previous pcheck still runs (pid=${script}): waiting for it to end instead of running it again`);
    await waitFor(() => namedScript(sb) === script, 5000, 'the new pcheck to name the script in its state file');
    await killPcheck(pc);
    // as if that pcheck had been killed in the few ms between starting the script and naming it
    // in the state file: the next one must find the script by its path
    const state = join(sb.dir, 'state.dmp');
    const snap = JSON.parse(readFileSync(state, 'utf8')) as { entries: { restart: { script: unknown; scriptRunning: boolean } }[] };
    snap.entries[0].restart = { ...snap.entries[0].restart, scriptRunning: true, script: null };
    writeFileSync(state, JSON.stringify(snap));

    pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname}) restart script of the previous pcheck still runs (pid=${script})`);
    writeFileSync(svc.go, '');
    await pc.waitLine(`(${svc.pname}) restart script of the previous pcheck (pid=${script}) has ended`, 10_000);
    await pc.waitLine(upLine(svc.pname), 10_000);
    const pid = await assertOneCopy(sb, svc);
    assert.deepEqual(runsOf(svc), [script], 'the script ran once');
    assert.deepEqual(counts(sb, pfile), { retry: '1', restart: '1', sts: 'AVAIL', pid: String(pid) });
    assert.equal(pc.count('Try to restart'), 0, 'the new pcheck restarted nothing');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('(c) during RESTART_WAIT: the new pcheck goes on waiting until the old deadline, one copy', async () => {
    const sb = box();
    // the script ends at once; the program appears later, when the test says GO (a slow daemon start)
    const svc = service(sb, 'c', { late: true });
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:0:5:exit`] });
    let pc = await watchThenKill(sb, svc, pfile);
    await pc.waitLine(`Try to restart (${svc.pname})`);
    const [script] = await waitFor(() => runsOf(svc).length === 1 && runsOf(svc), 10_000, 'the script to run');
    await waitFor(() => isGone(script), 10_000, 'the script to end');
    await waitFor(() => namedScript(sb) === null, 10_000, 'pcheck to record that the script ended');
    await killPcheck(pc);
    assert.deepEqual(liveCopies(svc), [], 'the program is not up yet');

    pc = sb.pcheck(pfile);
    await pc.waitLine(/\/c\) was restarting when the previous pcheck stopped: waiting up to [\d.]+s for it to appear/);
    writeFileSync(svc.go, '');
    await pc.waitLine(upLine(svc.pname), 10_000);
    const pid = await assertOneCopy(sb, svc);
    assert.deepEqual(runsOf(svc), [script], 'the script ran once');
    assert.deepEqual(counts(sb, pfile), { retry: '1', restart: '1', sts: 'AVAIL', pid: String(pid) });
    assert.equal(pc.count('Try to restart') + pc.count('Set pid fail'), 0);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('(d) the script left behind hangs: the new pcheck kills its process group at the timeout counted from its start, then restarts', async () => {
    const sb = box();
    const once = join(sb.dir, 'd.once');
    // the first run hangs, with a child in its process group; later runs start the program
    const svc = service(sb, 'd', { pre: `if [ ! -e '${once}' ]; then touch '${once}'; sleep 1000 & wait; fi` });
    const pfile = sb.pfile({ param: { ...PARAM, RESTART_WAIT: 1 }, pents: [`${svc.pname}:${svc.script}:0:5:exit:script_timeout=4`] });
    let pc = await watchThenKill(sb, svc, pfile);
    const [[script, startedAt]] = await waitFor(() => runLines(svc).length === 1 && runLines(svc), 10_000, 'the script to start');
    await waitFor(() => namedScript(sb) === script, 5000, 'the state file to name the script');
    await killPcheck(pc);
    await sleep(3000); // no pcheck for a while: the timeout runs from the script's start, not from the next pcheck's

    pc = sb.pcheck(pfile);
    const resumed = await pc.waitLine(`(${svc.pname}) restart script of the previous pcheck still runs (pid=${script})`);
    const timedOut = await pc.waitLine(`Restart script of (${svc.pname}) timed out; killed it and what it started`, 10_000);
    const afterStart = stampOf(timedOut.text) - startedAt;
    // (the script notes its start once bash runs, a little after the fork the timeout counts from)
    assert.ok(afterStart >= 3000, `killed ${afterStart} ms after the script started`);
    // due about 1 s after the new pcheck took over; a fresh timeout would be 4 s after
    const sinceResume = stampOf(timedOut.text) - stampOf(resumed.text);
    assert.ok(sinceResume < 3500, `killed ${sinceResume} ms after the new pcheck took over: not a fresh timeout counted from it`);
    if (process.env.PROCSAFE_FIGURES) process.stdout.write(`# figures: (d) group killed ${afterStart} ms after the script's start, ${sinceResume} ms after the new pcheck took over\n`);
    await waitFor(() => isGone(script), 3000, 'the script to be gone');
    await pc.waitLine(`Set pid fail (${svc.pname})`, 10_000);
    await pc.waitLine(`Try to restart (${svc.pname})`, 10_000);
    const pid = await assertOneCopy(sb, svc);
    assert.equal(runsOf(svc).length, 2);
    assert.deepEqual(counts(sb, pfile), { retry: '2', restart: '2', sts: 'AVAIL', pid: String(pid) });
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
