// The alert log: every event in STATE_DIR/alerts.log (JSON lines, mode 0600), the last
// `keep` of them, read back by a new alerter and by padmin; and the `padmin alerts` lines.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlerter, formatAlerts, readAlertLog } from '../../src/alerts/alerter';
import type { EventKind, ProcsafeEvent } from '../../src/core/events';
import { Logger } from '../../src/log/logger';

function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger([{ write: (_sev, m) => void lines.push(m) }]), lines };
}

const ev = (i: number, kind: EventKind = 'down'): ProcsafeEvent => ({
  kind,
  at: Date.UTC(2026, 10, 23, 9, 0, i),
  server: 'web01',
  subject: `/opt/app/worker-${i}`,
  message: `Process [/opt/app/worker-${i} , pid=${1000 + i}] Down`,
  fields: { pfile: '/etc/app.pfile', pentId: i, pid: 1000 + i },
});

describe('alert log', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'procsafe-alertlog-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps the last `keep` events in memory and in a 0600 file that a new alerter reads back', async () => {
    const dir = tmp();
    const { log } = memoryLogger();
    const a = createAlerter(null, { log, stateDir: dir, keep: 5 });
    for (let i = 1; i <= 12; i++) a.emit(ev(i));
    assert.deepEqual(
      a.recent().map((e) => e.fields.pentId),
      [8, 9, 10, 11, 12],
    );
    assert.deepEqual(
      a.recent(2).map((e) => e.fields.pentId),
      [11, 12],
    );
    assert.deepEqual(a.recent(0), []);
    await a.close();

    const file = join(dir, 'alerts.log');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 5);
    assert.deepEqual(JSON.parse(lines[4]), ev(12));

    // a restarted daemon: its alert log goes on from the file
    const b = createAlerter(null, { log, stateDir: dir, keep: 5 });
    assert.deepEqual(b.recent(), [8, 9, 10, 11, 12].map((i) => ev(i)));
    b.emit(ev(13));
    await b.close();
    assert.deepEqual(
      readAlertLog(dir).map((e) => e.fields.pentId),
      [9, 10, 11, 12, 13],
    );
  });

  it('between compactions holds at most twice `keep` lines, and padmin reads the last ones', async () => {
    const dir = tmp();
    const { log } = memoryLogger();
    const a = createAlerter(null, { log, stateDir: dir, keep: 4 });
    for (let i = 1; i <= 30; i++) {
      a.emit(ev(i));
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 5)); // let some writes land in between
    }
    await new Promise((r) => setTimeout(r, 50));
    const n = readFileSync(join(dir, 'alerts.log'), 'utf8').trim().split('\n').length;
    assert.ok(n >= 4 && n <= 8, `${n} lines`);
    assert.deepEqual(
      readAlertLog(dir, 4).map((e) => e.fields.pentId),
      [27, 28, 29, 30],
    );
    await a.close();
  });

  it('skips a torn or garbage line and tightens the mode of an existing file', async () => {
    const dir = tmp();
    const file = join(dir, 'alerts.log');
    writeFileSync(file, JSON.stringify(ev(1)) + '\nnot json\n{"kind":"nonsense","at":1}\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    appendFileSync(file, JSON.stringify(ev(2)) + '\n{"kind":"do');
    const { log } = memoryLogger();
    const a = createAlerter(null, { log, stateDir: dir, keep: 10 });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(a.recent(), [ev(1), ev(2)]);
    a.emit(ev(3));
    await a.close();
    assert.deepEqual(readAlertLog(dir), [ev(1), ev(2), ev(3)]);
  });

  it('keeps alerts in memory and says so once when the state directory cannot be written', async () => {
    const dir = join(tmp(), 'gone');
    mkdirSync(dir);
    const { log, lines } = memoryLogger();
    const a = createAlerter(null, { log, stateDir: dir, keep: 10 });
    rmSync(dir, { recursive: true });
    a.emit(ev(1));
    a.emit(ev(2));
    await new Promise((r) => setTimeout(r, 50));
    a.emit(ev(3));
    await a.close();
    assert.deepEqual(
      a.recent().map((e) => e.fields.pentId),
      [1, 2, 3],
    );
    const warnings = lines.filter((l) => l.startsWith(`Alert log ${dir}/alerts.log: write failed`));
    assert.equal(warnings.length, 1, lines.join('\n'));
    assert.match(warnings[0], /ENOENT.*alerts are kept in memory$/);
  });

  it('logs events outside [alert] events to the alert log only, and keeps everything without an [alert] section', async () => {
    const { log, lines } = memoryLogger();
    const a = createAlerter(
      { events: ['final_action'], mailTo: [], mailFrom: null, smtpHost: null, smtpPort: 25, webhookUrl: null },
      { log, stateDir: null },
    );
    a.emit(ev(1, 'down'));
    a.emit({ ...ev(2, 'final_action'), subject: 'web-http', message: 'Monitor web-http failed 2 times after 2 restarts of group web: final action reboot' });
    await a.close();
    assert.equal(a.recent().length, 2);
    assert.deepEqual(lines, ['ALERT final_action web-http: Monitor web-http failed 2 times after 2 restarts of group web: final action reboot']);
    assert.deepEqual(a.stats(), []);
  });

  it('formats padmin alerts one line per event in local time', () => {
    const at = new Date(2026, 10, 23, 18, 0, 1).getTime();
    const e: ProcsafeEvent = { kind: 'retry_over', at, server: 'web01', subject: '/usr/bin/java', message: '(/usr/bin/java) RETRY_OVER:EXIT', fields: {} };
    const r: ProcsafeEvent = { ...e, kind: 'monitor_recovered', at: at + 61000, subject: 'web-http', message: 'Monitor web-http\nrecovered' };
    assert.equal(formatAlerts([e, r]), '2026-11-23 18:00:01 retry_over /usr/bin/java: (/usr/bin/java) RETRY_OVER:EXIT\n2026-11-23 18:01:02 monitor_recovered web-http: Monitor web-http recovered');
    assert.equal(formatAlerts([]), '(no alerts recorded)');
  });

  it('emits never throw, even for an event JSON cannot write', async () => {
    const { log, lines } = memoryLogger();
    const a = createAlerter(null, { log, stateDir: tmp() });
    const bad = ev(1) as ProcsafeEvent & { fields: Record<string, unknown> };
    (bad.fields as Record<string, unknown>).self = bad;
    assert.doesNotThrow(() => a.emit(bad));
    await a.close();
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^Alert for down \/opt\/app\/worker-1 not handled: .*circular/i);
  });
});
