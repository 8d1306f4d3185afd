// SPEC §10 "The program outlives pcheck" (issue 10, case 3): a restart script starts its program
// the way many start scripts do — `nohup /opt/app/bin/app &`, no redirection — so the program
// inherits the script's stdout and stderr. When those were pipes to pcheck, the program died of
// SIGPIPE at its first write after pcheck stopped or died, and blocked while pcheck was busy.
// Now they are files (RUN_DIR/script-output/...): the program writes on, and pcheck — this one,
// or the next after a SIGKILL — keeps them under the cap.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kill, sandboxes, sleep, waitFor, type Pcheck, type Sandbox } from '../helpers/harness';
import { FailsafeSandbox } from '../helpers/failsafe';
import { OUTPUT_CAP_BYTES } from '../../src/exec/script-output-dir';
import { isGone, pidOf } from '../reliability/fault-helpers';

interface App {
  /** the program: a bash script, watched as pname /bin/bash with include_strings=its path */
  program: string;
  script: string;
  pent: string;
  /** the last tick the program wrote to stdout without error */
  ticks: () => number;
  /** makes the program write `bytes` to its stdout at once; resolves with how long that took (ms) */
  burst: (bytes: number, timeoutMs?: number) => Promise<number>;
}

/** An app that writes a line to stdout every 50 ms and one to stderr, never redirected. */
function app(sb: Sandbox): App {
  const d = sb.dir;
  const program = sb.script(
    'app',
    [
      'n=0',
      'while :; do',
      '  n=$((n+1))',
      // the tick is renamed into place: a reader never sees the file empty
      `  echo "app tick $n" && echo "$n" > '${d}/app.ticks.new' && mv '${d}/app.ticks.new' '${d}/app.ticks'`,
      '  echo "app warning $n" >&2',
      `  if [ -e '${d}/app.burst' ]; then`,
      `    bytes=$(cat '${d}/app.burst'); rm -f '${d}/app.burst'`,
      `    t0=$(date +%s%3N); head -c "$bytes" /dev/zero | tr '\\0' b; echo`,
      `    echo $(( $(date +%s%3N) - t0 )) > '${d}/app.burst-ms'`,
      '  fi',
      '  sleep 0.05',
      'done',
    ].join('\n'),
  );
  // as an operator writes it: a word, then the program in the background, output not redirected
  const script = sb.script('start-app.sh', `echo "starting app"\nnohup ${program} &\necho "app started"`);
  const read = (f: string): string | null => (existsSync(f) ? readFileSync(f, 'utf8').trim() : null);
  return {
    program,
    script,
    pent: `/bin/bash:${script}:0:5:exit:include_strings=${program}`,
    ticks: () => Number(read(join(d, 'app.ticks')) ?? 0),
    async burst(bytes, timeoutMs = 10_000) {
      const done = join(d, 'app.burst-ms');
      writeFileSync(join(d, 'app.burst'), String(bytes));
      const ms = await waitFor(() => read(done), timeoutMs, `the app to write ${bytes} bytes`, 20);
      writeFileSync(done, '');
      return Number(ms);
    },
  };
}

/** Starts pcheck; its restart script starts the app (missing at start-up). Returns the app's pid. */
async function startWatched(sb: Sandbox, a: App): Promise<{ pc: Pcheck; pfile: string; pid: number }> {
  const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3, RESTART_WAIT: 10, MONITOR_INTERVAL: 2 }, pents: [a.pent] });
  const pc = sb.pcheck(pfile);
  const pid = pidOf(await pc.waitLine(/\(\/bin\/bash ,pid=\d+\) Up/, 15_000));
  sb.track(pid);
  await pc.waitLine('(/bin/bash) script: app started', 10_000);
  return { pc, pfile, pid };
}

/** The files the app writes to: its stdout and stderr, as the kernel says. */
function outputFiles(pid: number): { stdout: string; stderr: string } {
  return { stdout: readlinkSync(`/proc/${pid}/fd/1`), stderr: readlinkSync(`/proc/${pid}/fd/2`) };
}

async function assertWritesOn(a: App, pid: number, what: string): Promise<void> {
  const n0 = a.ticks();
  await sleep(2000);
  assert.ok(!isGone(pid), `the app is still running 2 s after ${what}`);
  // 2 s at one line per 50 ms: some 40 lines, far fewer on a loaded machine, never none
  assert.ok(a.ticks() >= n0 + 5, `its writes to stdout succeed after ${what}: tick ${n0} -> ${a.ticks()}`);
}

describe('the program a restart script starts outlives pcheck (SPEC §10)', { concurrency: true }, () => {
  const { box, cleanup } = sandboxes();
  after(cleanup);

  it('(a) pcheck stopped by SIGTERM: the app, writing to the stdout and stderr it inherited, runs on', async () => {
    const sb = box();
    const a = app(sb);
    const { pc, pid } = await startWatched(sb, a);
    // what the script printed is logged as before
    assert.ok(pc.lines.some((l) => l.text.endsWith('(/bin/bash) script: starting app')));
    const out = outputFiles(pid);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
    await assertWritesOn(a, pid, 'pcheck stopped');
    // the app writes to files of pcheck's run directory, private to root
    const dir = join(sb.runDir, 'script-output');
    assert.ok(out.stdout.startsWith(`${dir}/`) && out.stdout.endsWith('.out'), `the app's stdout: ${out.stdout}`);
    assert.ok(out.stderr.startsWith(`${dir}/`) && out.stderr.endsWith('.err'), `the app's stderr: ${out.stderr}`);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(out.stdout).mode & 0o777, 0o600);
    assert.match(readFileSync(out.stdout, 'utf8'), /app tick \d+\n$/, 'its lines are in the file');
  });

  it('(b) pcheck killed with SIGKILL: the app runs on and its writes succeed', async () => {
    const sb = box();
    const a = app(sb);
    const { pc, pid } = await startWatched(sb, a);
    kill(pc.pid, 'SIGKILL');
    await pc.exited;
    await assertWritesOn(a, pid, 'pcheck was killed');
  });

  it('(c) 10 MB written after the script ended, while pcheck is stopped (SIGSTOP): no write blocks, and the file is back under the cap once pcheck runs', async () => {
    const sb = box();
    const a = app(sb);
    const { pc, pid } = await startWatched(sb, a);
    const file = outputFiles(pid).stdout;
    // the script's own end (its output read to the end and logged) comes a few ms after its
    // "app started" line; on a busy host later: only what comes after it must stay unlogged
    await sleep(1000);
    // pcheck busy or hung: nobody reads. A pipe would be full after 64 KiB and block the app.
    kill(pc.pid, 'SIGSTOP');
    let ms: number;
    try {
      ms = await a.burst(10_000_000);
    } finally {
      kill(pc.pid, 'SIGCONT');
    }
    assert.ok(ms < 5000, `10 MB written in ${ms} ms`);
    assert.ok(statSync(file).size >= 10_000_000, 'pcheck was stopped: nothing bounded it meanwhile');
    await waitFor(() => statSync(file).size <= OUTPUT_CAP_BYTES, 5000, `${file} under ${OUTPUT_CAP_BYTES} bytes`, 50);
    // and again while pcheck runs: it is emptied within seconds, the app never waits
    assert.ok((await a.burst(10_000_000)) < 5000);
    await waitFor(() => statSync(file).size <= OUTPUT_CAP_BYTES, 5000, `${file} under the cap again`, 50);
    assert.ok(!isGone(pid), 'the app runs on');
    assert.equal(pc.count('bbbbbbbb'), 0, 'what the app writes after its script ended is not logged');
  });

  it('(d) a new pcheck after a SIGKILL adopts the app and keeps its old output file bounded', async () => {
    const sb = box();
    const a = app(sb);
    const first = await startWatched(sb, a);
    const file = outputFiles(first.pid).stdout;
    kill(first.pc.pid, 'SIGKILL');
    await first.pc.exited;
    // nobody bounds the file now
    await a.burst(3_000_000);
    assert.ok(statSync(file).size >= 3_000_000);
    const pc = sb.pcheck(first.pfile);
    await pc.waitLine(`(/bin/bash ,pid=${first.pid}) Up`, 15_000);
    await waitFor(() => statSync(file).size <= OUTPUT_CAP_BYTES, 5000, `${file} under the cap after the new pcheck started`, 50);
    await a.burst(3_000_000);
    await waitFor(() => statSync(file).size <= OUTPUT_CAP_BYTES, 5000, `${file} under the cap after the next burst`, 50);
    assert.deepEqual(readdirSync(join(sb.runDir, 'script-output')).length, 1, 'one directory: this pfile');
    assert.equal(sb.showPent(first.pfile)[0].pid, String(first.pid), 'the same app, not restarted');
    await assertWritesOn(a, first.pid, 'the second pcheck took over');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});

describe('the program a FailSafe group start script starts outlives pcheck (SPEC §10)', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('pcheck --config killed with SIGKILL: the app started by `nohup app &` in the group start script runs on', async () => {
    const a = app(sb);
    sb.ini(`[group:app]\nstart = "${a.script}"\n`);
    const pc = sb.failsafe(['--rehearse']);
    await pc.waitLine('Group app start: app started', 15_000);
    await sb.until('group app Online', (st) => st.groups[0]?.state === 'Online');
    const pid = await waitFor(() => appPid(a), 5000, 'the app to run');
    sb.track(pid);
    const out = outputFiles(pid);
    kill(pc.pid, 'SIGKILL');
    await pc.exited;
    await assertWritesOn(a, pid, 'pcheck --config was killed');
    assert.ok(out.stdout.startsWith(join(sb.runDir, 'script-output', 'failsafe') + '/'), `the app's stdout: ${out.stdout}`);
  });
});

/** The app's pid: the process running its program, from /proc. */
function appPid(a: App): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'latin1').split('\0');
      if (argv[0] === '/bin/bash' && argv[1] === a.program && !isGone(Number(d))) return Number(d);
    } catch {
      // gone
    }
  }
  return null;
}
