import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript, SCRIPT_PATH, type RunScriptOptions, type ScriptStream } from '../../src/exec/run-script';
import { ScriptOutputDir } from '../../src/exec/script-output-dir';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'scripts');
const fixture = (name: string): string => join(FIXTURES, name);

/** Background processes the fixtures leave behind, killed by pid after the tests. */
const leftovers: number[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'procsafe-run-script-'));
const outputDir = ScriptOutputDir.open(join(tmp, 'script-output', 'test'), (m) => assert.fail(m));
after(() => {
  outputDir.close();
  rmSync(tmp, { recursive: true, force: true });
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

type Line = [ScriptStream, string];
type Mode = 'pipes' | 'files';

let runs = 0;
/** The output of `mode`: pipes, or a pair of files of its own per run. */
const outputOf = (mode: Mode): Partial<RunScriptOptions> =>
  mode === 'files' ? { output: { dir: outputDir, name: `run-${++runs}`, onFallback: (why) => assert.fail(why) } } : {};

function runIn(mode: Mode, name: string, over: Partial<RunScriptOptions> = {}) {
  const lines: Line[] = [];
  const running = runScript({
    path: fixture(name),
    env: {},
    timeoutMs: 10_000,
    onLine: (stream, line) => lines.push([stream, line]),
    ...outputOf(mode),
    ...over,
  });
  return { ...running, lines };
}

/** 'alive', 'zombie' or 'gone', from /proc/PID/stat. */
function procState(pid: number): 'alive' | 'zombie' | 'gone' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'zombie' : 'alive';
  } catch {
    return 'gone';
  }
}

function pidFrom(lines: Line[], key: string): number {
  const l = lines.find(([, text]) => text.startsWith(`${key}=`));
  assert.ok(l, `no ${key}= line in ${JSON.stringify(lines)}`);
  const pid = Number(l[1].slice(key.length + 1));
  leftovers.push(pid);
  return pid;
}

for (const mode of ['pipes', 'files'] as const) describe(`runScript, output to ${mode}`, () => {
  const run = (name: string, over: Partial<RunScriptOptions> = {}) => runIn(mode, name, over);
  it('passes the given variables, a fixed PATH, and none of our unrelated environment', async () => {
    process.env.PROCSAFE_TEST_SECRET = 'must-not-leak';
    try {
      const r = run('print-env.sh', { env: { PS_PNAME: '/usr/bin/java', PS_PENT_ID: '1', PS_OLD_PID: '4242' } });
      const res = await r.done;
      assert.equal(res.code, 0);
      const env = new Map(r.lines.map(([, l]) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      assert.equal(env.get('PS_PNAME'), '/usr/bin/java');
      assert.equal(env.get('PS_PENT_ID'), '1');
      assert.equal(env.get('PS_OLD_PID'), '4242');
      assert.equal(env.get('PATH'), SCRIPT_PATH);
      assert.equal(env.has('PROCSAFE_TEST_SECRET'), false);
      assert.equal(env.has('HOME'), false);
    } finally {
      delete process.env.PROCSAFE_TEST_SECRET;
    }
  });

  it('passes LANG, LC_ALL and TZ through when we have them', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      const r = run('print-env.sh');
      await r.done;
      assert.ok(r.lines.some(([, l]) => l === 'TZ=Asia/Tokyo'));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('forwards stdout and stderr lines, CR and a last line without newline included', async () => {
    const r = run('output.sh');
    const res = await r.done;
    assert.equal(res.code, 0);
    assert.deepEqual(
      r.lines.filter(([s]) => s === 'stdout'),
      [
        ['stdout', 'first line'],
        ['stdout', 'crlf line'],
        ['stdout', 'no newline'],
      ],
    );
    assert.deepEqual(
      r.lines.filter(([s]) => s === 'stderr'),
      [['stderr', 'to stderr']],
    );
  });

  it('reports a non-zero exit code', async () => {
    const res = await run('output.sh', { env: { FIXTURE_EXIT: '7' } }).done;
    assert.deepEqual([res.code, res.signal, res.timedOut, res.spawnError], [7, null, false, null]);
  });

  it('completes promptly when the script leaves a background daemon holding its stdout, and leaves the daemon alive', async () => {
    const r = run('start-daemon.sh');
    const res = await r.done;
    assert.equal(res.code, 0);
    assert.ok(res.durationMs < 500, `took ${res.durationMs.toFixed(0)} ms`);
    const bg = pidFrom(r.lines, 'bg');
    assert.equal(procState(bg), 'alive');
    await new Promise((t) => setTimeout(t, 100));
    assert.equal(procState(bg), 'alive', 'the background daemon must survive the script');
  });

  it('does not kill a background daemon that writes to the inherited pipe after the script ended', async () => {
    const r = run('late-writer.sh');
    const res = await r.done;
    assert.ok(res.durationMs < 500, `took ${res.durationMs.toFixed(0)} ms`);
    const bg = pidFrom(r.lines, 'bg');
    await new Promise((t) => setTimeout(t, 600)); // it writes at 300 ms
    assert.equal(procState(bg), 'alive', 'a write to a closed pipe would have killed it with SIGPIPE');
    assert.equal(
      r.lines.some(([, l]) => l === 'late line'),
      false,
      'output after the script ended is not forwarded',
    );
  });

  it('kills the whole process group at the timeout, the child it started included', async () => {
    const r = run('hang.sh', { timeoutMs: 300 });
    const res = await r.done;
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, 'SIGKILL');
    assert.ok(res.durationMs >= 290 && res.durationMs < 2000, `took ${res.durationMs.toFixed(0)} ms`);
    const child = pidFrom(r.lines, 'child');
    // The child is re-parented and reaped by init (or left a zombie if init does not reap).
    const deadline = Date.now() + 2000;
    while (procState(child) === 'alive' && Date.now() < deadline) await new Promise((t) => setTimeout(t, 20));
    assert.notEqual(procState(child), 'alive');
    assert.notEqual(procState(r.pid as number), 'alive');
  });

  it('reports a missing script as a spawn error without throwing', async () => {
    const r = run('no-such-script.sh');
    assert.equal(r.pid, null);
    const res = await r.done;
    assert.equal(res.code, null);
    assert.match(res.spawnError ?? '', /^cannot execute .*no-such-script\.sh: ENOENT \(no such file/);
  });

  it('reports a script without execute permission as a spawn error', async () => {
    const res = await run('not-executable.sh').done;
    assert.match(res.spawnError ?? '', /not-executable\.sh: EACCES \(permission denied/);
  });

  it('refuses a relative path rather than searching PATH for it', async () => {
    const r = runScript({ path: 'output.sh', env: {}, timeoutMs: 1000, onLine: () => {}, ...outputOf(mode) });
    assert.equal(r.pid, null);
    assert.match((await r.done).spawnError ?? '', /not an absolute path/);
  });

  it('survives an onLine callback that throws', async () => {
    const r = runScript({
      path: fixture('output.sh'),
      env: {},
      timeoutMs: 5000,
      onLine: () => {
        throw new Error('sink broken');
      },
      ...outputOf(mode),
    });
    assert.equal((await r.done).code, 0);
  });

  it('truncates megabytes of output: long lines are cut and the total is capped', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const r = run('flood.sh', { timeoutMs: 30_000 });
    const res = await r.done;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    assert.equal(res.code, 0);
    const [first] = r.lines;
    assert.deepEqual(first, ['stdout', `${'x'.repeat(4096)} ...[line truncated]`]);
    const forwarded = r.lines.reduce((n, [, l]) => n + Buffer.byteLength(l) + 1, 0);
    assert.ok(forwarded < 1024 * 1024 + 8192, `forwarded ${forwarded} bytes`);
    const skipped = r.lines.filter(([, l]) => /^\.\.\. \d+ bytes of output skipped \(written faster than pcheck reads\)$/.test(l));
    if (mode === 'pipes' || r.lines.some(([, l]) => l === '... output truncated')) {
      // a pipe holds the script back: every byte is read, up to the cap (files: unless skipped)
      assert.deepEqual(r.lines.at(-1), ['stdout', '... output truncated']);
      assert.equal(r.lines.filter(([, l]) => l === '... output truncated').length, 1);
      assert.equal(
        r.lines.some(([s]) => s === 'stderr'),
        false,
        'nothing is forwarded after the cap, from either stream',
      );
    } else {
      // a file does not: what pcheck could not read as it came is skipped (and said), its end read
      assert.ok(skipped.length > 0, 'a note says what was skipped');
      // the last line of each stream (the two files are read each at its own pace)
      assert.deepEqual(r.lines.filter(([s]) => s === 'stdout').at(-1), ['stdout', 'flood line']);
      assert.deepEqual(r.lines.filter(([s]) => s === 'stderr'), [['stderr', 'done']], 'the last word of the script is read');
    }
    console.log(
      `# flood (${mode}): ~13 MB of output, ${r.lines.length} lines forwarded (${forwarded} bytes) in ${res.durationMs.toFixed(0)} ms; heap +${(heapGrowth / 1048576).toFixed(1)} MiB`,
    );
    assert.ok(heapGrowth < 64 * 1024 * 1024, `heap grew by ${heapGrowth} bytes`);
  });

  it('honours a smaller maxLineBytes', async () => {
    const r = run('output.sh', { maxLineBytes: 5 });
    await r.done;
    assert.deepEqual(r.lines.find(([s]) => s === 'stdout'), ['stdout', 'first ...[line truncated]']);
  });

  it('starts and finishes a trivial script quickly (measured)', async () => {
    const N = 20;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await run('output.sh').done;
    const per = (performance.now() - t0) / N;
    console.log(`# runScript (${mode}): ${per.toFixed(1)} ms per run of a trivial bash script`);
    assert.ok(per < 500);
  });
});
