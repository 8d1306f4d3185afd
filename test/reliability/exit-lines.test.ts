// Every way pcheck exits: its last line reaches all three sinks — a real rsyslogd (through the
// SYSLOG_SOCKET PARAM), stdout and LOG_FILE — before the process is gone, with the exit code
// of docs/exit-codes.md. Also when stdout is a pipe that is read late, is full, or has no
// reader any more (EPIPE). Each case prints `# exitlines: PATH | CODE | MS` (the time from the
// signal or fault to the exit) for docs/RELIABILITY.md.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, constants, existsSync, openSync, readFileSync, readSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Pcheck, Sandbox, kill, sleep, waitFor, type Service } from '../helpers/harness';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog';

const boxes: Sandbox[] = [];
let rs: Rsyslog;
let logBox: Sandbox;

before(async () => {
  logBox = new Sandbox();
  rs = await startRsyslog(logBox.dir);
});
after(async () => {
  await rs.stop();
  logBox.cleanup();
  for (const b of boxes) b.cleanup();
});

function box(): Sandbox {
  const b = new Sandbox();
  boxes.push(b);
  return b;
}

function figure(path: string, code: number | string | null, ms: number): void {
  console.log(`# exitlines: ${path} | ${String(code)} | ${ms.toFixed(0)}`);
}

/** A pfile logging to the sandbox's pcheck.log and to the test's rsyslogd. */
function pfileOf(sb: Sandbox, pents: string[], param: Record<string, string | number> = {}): string {
  return sb.pfile({ param: { SYSLOG: 'on', SYSLOG_SOCKET: rs.sock, INITIAL_WAIT: 1, ...param }, pents });
}

const entry = (s: Service, retries = 3, action = 'exit') => `${s.pname}:${s.script}:0:${retries}:${action}`;

/** Messages of pid `pid` in text lines `TIME pcheck[PID]: MSG` (stdout, LOG_FILE); lines of a
 *  multi-line message after its first (a stack) have no prefix and are left out. */
function messages(lines: string[], pid: number): string[] {
  const tag = `pcheck[${pid}]: `;
  return lines.filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} /.test(l) && l.includes(tag)).map((l) => l.slice(l.indexOf(tag) + tag.length));
}

function logFile(sb: Sandbox, pid: number): string[] {
  const f = join(sb.dir, 'pcheck.log');
  return existsSync(f) ? messages(readFileSync(f, 'utf8').split('\n'), pid) : [];
}

/** rsyslog's `facility.severity pcheck[PID]: MSG` records of pid, as MSG. */
function syslog(pid: number): string[] {
  const tag = `pcheck[${pid}]: `;
  const text = existsSync(rs.out) ? readFileSync(rs.out, 'utf8') : '';
  return text
    .split('\n')
    .filter((l) => l.includes(tag))
    .map((l) => l.slice(l.indexOf(tag) + tag.length));
}

/** Waits until rsyslogd has written `last` for pid (it writes asynchronously), then returns the records. */
async function syslogUntil(pid: number, last: string | RegExp): Promise<string[]> {
  const ok = (m: string | undefined) => m !== undefined && (typeof last === 'string' ? m === last : last.test(m));
  await waitFor(() => ok(syslog(pid).at(-1)), 5000, `syslog to end with ${String(last)}`).catch(() => undefined);
  return syslog(pid);
}

/** The last messages of each sink equal `tail`, in order. */
/** `skip`: lines left out before comparing (what pcheck says of the scripts it stops). */
async function assertTail(pid: number, sinks: { stdout?: string[]; log?: string[]; syslog?: boolean }, tail: string[], skip?: RegExp): Promise<void> {
  const n = tail.length;
  const kept = (lines: string[]) => (skip ? lines.filter((l) => !skip.test(l)) : lines);
  if (sinks.stdout) assert.deepEqual(kept(messages(sinks.stdout, pid)).slice(-n), tail, `stdout:\n${sinks.stdout.join('\n')}`);
  if (sinks.log) assert.deepEqual(kept(sinks.log).slice(-n), tail, `LOG_FILE:\n${sinks.log.join('\n')}`);
  if (sinks.syslog) {
    const sl = await syslogUntil(pid, tail[n - 1]);
    assert.deepEqual(kept(sl).slice(-n), tail, `syslog:\n${sl.join('\n')}`);
  }
}

/** The exit (code, signal, when), resolved once its pipes are read to the end too. */
function timeExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  let at = 0;
  child.once('exit', () => (at = performance.now()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, at })));
}

/** Runs pcheck; `nofile` lowers RLIMIT_NOFILE (through sh's ulimit, then exec: the pid stays). */
function spawnPcheck(sb: Sandbox, pfile: string, opts: { env?: Record<string, string>; stdout?: number | 'pipe'; nofile?: number } = {}): ChildProcess {
  const argv = [PCHECK, '-f', pfile];
  const [cmd, args] =
    opts.nofile === undefined ? [process.execPath, argv] : ['/bin/sh', ['-c', `ulimit -n ${opts.nofile} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child = spawn(cmd, args, { env: sb.env(opts.env), stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'] });
  sb.track(child.pid!);
  return child;
}

for (const mode of ['native', 'logger'] as const) {
  const env: Record<string, string> = mode === 'logger' ? { PROCSAFE_NATIVE: 'off' } : {};
  describe(`pcheck's last line on a signal or retry-over (syslog through ${mode === 'native' ? 'the addon' : 'logger(1)'})`, () => {
    it('retry-over exit: RETRY_OVER:EXIT then FATAL last in every sink, exit 1', async () => {
      const sb = box();
      const svc = sb.service();
      const pfile = pfileOf(sb, [entry(svc, 0)]);
      const pid = await sb.startService(svc);
      const pc = new Pcheck(spawnPcheck(sb, pfile, { env }));
      const exited = timeExit(pc.child);
      await pc.waitLine(') Up');
      const t0 = performance.now();
      kill(pid, 'SIGKILL');
      const r = await exited;
      figure(`retry-over exit (${mode})`, r.code, r.at - t0);
      assert.equal(r.code, 1, pc.stderr);
      const tail = [`(${svc.pname}) RETRY_OVER:EXIT`, `(${svc.pname}) FATAL`];
      await assertTail(pc.pid, { stdout: pc.lines.map((l) => l.text), log: logFile(sb, pc.pid), syslog: true }, tail);
    });

    // logger(1) mode: the same exit path, only its flush differs; SIGINT once is enough
    for (const [sig, num] of mode === 'native' ? ([['SIGTERM', 15], ['SIGINT', 2]] as const) : ([['SIGTERM', 15]] as const)) {
      it(`${sig}: "${sig} Catch (${num})!!" then "Stop pcheck!!" in every sink, exit 0, the process left running`, async () => {
        const sb = box();
        const svc = sb.service();
        const pfile = pfileOf(sb, [entry(svc)]);
        const pid = await sb.startService(svc);
        const pc = new Pcheck(spawnPcheck(sb, pfile, { env }));
        const exited = timeExit(pc.child);
        await pc.waitLine(') Up');
        const t0 = performance.now();
        kill(pc.pid, sig);
        const r = await exited;
        figure(`${sig} (${mode})`, r.code, r.at - t0);
        assert.equal(r.code, 0, pc.stderr);
        await assertTail(pc.pid, { stdout: pc.lines.map((l) => l.text), log: logFile(sb, pc.pid), syslog: true }, [`${sig} Catch (${num})!!`, 'Stop pcheck!!']);
        assert.deepEqual(sb.pidsOf(svc), [pid], 'the watched process is still running');
      });
    }

    if (mode === 'native') {
      it('SIGTERM, SIGTERM and SIGINT at once: one Catch line, then Stop pcheck!! last in every sink, exit 0', async () => {
        // pending signals are delivered lowest number first and a repeated one may merge: which
        // Catch line comes is the kernel's choice, but only one, and nothing after Stop pcheck!!
        const sb = box();
        const svc = sb.service();
        const pfile = pfileOf(sb, [entry(svc)]);
        await sb.startService(svc);
        const pc = new Pcheck(spawnPcheck(sb, pfile, { env }));
        const exited = timeExit(pc.child);
        await pc.waitLine(') Up');
        const t0 = performance.now();
        for (const s of ['SIGTERM', 'SIGTERM', 'SIGINT'] as const) kill(pc.pid, s);
        const r = await exited;
        figure('SIGTERM + SIGTERM + SIGINT at once', r.code, r.at - t0);
        assert.equal(r.code, 0, pc.stderr);
        for (const [name, ms] of [
          ['stdout', messages(pc.lines.map((l) => l.text), pc.pid)],
          ['LOG_FILE', logFile(sb, pc.pid)],
          ['syslog', await syslogUntil(pc.pid, 'Stop pcheck!!')],
        ] as const) {
          const catches = ms.filter((m) => / Catch \(\d+\)!!$/.test(m));
          assert.equal(catches.length, 1, `${name}:\n${ms.join('\n')}`);
          assert.deepEqual(ms.slice(ms.indexOf(catches[0])), [catches[0], 'Stop pcheck!!'], `${name}:\n${ms.join('\n')}`);
        }
      });
    }
  });
}

describe('reload (SIGHUP) of a bad pfile, a good reload, then SIGTERM', () => {
  it('refuses the bad pfile in every sink and keeps running; reloads the good one; SIGTERM ends with Stop pcheck!! everywhere', async () => {
    const sb = box();
    const a = sb.service('a');
    const b = sb.service('b');
    const pfile = pfileOf(sb, [entry(a)]);
    await sb.startService(a);
    await sb.startService(b);
    const pc = new Pcheck(spawnPcheck(sb, pfile));
    const exited = timeExit(pc.child);
    await pc.waitLine(') Up');
    const good = readFileSync(pfile, 'utf8');
    appendFileSync(pfile, `${b.pname}:${b.script}:0:3:exti\n`);
    const badLine = good.trimEnd().split('\n').length + 1;
    kill(pc.pid, 'SIGHUP');
    const refused = await pc.waitLine('Reload refused (SIGHUP)');
    assert.match(refused.text, new RegExp(`${pfile.replace(/[.]/g, '\\.')}:${badLine}: retry_over_action "exti".*; the running configuration stays$`));
    const msg = refused.text.slice(refused.text.indexOf('Reload refused'));
    // the sinks are written one after the other: stdout may be read before LOG_FILE is written
    await waitFor(() => logFile(sb, pc.pid).at(-1) === msg, 5000, 'the refusal in LOG_FILE');
    assert.equal((await syslogUntil(pc.pid, msg)).at(-1), msg);
    assert.equal(pc.child.exitCode, null, 'pcheck keeps running');
    assert.equal(sb.showPent(pfile).length, 1, 'the old configuration stays');

    writeFileSync(pfile, good + `${b.pname}:${b.script}:0:3:exit\n`);
    kill(pc.pid, 'SIGHUP');
    await pc.waitLine('Reloaded pfile=');
    await pc.waitLine(`(${b.pname} ,pid=`);
    const t0 = performance.now();
    kill(pc.pid, 'SIGTERM');
    const r = await exited;
    figure('SIGHUP reload (refused, then done), then SIGTERM', r.code, r.at - t0);
    assert.equal(r.code, 0, pc.stderr);
    await assertTail(pc.pid, { stdout: pc.lines.map((l) => l.text), log: logFile(sb, pc.pid), syslog: true }, ['SIGTERM Catch (15)!!', 'Stop pcheck!!']);
  });
});

describe('configuration and start-up errors: exit 2, the message naming file and line on stderr, LOG_FILE and syslog', () => {
  /** Runs pcheck to its end; returns the exit, stdout lines and stderr. */
  async function runToEnd(sb: Sandbox, pfile: string, env: Record<string, string> = {}) {
    const pc = new Pcheck(spawnPcheck(sb, pfile, { env }));
    const t0 = performance.now();
    const r = await timeExit(pc.child);
    await new Promise((res) => setImmediate(res)); // the last stderr chunk
    return { ...r, ms: r.at - t0, pid: pc.pid, stdout: pc.lines.map((l) => l.text), stderr: pc.stderr };
  }

  it('a bad PENT line: stderr, LOG_FILE and syslog (the SYSLOG_SOCKET of the PARAM section) have FILE:LINE: problem; stdout stays empty', async () => {
    const sb = box();
    const svc = sb.service();
    const pfile = pfileOf(sb, [entry(svc, 3, 'exti')]);
    const line = readFileSync(pfile, 'utf8').trimEnd().split('\n').length;
    const r = await runToEnd(sb, pfile);
    figure('bad pfile at start (PENT line)', r.code, r.ms);
    assert.equal(r.code, 2);
    const want = `${pfile}:${line}: retry_over_action "exti" is unknown; did you mean exit?`;
    assert.equal(r.stderr, `pcheck: ${want}\n`);
    assert.deepEqual(logFile(sb, r.pid), [want]);
    assert.deepEqual(await syslogUntil(r.pid, want), [want]);
    assert.deepEqual(r.stdout, [], 'stdout: nothing (stderr has it)');
  });

  it('a bad PARAM line: the well-formed LOG_FILE and SYSLOG_SOCKET keys are still used', async () => {
    const sb = box();
    const svc = sb.service();
    const pfile = pfileOf(sb, [entry(svc)], { MONITOR_INTERVAL: 'ten' });
    const r = await runToEnd(sb, pfile);
    figure('bad pfile at start (PARAM line)', r.code, r.ms);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^pcheck: ${pfile.replace(/[.]/g, '\\.')}:3: MONITOR_INTERVAL "ten"`));
    const want = r.stderr.slice('pcheck: '.length).trimEnd();
    assert.deepEqual(logFile(sb, r.pid), [want]);
    assert.deepEqual(await syslogUntil(r.pid, want), [want]);
  });

  it('a LOG_FILE that cannot be opened: stderr and syslog name the key and the file', async () => {
    const sb = box();
    const svc = sb.service();
    const bad = join(sb.dir, 'no-such-dir', 'p.log');
    const pfile = pfileOf(sb, [entry(svc)], { LOG_FILE: bad });
    const r = await runToEnd(sb, pfile);
    figure('LOG_FILE cannot be opened', r.code, r.ms);
    assert.equal(r.code, 2);
    const want = `${pfile}: LOG_FILE ${bad} cannot be opened (ENOENT); create its directory or fix LOG_FILE`;
    assert.equal(r.stderr, `pcheck: ${want}\n`);
    assert.deepEqual(await syslogUntil(r.pid, want), [want]);
  });

  it('SYSLOG_FACILITY kern (user space cannot log as the kernel): refused by the parser at its line, exit 2', async () => {
    const sb = box();
    const svc = sb.service();
    const pfile = pfileOf(sb, [entry(svc)], { SYSLOG_FACILITY: 'kern' });
    const r = await runToEnd(sb, pfile);
    figure('SYSLOG_FACILITY kern', r.code, r.ms);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^pcheck: .*\.pfile:\d+: SYSLOG_FACILITY "kern" is (unknown|not one of) /);
  });

  it('a missing pfile: stderr only (no PARAM, so no LOG_FILE; syslog would be /dev/log, absent here)', async () => {
    const sb = box();
    const r = await runToEnd(sb, join(sb.dir, 'nope.pfile'));
    figure('missing pfile', r.code, r.ms);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^pcheck: .*nope\.pfile: cannot read: no such file/);
    assert.deepEqual(syslog(r.pid), []);
  });

  it('IPCKEY already served by a running pcheck: the message reaches stdout, LOG_FILE and syslog; the first pcheck runs on', async () => {
    const sb = box();
    const svc = sb.service();
    const pfile = pfileOf(sb, [entry(svc)]);
    await sb.startService(svc);
    const first = new Pcheck(spawnPcheck(sb, pfile));
    await first.waitLine(') Up');
    const r = await runToEnd(sb, pfile);
    figure('IPCKEY already served', r.code, r.ms);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^pcheck: another pcheck already serves IPCKEY 0x[0-9a-f]{8} \(socket .*\); give each pfile its own IPCKEY\n$/);
    const want = r.stderr.slice('pcheck: '.length).trimEnd();
    await assertTail(r.pid, { stdout: r.stdout, log: logFile(sb, r.pid), syslog: true }, [want]);
    assert.equal(first.child.exitCode, null);
    kill(first.pid, 'SIGTERM');
    assert.equal(await first.exited, 0);
  });
});

describe('an internal error inside pcheck: out of file descriptors while watching (EMFILE)', () => {
  // A real fault, no test hook: 150 entries watch 150 processes, one descriptor each, under
  // RLIMIT_NOFILE 64; the watch throws EMFILE. If the watch path ever handles EMFILE, these
  // tests need another real trigger.
  const setup = () => {
    const sb = box();
    const pnames = Array.from({ length: 150 }, (_, i) => join(sb.dir, `svc${i}`));
    const start = (pname: string) => `setsid bash -c 'exec -a "$0" sleep infinity' "${pname}" </dev/null >/dev/null 2>&1 &`;
    const script = sb.script('start-one.sh', start('$PS_PNAME'));
    const all = sb.script('start-all.sh', pnames.map(start).join('\n'));
    /** the pids of the 150 processes, once they all run */
    const running = () => {
      const set = new Set(pnames);
      return readdirSync('/proc').filter((d) => /^\d+$/.test(d) && set.has(argv0(d))).map(Number);
    };
    const startAll = async () => {
      execFileSync(all, { stdio: 'ignore' });
      return waitFor(() => running().length === pnames.length && running(), 10_000, 'the 150 processes');
    };
    return { sb, running, startAll, pfile: pfileOf(sb, pnames.map((p) => `${p}:${script}:0:3:exit`), { INITIAL_WAIT: 60 }) };
  };

  /** FATAL: internal error (with the stack), then Stop pcheck!! last, in every sink. */
  async function assertFatal(sb: Sandbox, pc: Pcheck): Promise<void> {
    const fatal = /^FATAL: internal error: Error: EMFILE: too many open files/;
    for (const [name, ms] of [
      ['stdout', messages(pc.lines.map((l) => l.text), pc.pid)],
      ['LOG_FILE', logFile(sb, pc.pid)],
      ['syslog', await syslogUntil(pc.pid, 'Stop pcheck!!')],
    ] as const) {
      assert.equal(ms.at(-1), 'Stop pcheck!!', `${name}:\n${ms.slice(-5).join('\n')}`);
      assert.match(ms.findLast((m) => m.startsWith('FATAL')) ?? '', fatal, name);
    }
  }

  it('at start-up (the first scan finds the process): FATAL: internal error, then Stop pcheck!! in every sink, exit 1', async () => {
    const { sb, running, startAll, pfile } = setup();
    const pids = await startAll();
    const pc = new Pcheck(spawnPcheck(sb, pfile, { nofile: 64 }));
    const t0 = performance.now();
    const r = await timeExit(pc.child);
    figure('internal error during start-up (EMFILE in the first scan)', r.code, r.at - t0);
    assert.equal(r.code, 1, pc.stderr);
    assert.match(pc.stderr, /^pcheck: internal error: Error: EMFILE/);
    await assertFatal(sb, pc);
    assert.deepEqual(running().sort(), pids.sort(), 'the watched processes are still running');
  });

  it('while running (uncaught exception in a timer): FATAL: internal error, then Stop pcheck!! in every sink, exit 1, the process left running', async () => {
    const { sb, running, startAll, pfile } = setup();
    const pc = new Pcheck(spawnPcheck(sb, pfile, { nofile: 64 }));
    const exited = timeExit(pc.child);
    // padmin is answered once run() is done, so its first scan is over: the process is then
    // found by a seek scan from a timer, outside any promise
    await waitFor(() => sb.padmin(pfile, 'info').code === 0, 10_000, 'pcheck to answer padmin');
    const t0 = performance.now();
    const pids = await startAll();
    const r = await exited;
    figure('uncaught exception while running (EMFILE in a watch)', r.code, r.at - t0);
    assert.equal(r.code, 1, pc.stderr);
    assert.equal(pc.stderr, '', 'the handler logs to the sinks, not to stderr');
    await assertFatal(sb, pc);
    assert.deepEqual(running().sort(), pids.sort(), 'the watched processes are still running');
  });
});

function argv0(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
  } catch {
    return ''; // gone
  }
}

/** A named pipe: our reader end (non-blocking) and a blocking writer end for pcheck's stdout. */
function fifo(sb: Sandbox): { reader: number; writer: number; drain: () => string } {
  const path = join(sb.dir, `stdout-${boxes.length}.fifo`);
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  const buf = Buffer.alloc(65536);
  let text = '';
  return {
    reader,
    writer,
    /** reads what is there now */
    drain() {
      for (;;) {
        let n: number;
        try {
          n = readSync(reader, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return text;
          throw e;
        }
        if (n === 0) return text;
        text += buf.toString('utf8', 0, n);
      }
    },
  };
}

describe('stdout a pipe that is read late, full, or closed (EPIPE)', () => {
  it('read only after pcheck has exited: the pipe still holds the whole output, Stop pcheck!! last', async () => {
    const sb = box();
    const svc = sb.service();
    const pfile = pfileOf(sb, [entry(svc)]);
    await sb.startService(svc);
    const p = fifo(sb);
    const child = spawnPcheck(sb, pfile, { stdout: p.writer });
    closeSync(p.writer);
    const exited = timeExit(child);
    await waitFor(() => logFile(sb, child.pid!).some((m) => m.endsWith(') Up')), 10_000, 'Up in LOG_FILE');
    const t0 = performance.now();
    kill(child.pid!, 'SIGTERM');
    const r = await exited;
    figure('SIGTERM, stdout read after the exit', r.code, r.at - t0);
    assert.equal(r.code, 0);
    const out = p.drain().split('\n');
    closeSync(p.reader);
    await assertTail(child.pid!, { stdout: out, log: logFile(sb, child.pid!), syslog: true }, ['SIGTERM Catch (15)!!', 'Stop pcheck!!']);
  });

  it('full when SIGTERM comes (200 KB of lines queued), then SIGINT, SIGTERM, SIGHUP: at its exit pcheck waits for the reader (bounded), delivers everything, ignores the later signals, exits 0', async () => {
    // with logger(1) for syslog, the final flush waits for that child: the later signals are
    // handled after Stop pcheck!! (with the addon pcheck is gone before it reads them)
    const env = { PROCSAFE_NATIVE: 'off' };
    const sb = box();
    // 60 entries with 1.5 KB pnames that never appear: when INITIAL_WAIT ends, each logs
    // `process not found` and `Try to restart` at once, ~180 KB for a 64 KiB pipe
    const script = sb.script('nothing.sh', 'exit 0');
    const pents = Array.from({ length: 60 }, (_, i) => `${join(sb.dir, 'p'.repeat(1500))}${i}:${script}:0:3:exit`);
    const pfile = pfileOf(sb, pents, { INITIAL_WAIT: 0.5 });
    const p = fifo(sb);
    const child = spawnPcheck(sb, pfile, { stdout: p.writer, env });
    closeSync(p.writer);
    const exited = timeExit(child);
    // the burst is logged (LOG_FILE has it); stdout's pipe is full, the rest waits in pcheck's queue
    await waitFor(() => logFile(sb, child.pid!).filter((m) => m.startsWith('Try to restart')).length === 60, 10_000, 'the burst in LOG_FILE');
    const t0 = performance.now();
    kill(child.pid!, 'SIGTERM');
    // pcheck is not blocked: it stops at once and waits for the reader to take its last lines;
    // the later signals come while it is stopping
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      await sleep(50);
      kill(child.pid!, sig);
    }
    await sleep(850);
    assert.equal(child.exitCode, null, 'pcheck must not exit before its stdout lines are out');
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      p.drain();
      await sleep(5);
    }
    const r = await exited;
    figure('SIGTERM (then SIGINT, SIGTERM, SIGHUP), stdout full, reader back after 1 s (logger)', r.code, r.at - t0);
    assert.equal(r.code, 0);
    const out = p.drain().split('\n');
    closeSync(p.reader);
    // every line pcheck logged reached stdout too, though far more than the pipe holds
    const text = out.join('\n');
    assert.ok(Buffer.byteLength(text) > 2 * 65536, `${Buffer.byteLength(text)} bytes on stdout`);
    assert.deepEqual(messages(out, child.pid!), logFile(sb, child.pid!));
    // nothing after the first SIGTERM but Stop pcheck!!: no second Catch, no reload (only what
    // pcheck says of the restarts it drops and the scripts it stops, so that nothing starts after it)
    const scripts = /^Restart scripts not started, pcheck stops|\) restart script \(pid=\d+\) stopped, pcheck stops/;
    await assertTail(child.pid!, { stdout: out, log: logFile(sb, child.pid!), syslog: true }, ['SIGTERM Catch (15)!!', 'Stop pcheck!!'], scripts);
    assert.equal(messages(out, child.pid!).filter((m) => m.includes(' Catch (')).length, 1);
  });

  for (const how of ['SIGTERM', 'retry-over exit'] as const) {
    it(`no reader any more (EPIPE), then ${how}: the right exit code, LOG_FILE and syslog still get the last line`, async () => {
      const sb = box();
      const svc = sb.service();
      const pfile = pfileOf(sb, [entry(svc, how === 'SIGTERM' ? 3 : 0)]);
      const pid = await sb.startService(svc);
      const p = fifo(sb);
      const child = spawnPcheck(sb, pfile, { stdout: p.writer });
      closeSync(p.writer);
      const exited = timeExit(child);
      await waitFor(() => logFile(sb, child.pid!).some((m) => m.endsWith(') Up')), 10_000, 'Up in LOG_FILE');
      closeSync(p.reader); // every later write to stdout fails with EPIPE
      const t0 = performance.now();
      kill(how === 'SIGTERM' ? child.pid! : pid, how === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL');
      const r = await exited;
      figure(`${how}, stdout EPIPE`, r.code ?? r.signal, r.at - t0);
      assert.equal(r.signal, null, 'not killed by SIGPIPE');
      assert.equal(r.code, how === 'SIGTERM' ? 0 : 1);
      const tail = how === 'SIGTERM' ? ['SIGTERM Catch (15)!!', 'Stop pcheck!!'] : [`(${svc.pname}) RETRY_OVER:EXIT`, `(${svc.pname}) FATAL`];
      await assertTail(child.pid!, { log: logFile(sb, child.pid!), syslog: true }, tail);
    });
  }
});

describe('SIGTERM during start-up', () => {
  it('at any moment: either killed before Node runs any JavaScript (no line, nothing started) or exit 0 with Stop pcheck!! last', async () => {
    const sb = box();
    const svc = sb.service();
    const pfile = pfileOf(sb, [entry(svc)], { SYSLOG: 'off' });
    let lastKilled = -1;
    for (const delay of [0, 30, 60, 90, 120, 200]) {
      const pc = new Pcheck(spawnPcheck(sb, pfile));
      const exited = timeExit(pc.child);
      await sleep(delay);
      kill(pc.pid, 'SIGTERM');
      const r = await exited;
      const log = logFile(sb, pc.pid);
      if (r.signal === 'SIGTERM') {
        lastKilled = delay;
        assert.deepEqual([pc.lines.length, log.length], [0, 0], `killed at ${delay} ms after writing lines`);
      } else {
        assert.equal(r.code, 0, `at ${delay} ms: ${pc.stderr}`);
        assert.equal(messages(pc.lines.map((l) => l.text), pc.pid).at(-1), 'Stop pcheck!!', `at ${delay} ms`);
        assert.equal(log.at(-1), 'Stop pcheck!!', `at ${delay} ms`);
      }
    }
    figure('SIGTERM during start-up: last delay (ms after spawn) that still killed pcheck silently', 'signal', lastKilled);
  });
});
