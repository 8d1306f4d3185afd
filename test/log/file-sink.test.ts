// LOG_FILE's sink across what operators and logrotate do to the file while pcheck writes:
// renamed mid-burst, truncated in place (copytruncate), its directory removed, a umask of 000,
// a wall clock stepped back. Real files; the once-a-second look at the path runs on a clock the
// test moves (except where the wall clock is the point).
import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createFileSink } from '../../src/log/line-sinks';
import { Logger } from '../../src/log/logger';
import type { LogSink } from '../../src/log/types';

const dirs: string[] = [];
afterEach(() => {
  mock.timers.reset();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function box(): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'file-sink-'));
  dirs.push(dir);
  return { dir, log: join(dir, 'pcheck.log') };
}

/** The messages in a log file, without time and tag. */
const lines = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(l.indexOf(']: ') + 3))
    : [];

/** A sink that keeps what it is given (syslog or stdout, for the file sink's reports). */
function memory(): LogSink & { got: string[] } {
  const got: string[] = [];
  return { got, write: (_s, m) => void got.push(m) };
}

describe('LOG_FILE sink across rotation', () => {
  it('a burst of lines across a rename: every line is in exactly one of the two files, in order, none doubled', async () => {
    const { log } = box();
    let now = 0;
    const sink = createFileSink(log, { tag: 'pcheck', pid: 1, monoNow: () => now });
    const sent: string[] = [];
    for (let i = 0; i < 2000; i++) {
      if (i === 700) renameSync(log, `${log}.1`); // logrotate, mid-burst
      now += 1; // 1 ms a line: the path is looked at every 1000 lines
      sent.push(`line ${i}`);
      sink.write(6, `line ${i}`);
    }
    await sink.close?.();
    assert.deepEqual([...lines(`${log}.1`), ...lines(log)], sent);
    assert.ok(lines(log).length >= 1000, 'the path was opened again within a second of the rename');
  });

  it('copytruncate (copied, then truncated in place): the next lines start at offset 0, with no hole of NUL bytes', async () => {
    const { log } = box();
    const sink = createFileSink(log, { tag: 'pcheck', pid: 1, monoNow: () => 0 });
    for (let i = 0; i < 50; i++) sink.write(6, `before ${i}`);
    truncateSync(log, 0);
    sink.write(6, 'after');
    await sink.close?.();
    const text = readFileSync(log, 'utf8');
    assert.ok(!text.includes('\0'), 'no NUL bytes before the line (the file is opened O_APPEND)');
    assert.deepEqual(lines(log), ['after']);
  });

  it('the file made again after a rename is 0600, also under umask 000', async () => {
    const { log } = box();
    const old = process.umask(0);
    try {
      let now = 0;
      const sink = createFileSink(log, { tag: 'pcheck', pid: 1, monoNow: () => now });
      sink.write(6, 'one');
      renameSync(log, `${log}.1`);
      now = 1500;
      sink.write(6, 'two');
      await sink.close?.();
      assert.equal(statSync(log).mode & 0o777, 0o600);
      assert.deepEqual(lines(log), ['two']);
    } finally {
      process.umask(old);
    }
  });

  it('its directory removed: the lines go on to the open file, one warning to the other sinks (and the file) says so, not one a second; the directory back, the path is opened again and said so', async () => {
    const { dir } = box();
    const logDir = join(dir, 'procsafe');
    mkdirSync(logDir);
    const log = join(logDir, 'pcheck.log');
    let now = 0;
    const sink = createFileSink(log, { tag: 'pcheck', pid: 1, monoNow: () => now });
    const other = memory();
    const logger = new Logger([sink, other]);
    logger.info('before');
    rmSync(logDir, { recursive: true });
    for (let i = 0; i < 5; i++) {
      now += 1500;
      logger.info(`gone ${i}`);
    }
    const warnings = other.got.filter((m) => m.includes('cannot be opened again'));
    assert.equal(warnings.length, 1, other.got.join('\n'));
    assert.match(warnings[0], /^LOG_FILE .*pcheck\.log was moved or removed and cannot be opened again \(ENOENT\): writing on to the file pcheck has open/);
    mkdirSync(logDir);
    now += 1500;
    logger.info('back');
    await sink.close?.();
    assert.deepEqual(lines(log), [`LOG_FILE ${log}: opened again at its path`, 'back']);
    assert.ok(other.got.includes(`LOG_FILE ${log}: opened again at its path`));
  });

  it('a FIFO made at the path after a rotation (a world-writable log directory): no hang in open(2), the lines go on to the open file, and a warning says why', async () => {
    const { log } = box();
    let now = 0;
    const sink = createFileSink(log, { tag: 'pcheck', pid: 1, monoNow: () => now });
    const other = memory();
    const logger = new Logger([sink, other]);
    logger.info('before');
    renameSync(log, `${log}.1`);
    execFileSync('mkfifo', [log]);
    now = 1500;
    logger.info('after'); // with a blocking open this never returns
    await sink.close?.();
    assert.deepEqual(lines(`${log}.1`).filter((l) => !l.startsWith('LOG_FILE')), ['before', 'after']);
    assert.ok(other.got.some((m) => /was moved or removed and cannot be opened again \((ENXIO|not a regular file)\)/.test(m)), other.got.join('\n'));
  });

  it('a wall clock stepped back an hour does not stop the sink from following its path (it looks by the monotonic clock)', async () => {
    const { log } = box();
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const sink = createFileSink(log, { tag: 'pcheck', pid: 1 });
    sink.write(6, 'before');
    mock.timers.setTime(Date.now() - 3600_000); // NTP steps the clock back
    renameSync(log, `${log}.1`);
    await new Promise((r) => setTimeout(r, 1100));
    sink.write(6, 'after');
    await sink.close?.();
    assert.deepEqual(lines(log), ['after'], 'the line after the rotation is at the path, not in .1 for an hour');
  });
});
