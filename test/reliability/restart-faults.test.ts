// Faults injected into a real pcheck: a restart script that was fine at start-up breaks
// (deleted, not executable, hanging, exiting 1, printing megabytes); the program crash-loops;
// the watched process's pid is reused by an unrelated process with the same command line; the
// watched process becomes a zombie. Each test checks what pcheck logs (exact lines), how the
// retries count, and that the other entry of the pfile is still watched and healed meanwhile.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, kill, sandboxes, sleep, waitFor, type Pcheck } from '../helpers/harness';
import {
  copiesService,
  countLines,
  entryLines,
  isGone,
  liveCopies,
  message,
  pidOf,
  readStatOf,
  scriptOutput,
  startCopyLine,
  upLine,
  type Copies,
} from './fault-helpers';

// ---- reading what happened -------------------------------------------------------------

/** Processes of a process group that are still alive (not zombies). */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStatOf(Number(d));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(st.pid);
  }
  return out;
}

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? NaN);
}

/** Starts the first copy of a service directly, as its healthy script would. */
async function startFirst(c: Copies): Promise<number> {
  execFileSync('bash', ['-c', startCopyLine(c.pname, c.reg)], { stdio: 'ignore' });
  return waitFor(() => liveCopies(c)[0], 10_000, `${c.pname} to start`, 50);
}

// ---- the two entries: A gets the fault, B must go on being healed ------------------------

interface Pair {
  sb: Sandbox;
  a: Copies & { runs: string };
  b: Copies;
  pfile: string;
  pc: Pcheck;
  pidA: number;
  pidB: number;
}

/** The healthy restart script of A: counts its runs, starts one registered copy. */
const healthyA = (a: Copies, runs: string): string => `#!/bin/bash\necho run >> '${runs}'\n${startCopyLine(a.pname, a.reg)}\n`;

async function startPair(sb: Sandbox, aOptions = '', param: Record<string, string | number> = {}): Promise<Pair> {
  const runs = join(sb.dir, 'a.runs');
  const a = { ...copiesService(sb, 'a', { pre: `echo run >> '${runs}'` }), runs };
  const b = copiesService(sb, 'b');
  const pfile = sb.pfile({
    param: { INITIAL_WAIT: 0.5, RESTART_WAIT: 0.5, ...param },
    pents: [`${a.pname}:${a.script}:0:2:none${aOptions}`, `${b.pname}:${b.script}:0:5:none`],
  });
  const pidA = await startFirst(a);
  const pidB = await startFirst(b);
  const pc = sb.pcheck(pfile);
  await pc.waitLine(`(${a.pname} ,pid=${pidA}) Up`);
  await pc.waitLine(`(${b.pname} ,pid=${pidB}) Up`);
  return { sb, a, b, pfile, pc, pidA, pidB };
}

/** Kills B while A is being restarted, and waits for B to be healed. Returns B's heal time (ms). */
async function healB(p: Pair, from: number): Promise<number> {
  const t0 = performance.now();
  kill(p.pidB, 'SIGKILL');
  await p.pc.waitLine(`Process [${p.b.pname} , pid=${p.pidB}] Down`, 10_000, from);
  const up = await p.pc.waitLine(upLine(p.b.pname), 10_000, from);
  assert.notEqual(pidOf(up), p.pidB);
  return up.at - t0;
}

/** The retry counting of an A whose two restarts both fail (retry_count 2, action none). */
function expectedFailures(p: Pair, faultLines: string[]): string[] {
  const n = p.a.pname;
  const attempt = [`Try to restart (${n})`, ...faultLines, `Set pid fail (${n})`];
  return [`Process [${n} , pid=${p.pidA}] Down`, ...attempt, ...attempt, `(${n}) RETRY_OVER:NONE`];
}

/** Repairs A's script and `reset pent 1`: A is restarted and up again. */
async function repair(p: Pair): Promise<void> {
  writeFileSync(p.a.script, healthyA(p.a, p.a.runs));
  chmodSync(p.a.script, 0o755);
  const from = p.pc.lines.length;
  assert.equal(p.sb.padmin(p.pfile, 'reset pent 1').code, 0);
  await p.pc.waitLine(upLine(p.a.pname), 10_000, from);
  assert.equal(p.sb.showPent(p.pfile)[0].proc_sts, 'AVAIL');
}

const figures: string[] = [];
after(() => {
  if (process.env.PROCSAFE_FIGURES) process.stdout.write(`\n# figures\n${figures.join('\n')}\n`);
});

// ---- 1. restart script faults -------------------------------------------------------------

interface ScriptFault {
  name: string;
  /** options field of A's entry */
  options?: string;
  /** turns A's valid script into the faulty one */
  inject(p: Pair): void;
  /** pcheck's line(s) for one failed attempt, between `Try to restart` and `Set pid fail` */
  lines(p: Pair): string[];
  /** runs of A's script that the fault lets happen (a script that cannot start cannot count itself) */
  runs: number;
}

const FAULTS: ScriptFault[] = [
  {
    name: 'deleted',
    inject: (p) => unlinkSync(p.a.script),
    lines: (p) => [`Restart script of (${p.a.pname}) could not run: cannot execute ${p.a.script}: ENOENT (no such file, or the interpreter on its #! line is missing)`],
    runs: 0,
  },
  {
    name: 'not executable (chmod -x)',
    inject: (p) => chmodSync(p.a.script, 0o644),
    lines: (p) => [`Restart script of (${p.a.pname}) could not run: cannot execute ${p.a.script}: EACCES (permission denied: is it executable, and its directories searchable?)`],
    runs: 0,
  },
  {
    name: 'exiting 1 without starting the program',
    inject: (p) => writeFileSync(p.a.script, `#!/bin/bash\necho run >> '${p.a.runs}'\necho "cannot start: /etc/app.conf missing" >&2\nexit 1\n`),
    lines: (p) => [`Restart script of (${p.a.pname}) exited with status 1`],
    runs: 2,
  },
  {
    name: 'hanging past its timeout (children in its process group)',
    options: ':script_timeout=1',
    // a child, and a subshell with its own child, all in the script's process group
    inject: (p) =>
      writeFileSync(
        p.a.script,
        `#!/bin/bash\necho run >> '${p.a.runs}'\necho "pgid $(ps -o pgid= $$)"\n` +
          'sleep 1000 & echo "member $!"\n( echo "member $BASHPID"; sleep 1000 & echo "member $!"; wait ) &\nwait\n',
      ),
    lines: (p) => [`Restart script of (${p.a.pname}) timed out; killed it and what it started`],
    runs: 2,
  },
];

describe('restart script broken after start-up', { concurrency: true }, () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  for (const fault of FAULTS) {
    it(`${fault.name}: logged on each of the 2 attempts, counted, RETRY_OVER:NONE; the other entry is healed meanwhile`, async () => {
      const sb = box();
      const p = await startPair(sb, fault.options ?? '');
      const before = countLines(p.a.runs);
      fault.inject(p);
      const from = p.pc.lines.length;
      const t0 = performance.now();
      kill(p.pidA, 'SIGKILL');
      await p.pc.waitLine(`Try to restart (${p.a.pname})`, 10_000, from);
      const heal = await healB(p, from);
      const over = await p.pc.waitLine(`(${p.a.pname}) RETRY_OVER:NONE`, 15_000, from);

      assert.deepEqual(entryLines(p.pc, p.a.pname, from), expectedFailures(p, fault.lines(p)));
      assert.equal(countLines(p.a.runs) - before, fault.runs, 'script runs');
      const [a, b] = sb.showPent(p.pfile);
      assert.deepEqual([a.proc_sts, a.retry_count, a.restart_count], ['RETRY_OVER', '2', '2']);
      assert.deepEqual([b.proc_sts, b.retry_count, b.restart_count], ['AVAIL', '1', '1']);
      assert.deepEqual(liveCopies(p.a), [], 'nothing of A runs');

      if (fault.name.startsWith('hanging')) {
        // the script and its 3 descendants, each attempt: none survives the timeout
        const out = scriptOutput(p.pc, p.a.pname, from);
        const groups = out.flatMap((l) => /^pgid\s+(\d+)/.exec(l)?.[1] ?? []).map(Number);
        const members = out.flatMap((l) => /^member (\d+)/.exec(l)?.[1] ?? []).map(Number);
        assert.equal(groups.length, 2);
        assert.equal(members.length, 2 * 3);
        await waitFor(() => members.every(isGone), 3000, 'every process of the script groups to be gone', 50);
        for (const g of groups) assert.deepEqual(liveInGroup(g), [], `nothing left in process group ${g}`);
      }
      if (fault.name.startsWith('exiting')) {
        assert.deepEqual(scriptOutput(p.pc, p.a.pname, from), ['cannot start: /etc/app.conf missing', 'cannot start: /etc/app.conf missing']);
      }
      figures.push(`script ${fault.name}: down→retry-over ${((over.at - t0) / 1000).toFixed(2)} s; B healed meanwhile in ${heal.toFixed(0)} ms`);

      // fixed, and reset: A runs again
      await repair(p);
      kill(p.pc.pid, 'SIGTERM');
      assert.equal(await p.pc.exited, 0);
    });
  }

  it('printing 5 MB on stdout and 5 MB on stderr: pcheck does not block, its memory stays flat, the log gets the head and the tail', async () => {
    const sb = box();
    const p = await startPair(sb);
    const log = join(sb.dir, 'pcheck.log');
    const rss0 = rssKb(p.pc.pid);
    const log0 = statSync(log).size;
    // 5 MB of 100-byte lines on stdout, 5 MB without a single newline on stderr, a last word, then the program
    writeFileSync(
      p.a.script,
      '#!/bin/bash\n' +
        `seq -f 'line %07g ${'x'.repeat(84)}' 1 50000\n` +
        `head -c 5000000 /dev/zero | tr '\\0' 'e' >&2\n` +
        'echo "started after a noisy start-up"\n' +
        startCopyLine(p.a.pname, p.a.reg),
    );
    const from = p.pc.lines.length;
    const t0 = performance.now();
    kill(p.pidA, 'SIGKILL');
    await p.pc.waitLine(`Try to restart (${p.a.pname})`, 10_000, from);
    // padmin is answered while the script floods pcheck
    const q0 = performance.now();
    assert.equal(sb.padmin(p.pfile, 'show pent').code, 0);
    const padminMs = performance.now() - q0;
    const heal = await healB(p, from);
    const up = await p.pc.waitLine(upLine(p.a.pname), 20_000, from);
    await p.pc.waitLine(`(${p.a.pname}) script: started after a noisy start-up`, 20_000, from);

    const out = scriptOutput(p.pc, p.a.pname, from);
    const note = out.findIndex((l) => /^\.\.\. \d+ lines \(\d+ bytes\) of output not logged; the last 20:$/.test(l));
    assert.ok(note > 0, 'a note says how much was left out');
    assert.ok(out.length <= 80 + 1 + 20, `${out.length} script lines logged`);
    assert.equal(out[0], `line 0000001 ${'x'.repeat(84)}`, 'the head, as it came');
    // the last word of each stream is logged at the end (stdout and stderr are read from two
    // files: a pcheck that did not run while the script wrote reads stdout's lines first)
    assert.ok(out.slice(note).includes('started after a noisy start-up'), 'the last word is logged');
    assert.ok(out.some((l) => l.startsWith('e'.repeat(100)) && l.endsWith('...[line truncated]')), 'the endless stderr line, cut');
    assert.deepEqual(entryLines(p.pc, p.a.pname, from), [`Process [${p.a.pname} , pid=${p.pidA}] Down`, `Try to restart (${p.a.pname})`, message(up.text)]);
    const [a] = sb.showPent(p.pfile);
    assert.deepEqual([a.proc_sts, a.retry_count, a.restart_count], ['AVAIL', '1', '1']);
    const logGrowth = statSync(log).size - log0;
    const rssGrowth = rssKb(p.pc.pid) - rss0;
    // every log line stays a line a human can read
    const longest = Math.max(...readFileSync(log, 'utf8').split('\n').map((l) => l.length));
    assert.ok(logGrowth < 64 * 1024, `log grew ${logGrowth} bytes`);
    assert.ok(longest < 4096 + 200, `longest log line ${longest}`);
    assert.ok(rssGrowth < 64 * 1024, `RSS grew ${rssGrowth} kB`);
    figures.push(
      `script printing 10 MB: up after ${((up.at - t0) / 1000).toFixed(2)} s; padmin answered in ${padminMs.toFixed(0)} ms; ` +
        `B healed in ${heal.toFixed(0)} ms; log +${logGrowth} B (${out.length} script lines); RSS ${rss0} → ${rss0 + rssGrowth} kB; longest line ${longest} B`,
    );
    kill(p.pc.pid, 'SIGTERM');
    assert.equal(await p.pc.exited, 0);
  });
});

// ---- 2. a crash-looping program -------------------------------------------------------------

/** A service whose program crashes (SIGSEGV) `life` seconds after each start; each script run is counted. */
function crashing(sb: Sandbox, name: string, life: number): Copies & { runs: string } {
  const runs = join(sb.dir, `${name}.runs`);
  const crash = sb.script(`${name}-crash.sh`, `sleep ${life}\nkill -SEGV $$`);
  return { ...copiesService(sb, name, { pre: `echo run >> '${runs}'`, command: `bash "${crash}"` }), runs };
}

/** Samples the number of live copies every 100 ms until stopped; returns the largest seen. */
function sampleCopies(c: Copies): { stop: () => number } {
  let max = 0;
  const t = setInterval(() => (max = Math.max(max, liveCopies(c).length)), 100);
  return {
    stop: () => {
      clearInterval(t);
      return max;
    },
  };
}

describe('a crash-looping program', { concurrency: true }, () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);
  const PARAM = { INITIAL_WAIT: 0.3, RESTART_WAIT: 1.5 };

  it('retry-over exit: exactly retry_count (3) restarts, one copy at a time, then RETRY_OVER:EXIT, FATAL, exit 1', async () => {
    const sb = box();
    const svc = crashing(sb, 'loop', 0.5);
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:60:3:exit`] });
    const copies = sampleCopies(svc);
    const t0 = performance.now();
    const pc = sb.pcheck(pfile);
    const code = await pc.exited;
    const secs = (performance.now() - t0) / 1000;
    const max = copies.stop();
    assert.equal(code, 1);
    assert.equal(countLines(svc.runs), 3, 'script runs');
    assert.equal(pc.count(`Try to restart (${svc.pname})`), 3);
    assert.deepEqual(pc.lines.slice(-2).map((l) => message(l.text)), [`(${svc.pname}) RETRY_OVER:EXIT`, `(${svc.pname}) FATAL`]);
    assert.ok(max <= 1, `at most one copy at a time (saw ${max})`);
    await sleep(1000);
    assert.equal(countLines(svc.runs), 3, 'nothing runs after the exit');
    figures.push(`crash loop (life 0.5 s, retry 3, exit): ${countLines(svc.runs)} script runs in ${secs.toFixed(1)} s, then exit 1; max copies ${max}`);
  });

  it('retry-over none: exactly 3 restarts, then none for 3 s while pcheck goes on healing the other entry', async () => {
    const sb = box();
    const svc = crashing(sb, 'loop', 0.5);
    const other = copiesService(sb, 'other');
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:60:3:none`, `${other.pname}:${other.script}:0:5:none`] });
    const otherPid = await startFirst(other);
    const copies = sampleCopies(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname}) RETRY_OVER:NONE`, 20_000);
    const runs = countLines(svc.runs);
    const from = pc.lines.length;
    kill(otherPid, 'SIGKILL');
    await pc.waitLine(upLine(other.pname), 10_000, from);
    await sleep(3000);
    const max = copies.stop();
    assert.equal(runs, 3);
    assert.equal(countLines(svc.runs), 3, 'no restart after the retry-over');
    assert.equal(pc.count('RETRY_OVER'), 1);
    assert.equal(pc.count('FATAL'), 0);
    assert.ok(max <= 1, `at most one copy at a time (saw ${max})`);
    const [e, o] = sb.showPent(pfile);
    assert.deepEqual([e.proc_sts, e.retry_count, e.restart_count], ['RETRY_OVER', '3', '3']);
    assert.deepEqual([o.proc_sts, o.restart_count], ['AVAIL', '1']);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });

  it('dying while its restart script still runs: the script decides when it ends, one script of the entry at a time, each attempt counted once', async () => {
    const sb = box();
    const events = join(sb.dir, 'checking.events');
    const crash = sb.script('checking-crash.sh', 'sleep 1.5\nkill -SEGV $$');
    // the script starts the program, then checks on it for 3 s: the program dies before that
    const svc = copiesService(sb, 'checking', {
      // (`trap '' PIPE`: it outlives pcheck's exit, and bash reports the crash of its child on stderr)
      pre: `trap '' PIPE\necho "start $(date +%s%3N)" >> '${events}'\ntrap 'sleep 3; echo "end $(date +%s%3N)" >> "${events}"' EXIT`,
      command: `bash "${crash}"`,
    });
    // the first start (after the initial wait), then one restart while that script still runs
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:60:2:exit`] });
    const pc = sb.pcheck(pfile);
    assert.equal(await pc.exited, 1);
    // each crash comes while its script still runs: it is logged Down, and the script's end
    // decides (nothing runs: the restart), so each attempt is one failure and the scripts never overlap
    await waitFor(() => countLines(events) === 4, 10_000, 'the last script to end', 100).catch((e: Error) => {
      throw new Error(`${e.message}: ${readFileSync(events, 'utf8')}\n${pc.lines.map((l) => l.text).join('\n')}`);
    });
    const ev = readFileSync(events, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .map(([k, t]) => [k === 'start' ? 1 : -1, Number(t)] as const)
      .sort((x, y) => x[1] - y[1] || x[0] - y[0]);
    let running = 0;
    let overlap = 0;
    for (const [d] of ev) overlap = Math.max(overlap, (running += d));
    assert.equal(ev.filter(([d]) => d === 1).length, 2, 'script runs');
    assert.equal(overlap, 1, 'restart scripts of the entry running at once');
    assert.equal(pc.count(`exited while its restart script still ran: what runs when the script has ended decides`), 2);
    assert.equal(pc.count(`Set pid fail (${svc.pname})`), 0, 'each death is the failure, decided at its script\'s end');
    assert.equal(pc.count(`Try to restart (${svc.pname})`), 2);
    figures.push(`program dying while its script still checks on it (retry 2): 2 script runs, at most ${overlap} at a time; each decided at its script's end`);
  });

  it('living longer than grace: retry_count goes back to 0 each time, restarts come at most once per life, never a retry-over', async () => {
    const sb = box();
    const life = 2.5;
    const svc = crashing(sb, 'slow', life);
    // grace 1 s < life 2.5 s: each restart earns its retry back before the next crash
    const pfile = sb.pfile({ param: PARAM, pents: [`${svc.pname}:${svc.script}:1:1:exit`] });
    const copies = sampleCopies(svc);
    const pc = sb.pcheck(pfile);
    const windowMs = 8000;
    await sleep(windowMs);
    const max = copies.stop();
    const runs = countLines(svc.runs);
    // 0.3 s initial wait, then one run per life (plus the seconds it takes to find it)
    assert.ok(runs >= 2 && runs <= Math.floor(windowMs / 1000 / life) + 1, `${runs} script runs in ${windowMs} ms`);
    assert.ok(pc.count('retry_count reset to 0') >= runs - 1, 'grace resets between the restarts');
    assert.equal(pc.count('RETRY_OVER'), 0);
    assert.ok(max <= 1, `at most one copy at a time (saw ${max})`);
    figures.push(`crash loop (life ${life} s > grace 1 s, retry 1): ${runs} script runs in ${windowMs / 1000} s, ${pc.count('retry_count reset to 0')} grace resets, no retry-over; max copies ${max}`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

// ---- 4. the watched process: pid reused, zombie -----------------------------------------

/** Starts `sleep infinity` with argv[0] PNAME as a direct child of this test (reaped at once when it dies). */
function startChild(sb: Sandbox, pname: string): number {
  // argv0: exec'd with argv[0] = pname before spawn() returns (no window with another argv)
  const c = spawn('/bin/sleep', ['infinity'], { argv0: pname, stdio: 'ignore' });
  c.on('error', () => undefined);
  sb.track(c.pid!);
  return c.pid!;
}

/** Makes the next process of this test get `pid` (writes ns_last_pid, then forks), as a reuse of it. */
async function startOnPid(sb: Sandbox, pname: string, pid: number): Promise<{ pid: number; tries: number }> {
  for (let tries = 1; tries <= 200; tries++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const got = startChild(sb, pname);
    if (got === pid) return { pid, tries };
    kill(got, 'SIGKILL'); // another process took it first: try again once this one is gone
    await waitFor(() => readStatOf(got) === null, 5000, `pid ${got} to be reaped`);
  }
  throw new Error(`could not start a process on pid ${pid} (another process kept taking it)`);
}

for (const mode of ['pidfd', 'poll'] as const) {
  describe(`the watched process (death watch: ${mode})`, { concurrency: true }, () => {
    const { box, cleanup } = sandboxes();
    after(cleanup);
    const env: Record<string, string> = mode === 'poll' ? { PROCSAFE_DEATH_WATCH: 'poll' } : {};

    it('its pid reused by an unrelated process with the same command line: the old one is Down, the new one is a new process', async () => {
      const sb = box();
      const runs = join(sb.dir, 'r.runs');
      // the restart script starts nothing: the process that appears is the unrelated one
      const svc = sb.service('r', { scriptBody: `echo run >> '${runs}'\n` });
      const pfile = sb.pfile({ param: { RESTART_WAIT: 10 }, pents: [`${svc.pname}:${svc.script}:0:1:none`] });
      const x = startChild(sb, svc.pname);
      const old = readStatOf(x)!;
      const pc = sb.pcheck(pfile, [], env);
      await pc.waitLine(`death watch: ${mode})`);
      await pc.waitLine(`(${svc.pname} ,pid=${x}) Up`);

      // pcheck cannot look while the pid dies and is taken again by a process with the same argv
      kill(pc.pid, 'SIGSTOP');
      kill(x, 'SIGKILL');
      await waitFor(() => readStatOf(x) === null, 5000, `pid ${x} to be free`);
      const { tries } = await startOnPid(sb, svc.pname, x);
      const impostor = readStatOf(x)!;
      assert.notEqual(impostor.startTime, old.startTime);
      assert.deepEqual(sb.pidsOf(svc), [x], 'the same pid and argv[0] again');
      const from = pc.lines.length;
      kill(pc.pid, 'SIGCONT');

      await pc.waitLine(`(${svc.pname} ,pid=${x}) Up`, 10_000, from);
      assert.deepEqual(entryLines(pc, svc.pname, from), [`Process [${svc.pname} , pid=${x}] Down`, `Try to restart (${svc.pname})`, `(${svc.pname} ,pid=${x}) Up`]);
      // the script was started before the Up (a seek scan found the process): on a busy host its
      // one line may come a little after
      await waitFor(() => countLines(runs) >= 1, 5000, 'the restart script to run');
      assert.equal(countLines(runs), 1, 'the death was counted and the script ran once');
      const [e] = sb.showPent(pfile);
      assert.deepEqual([e.pid, e.retry_count, e.restart_count], [String(x), '1', '1']);

      // pcheck now watches the new process: its death is seen
      const from2 = pc.lines.length;
      kill(x, 'SIGKILL');
      await pc.waitLine(`Process [${svc.pname} , pid=${x}] Down`, 10_000, from2);
      await pc.waitLine(`(${svc.pname}) RETRY_OVER:NONE`, 10_000, from2);
      figures.push(`pid reuse (${mode}): pid ${x} taken again after ${tries} tries; old death logged Down and counted; the new process Up as new`);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    });

    it('a watched process that becomes a zombie is Down at once, and the zombie is never taken for the program', async () => {
      const sb = box();
      // the program's parent never reaps it (it execs sleep): once killed, it stays a zombie
      const pname = join(sb.dir, 'z');
      const reg = join(sb.dir, 'z.pids');
      const start = `setsid bash -c '( echo $BASHPID >> "$1"; exec -a "$0" sleep infinity ) & exec -a "$0-parent" sleep infinity' '${pname}' '${reg}' </dev/null >/dev/null 2>&1 &`;
      const svc: Copies = { pname, reg, script: sb.script('start-z.sh', start) };
      const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:5:none`] });
      execFileSync('bash', ['-c', start], { stdio: 'ignore' });
      const pid = await waitFor(() => liveCopies(svc)[0], 10_000, 'the program', 50);
      const pc = sb.pcheck(pfile, [], env);
      await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
      const from = pc.lines.length;
      const t0 = performance.now();
      kill(pid, 'SIGKILL');
      const down = await pc.waitLine(`Process [${svc.pname} , pid=${pid}] Down`, 5000, from);
      const zombieMs = down.at - t0;
      assert.equal(readStatOf(pid)?.state, 'Z', 'still a zombie when pcheck logged Down');
      const up = await pc.waitLine(upLine(svc.pname), 10_000, from);
      assert.notEqual(pidOf(up), pid, 'the zombie is not the program');
      assert.equal(readStatOf(pid)?.state, 'Z');
      assert.deepEqual(liveCopies(svc), [pidOf(up)], 'one live copy beside the zombie');

      // an orphan: its parent gone, PID 1 reaps it (here after ~1 s); Down comes before that
      const orphan = pidOf(up);
      const parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${orphan}/status`, 'latin1'))![1]);
      kill(parent, 'SIGKILL');
      await waitFor(() => readStatOf(parent) === null || readStatOf(parent)!.state === 'Z', 3000, 'the parent to die');
      const from2 = pc.lines.length;
      const t1 = performance.now();
      kill(orphan, 'SIGKILL');
      const down2 = await pc.waitLine(`Process [${svc.pname} , pid=${orphan}] Down`, 5000, from2);
      const orphanMs = down2.at - t1;
      assert.ok(zombieMs < 1000 && orphanMs < 1000, `Down after ${zombieMs.toFixed(0)} / ${orphanMs.toFixed(0)} ms`);
      await pc.waitLine(upLine(svc.pname), 10_000, from2);
      assert.deepEqual(liveCopies(svc).length, 1);
      figures.push(`zombie (${mode}): Down ${zombieMs.toFixed(0)} ms after the kill (never reaped); orphan reaped by PID 1: Down after ${orphanMs.toFixed(0)} ms`);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    });
  });
}
