// ONLY rehearse mode is exercised here: a real OS action would end this machine.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { osActionPlan, runOsAction } from '../../src/exec/os-action';
import { OS_ACTIONS } from '../../src/core/states';
import { ProcsafeError } from '../../src/errors';

const dir = mkdtempSync(join(tmpdir(), 'procsafe-osa-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('runOsAction in rehearse mode', () => {
  it('appends one line per action to the rehearse log and reports what it would run', async () => {
    const log = join(dir, 'rehearse.log');
    const before = Date.now();
    const results: Awaited<ReturnType<typeof runOsAction>>[] = [];
    for (const action of OS_ACTIONS) results.push(await runOsAction(action, { rehearse: true, rehearseLog: log }));
    assert.deepEqual(results, [
      { rehearsed: true, command: '/sbin/shutdown -h now' },
      { rehearsed: true, command: '/sbin/shutdown -r now' },
      { rehearsed: true, command: 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger' },
    ]);
    const lines = readFileSync(log, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 3);
    const re = /^(\S+) REHEARSE (shutdown|reboot|panic): would run (.+)$/;
    lines.forEach((line, i) => {
      const m = re.exec(line);
      assert.ok(m, line);
      assert.equal(new Date(m[1]).toISOString(), m[1]);
      assert.ok(Date.parse(m[1]) >= before - 1000);
      assert.equal(m[2], OS_ACTIONS[i]);
      assert.equal(m[3], results[i].command);
    });
    assert.equal(statSync(log).mode & 0o777, 0o600);
  });

  it('touches nothing when no rehearse log is given', async () => {
    const r = await runOsAction('reboot', { rehearse: true });
    assert.deepEqual(r, { rehearsed: true, command: '/sbin/shutdown -r now' });
    assert.equal(existsSync(join(dir, 'nothing.log')), false);
  });

  it('throws a ProcsafeError naming the log when the rehearse log cannot be written', async () => {
    const log = join(dir, 'missing-dir', 'rehearse.log');
    await assert.rejects(
      runOsAction('shutdown', { rehearse: true, rehearseLog: log }),
      (e: unknown) => e instanceof ProcsafeError && e.message.includes(log) && e.message.includes('ENOENT'),
    );
  });
});

describe('osActionPlan', () => {
  it('shuts down with shutdown -h now, falling back to systemctl poweroff', () => {
    assert.deepEqual(osActionPlan('shutdown').attempts, [
      [{ kind: 'exec', file: '/sbin/shutdown', args: ['-h', 'now'] }],
      [{ kind: 'exec', file: 'systemctl', args: ['poweroff'] }],
    ]);
  });

  it('reboots with shutdown -r now, falling back to systemctl reboot', () => {
    assert.deepEqual(osActionPlan('reboot').attempts, [
      [{ kind: 'exec', file: '/sbin/shutdown', args: ['-r', 'now'] }],
      [{ kind: 'exec', file: 'systemctl', args: ['reboot'] }],
    ]);
  });

  it('panics by enabling sysrq (best effort) and writing c to sysrq-trigger', () => {
    assert.deepEqual(osActionPlan('panic').attempts, [
      [
        { kind: 'write', file: '/proc/sys/kernel/sysrq', data: '1', optional: true },
        { kind: 'write', file: '/proc/sysrq-trigger', data: 'c' },
      ],
    ]);
  });
});
