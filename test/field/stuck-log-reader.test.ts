// SPEC §10 "Logging never stops healing" (issue 10, case 9): a stdout reader that stops reading
// (`pcheck -f … | less` left in the background, a hung log collector) or a syslog daemon whose
// queue is full must not stop pcheck: deaths are still healed in normal time, padmin still
// answers, the other log sinks still get every line. Lines that cannot be written wait in a
// bounded queue (1 MiB), the oldest are dropped beyond it, and once the reader reads again a
// line says how many were dropped.
//
// pcheck must log more than the queue holds while the reader is away: the watched program's
// pname is ~4 KB long and its restart script prints 100 lines, each logged as
// `(PNAME) script: LINE` — some 400 KB per restart.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PCHECK, Pcheck, kill, sandboxes, sleep, waitFor, type Sandbox, type Service } from '../helpers/harness';
import { QUEUE_MAX_BYTES } from '../../src/log/write-queue';

const KILLS = 3;

/** A service with a ~4 KB pname whose restart script prints 100 lines, then starts it. */
function noisyService(sb: Sandbox): Service {
  const pname = join(sb.dir, `${'n'.repeat(200)}/`.repeat(19), 'app');
  const script = sb.script('start-noisy.sh', `for i in $(seq 100); do echo "starting, step $i of 100"; done\nsetsid bash -c 'exec -a "$0" sleep infinity' '${pname}' </dev/null >/dev/null 2>&1 &`);
  return { pname, script };
}

/** Messages of LOG_FILE (`TIME pcheck[PID]: MESSAGE`), read incrementally: the file grows by
 *  megabytes here, and re-reading it every few milliseconds would starve pcheck of CPU. */
class LogFile {
  private readonly path: string;
  private readonly lines: string[] = [];
  private offset = 0;
  private partial = '';
  constructor(sb: Sandbox) {
    this.path = join(sb.dir, 'pcheck.log');
  }

  messages(): string[] {
    if (existsSync(this.path)) {
      const fd = openSync(this.path, 'r');
      try {
        const buf = Buffer.alloc(1 << 20);
        for (let n; (n = readSync(fd, buf, 0, buf.length, this.offset)) > 0; this.offset += n) {
          const parts = (this.partial + buf.toString('utf8', 0, n)).split('\n');
          this.partial = parts.pop() ?? '';
          this.lines.push(...parts.map((l) => l.replace(/^.*? pcheck\[\d+\]: /, '')));
        }
      } finally {
        closeSync(fd);
      }
    }
    return this.lines;
  }
}

const upRe = (pname: string) => new RegExp(`^\\(${pname.replaceAll('/', '\\/')} ,pid=(\\d+)\\) Up$`);

/** Kills the watched process `KILLS` times; each time: healed within `healMs` (LOG_FILE says Up
 *  with a new pid) and padmin answers. Returns the heal times (ms). */
async function killAndHeal(sb: Sandbox, log: LogFile, pfile: string, svc: Service, kills = KILLS): Promise<number[]> {
  const heals: number[] = [];
  const up = upRe(svc.pname);
  for (let i = 0; i < kills; i++) {
    const [e] = sb.showPent(pfile);
    const old = Number(e.pid);
    const from = log.messages().length;
    const t0 = performance.now();
    kill(old, 'SIGKILL');
    await waitFor(() => log.messages().slice(from).some((m) => up.test(m)), 10_000, `heal ${i + 1}`, 20);
    heals.push(performance.now() - t0);
    const q0 = performance.now();
    const answer = sb.padmin(pfile, 'show pent');
    assert.equal(answer.code, 0, answer.stderr);
    assert.ok(performance.now() - q0 < 3000, `padmin answered in ${(performance.now() - q0).toFixed(0)} ms`);
    await sleep(200);
  }
  return heals;
}

function assertHealedInTime(heals: number[]): void {
  // normally 0.1-0.5 s (the script prints 100 lines, then starts the program); a pcheck waiting
  // for its log reader would never heal at all
  for (const h of heals) assert.ok(h < 5000, `healed in ${heals.map((x) => x.toFixed(0)).join(', ')} ms`);
}

/** A syslog daemon that has stopped reading: a datagram socket whose queue is full (filled by
 *  the receiver itself) until `gate` exists; then it reads, printing each datagram. */
class StuckSyslog {
  readonly got: string[] = [];
  private constructor(
    readonly path: string,
    readonly gate: string,
    private readonly proc: ChildProcess,
  ) {}

  static async start(dir: string): Promise<StuckSyslog> {
    const path = join(dir, 'syslog.sock');
    const gate = join(dir, 'syslog.gate');
    const py = [
      'import json, os, socket, time',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(path)})`,
      'f = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      'f.setblocking(False)',
      'n = 0',
      'while True:',
      '    try:',
      `        f.sendto(b"<13>filler", ${JSON.stringify(path)})`,
      '        n += 1',
      '    except BlockingIOError:',
      '        break',
      'print(json.dumps(["ready %d" % n]), flush=True)',
      `while not os.path.exists(${JSON.stringify(gate)}):`,
      '    time.sleep(0.05)',
      'while True:',
      '    print(json.dumps([s.recv(65536).decode("utf-8", "replace")]), flush=True)',
    ].join('\n');
    const proc = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
    const r = new StuckSyslog(path, gate, proc);
    let buf = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (buf + d).split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) r.got.push((JSON.parse(p) as [string])[0]);
    });
    await waitFor(() => r.got[0]?.startsWith('ready'), 10_000, 'the syslog socket to be full');
    return r;
  }

  /** pcheck's messages received (`<PRI>Mmm dd hh:mm:ss pcheck[PID]: MESSAGE` → MESSAGE). */
  messages(): string[] {
    return this.got.filter((d) => d.includes(' pcheck[')).map((d) => d.replace(/^.*? pcheck\[\d+\]: /, ''));
  }

  read(): void {
    writeFileSync(this.gate, '');
  }

  stop(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** The logger(1) child of pcheck (through `sh -c 'trap …; exec logger …'`). */
function loggerChild(pid: number): number | null {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
      const argv = readFileSync(`/proc/${c}/cmdline`, 'latin1').split('\0');
      if (argv[0].endsWith('logger')) return Number(c);
    }
  }
  return null;
}

/** A FIFO for pcheck's stdout, full before pcheck starts, read by nobody until `startReading`. */
function fullFifo(sb: Sandbox): { writer: number; startReading: () => () => string } {
  const path = join(sb.dir, 'stdout.fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  const filler = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const line = Buffer.from(`${'f'.repeat(99)}\n`);
  for (;;) {
    try {
      writeSync(filler, line);
    } catch {
      break; // EAGAIN: full
    }
  }
  closeSync(filler);
  return {
    writer,
    /** From now on the FIFO is drained every 5 ms; returns what was read so far. */
    startReading() {
      let text = '';
      const buf = Buffer.alloc(65536);
      const t = setInterval(() => {
        for (;;) {
          let n: number;
          try {
            n = readSync(reader, buf, 0, buf.length, null);
          } catch {
            return; // EAGAIN: all read for now
          }
          if (n === 0) return clearInterval(t);
          text += buf.toString('utf8', 0, n);
        }
      }, 5);
      return () => text;
    },
  };
}

describe('a log reader that stops reading never stops healing (SPEC §10)', () => {
  const { box, cleanup } = sandboxes();
  const stuck: StuckSyslog[] = [];
  after(() => {
    for (const s of stuck) s.stop();
    cleanup();
  });

  it(`stdout a pipe nobody reads: ${KILLS} kills healed in normal time, padmin answers, syslog gets every line; once read, stdout says how many lines were dropped`, async () => {
    const sb = box();
    const syslog = await StuckSyslog.start(sb.dir);
    stuck.push(syslog);
    syslog.read(); // this syslog reads
    const svc = noisyService(sb);
    const pfile = sb.pfile({ param: { SYSLOG: 'on', SYSLOG_SOCKET: syslog.path, INITIAL_WAIT: 0.3 }, pents: [`${svc.pname}:${svc.script}:0:100:none`] });
    const fifo = fullFifo(sb);
    const log = new LogFile(sb);
    const child = spawn(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(), stdio: ['ignore', fifo.writer, 'pipe'] });
    sb.track(child.pid!);
    closeSync(fifo.writer);
    await waitFor(() => log.messages().some((m) => upRe(svc.pname).test(m)), 15_000, 'the program started by pcheck');
    const heals = await killAndHeal(sb, log, pfile, svc);
    assertHealedInTime(heals);
    assert.ok(log.messages().some((m) => m.startsWith('stdout is not reading: ')), 'LOG_FILE says stdout is not read');
    // every line reached syslog (and LOG_FILE)
    await waitFor(() => syslog.messages().length >= log.messages().length, 10_000, 'syslog to have every line');
    assert.deepEqual(syslog.messages().slice(0, log.messages().length), log.messages());

    const read = fifo.startReading();
    const back = await waitFor(() => log.messages().find((m) => /^stdout is reading again: \d+ line\(s\) were dropped from it since /.test(m)), 15_000, 'stdout to be read again');
    const dropped = Number(/(\d+) line/.exec(back)![1]);
    assert.ok(dropped > 0, back);
    await waitFor(() => read().includes('stdout is reading again'), 5000, 'the count on stdout itself');
    assert.match(read(), /\.\.\. \d+ line\(s\) dropped here: stdout was not read/);
    console.log(`# stuck stdout: heals ${heals.map((h) => h.toFixed(0)).join(', ')} ms; ${dropped} lines dropped from stdout (queue ${QUEUE_MAX_BYTES >> 10} KiB)`);
    kill(child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });

  for (const mode of ['addon: send(MSG_DONTWAIT)', 'no addon: a writer thread'] as const) {
    // a socket buffers more than a pipe (its send and receive buffers, ~400 KB): two kills more
    it(`stdout a socket nobody reads (as journald's stream; ${mode}): ${KILLS + 2} kills healed in normal time; once read, stdout says how many lines were dropped`, async () => {
      const sb = box();
      const svc = noisyService(sb);
      const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.3 }, pents: [`${svc.pname}:${svc.script}:0:100:none`] });
      const log = new LogFile(sb);
      const pc = sb.pcheck(pfile, [], mode.startsWith('addon') ? {} : { PROCSAFE_NATIVE: 'off' });
      await waitFor(() => log.messages().some((m) => upRe(svc.pname).test(m)), 15_000, 'the program started by pcheck');
      const from = pc.lines.length;
      pc.child.stdout!.pause(); // the socket's buffer fills, then pcheck's queue
      const heals = await killAndHeal(sb, log, pfile, svc, KILLS + 2);
      assertHealedInTime(heals);
      assert.ok(log.messages().some((m) => m.startsWith('stdout is not reading: ')), 'LOG_FILE says stdout is not read');
      pc.child.stdout!.resume();
      const back = await pc.waitLine(/stdout is reading again: \d+ line\(s\) were dropped from it since /, 15_000, from);
      assert.ok(Number(/(\d+) line/.exec(back.text)![1]) > 0, back.text);
      assert.ok(pc.lines.slice(from).some((l) => /\.\.\. \d+ line\(s\) dropped here: stdout was not read/.test(l.text)));
      console.log(`# stuck stdout socket (${mode}): heals ${heals.map((h) => h.toFixed(0)).join(', ')} ms`);
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    });
  }

  /** Kills 3 times while syslog does not read (`stall`), then lets it read (`resume`): heals in
   *  normal time, stdout has every line, and syslog then says how many of its lines were dropped. */
  async function syslogStalled(mode: string, env: Record<string, string>, stall: (sb: Sandbox, pc: Pcheck, syslog: StuckSyslog) => () => void): Promise<void> {
    const sb = box();
    const syslog = await StuckSyslog.start(sb.dir);
    stuck.push(syslog);
    const svc = noisyService(sb);
    const pfile = sb.pfile({ param: { SYSLOG: 'on', SYSLOG_SOCKET: syslog.path, INITIAL_WAIT: 0.3 }, pents: [`${svc.pname}:${svc.script}:0:100:none`] });
    const log = new LogFile(sb);
    const pc: Pcheck = sb.pcheck(pfile, [], env);
    await waitFor(() => log.messages().some((m) => upRe(svc.pname).test(m)), 15_000, 'the program started by pcheck');
    const resume = stall(sb, pc, syslog);
    const heals = await killAndHeal(sb, log, pfile, svc);
    assertHealedInTime(heals);
    await pc.waitLine(`syslog (${syslog.path}) is not reading: `, 5000);
    resume();
    const back = await pc.waitLine(new RegExp(`syslog \\(${syslog.path.replaceAll('/', '\\/')}\\) is reading again: \\d+ line\\(s\\) were dropped from it since `), 15_000);
    const dropped = Number(/(\d+) line\(s\) were dropped/.exec(back.text)![1]);
    assert.ok(dropped > 0, back.text);
    await waitFor(() => syslog.messages().some((m) => m.includes('is reading again')), 10_000, 'the count in syslog itself');
    assert.ok(syslog.messages().some((m) => /^\.\.\. \d+ line\(s\) dropped here: syslog was not reading/.test(m)), 'a marker where they were dropped');
    // stdout (read all along) has every line of LOG_FILE
    assert.deepEqual(
      pc.lines.map((l) => l.text.replace(/^.*? pcheck\[\d+\]: /, '')).slice(0, log.messages().length),
      log.messages(),
    );
    console.log(`# stuck syslog (${mode}): heals ${heals.map((h) => h.toFixed(0)).join(', ')} ms; ${dropped} lines dropped from syslog`);
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  }

  it(`syslog a socket nobody reads (its queue full): ${KILLS} kills healed in normal time, padmin answers, stdout gets every line; once read, syslog says how many lines were dropped`, async () => {
    await syslogStalled('addon, socket full', {}, (_sb, _pc, syslog) => () => syslog.read());
  });

  it(`syslog through logger(1) (no addon), logger stopped: ${KILLS} kills healed in normal time, padmin answers; once it runs, syslog says how many lines were dropped`, async () => {
    // logger(1) itself drops what a full socket does not take (util-linux 2.38 does not wait):
    // what can stop is logger itself (stopped, starved), and then its stdin pipe fills
    await syslogStalled('logger(1) stopped', { PROCSAFE_NATIVE: 'off' }, (sb, pc, syslog) => {
      syslog.read();
      const logger = loggerChild(pc.pid);
      assert.ok(logger, 'pcheck runs logger(1)');
      sb.track(logger);
      kill(logger, 'SIGSTOP');
      return () => kill(logger, 'SIGCONT');
    });
  });
});
