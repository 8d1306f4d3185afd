// Alerts from the real pcheck --config: a retry-over reaches a real SMTP server on loopback,
// with subject and body naming server, entry and action; padmin alerts shows the alert log;
// padmin collect-logs writes the bundle.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill, waitFor } from '../helpers/harness';
import { startSmtp } from '../helpers/smtp';

describe('FailSafe alerts and the log bundle', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('mails a retry-over, shows it in padmin alerts, and collect-logs bundles logs, state, config and status', async () => {
    const smtp = await startSmtp();
    try {
      const svc = sb.service();
      const pfile = sb.pfile({ param: { INITIAL_WAIT: 2 }, pents: [`${svc.pname}:${svc.script}:0:0:none`] });
      const start = sb.script('start.sh', svc.script);
      sb.ini(
        `[group:app]\nstart = "${start}"\npfile = ${pfile}\n\n` +
          `[alert]\nevents = retry_over,down\nmail_events = retry_over\nsyslog_events = down\nsmtp_host = 127.0.0.1\nsmtp_port = ${smtp.port}\nmail_to = ops@example.com\nmail_from = procsafe@example.com\n`,
      );
      const pc = sb.failsafe();
      const up = await pc.waitLine(`(${svc.pname} ,pid=`);
      kill(Number(/pid=(\d+)/.exec(up.text)![1]), 'SIGKILL');
      await pc.waitLine(`(${svc.pname}) RETRY_OVER:NONE`);
      const mail = await waitFor(() => smtp.mails.find((m) => /retry_over/.test(m.raw)), 15_000, 'the retry-over mail');
      assert.deepEqual(mail.to, ['ops@example.com']);
      assert.match(mail.raw, new RegExp(`Subject: \\[procsafe\\] testhost: retry_over ${svc.pname.replace(/[/.]/g, '\\$&')}`));
      assert.match(mail.raw, /RETRY_OVER:NONE/);
      assert.match(mail.raw, /action: +none/);
      assert.match(mail.raw, /testhost/);
      // per channel: `down` goes to syslog only, `retry_over` to mail only
      await pc.waitLine(`ALERT down ${svc.pname}`);
      assert.equal(pc.count('ALERT retry_over'), 0);
      assert.equal(smtp.mails.filter((m) => /X-Procsafe-Event: down/.test(m.raw)).length, 0);

      const alerts = sb.admin('alerts');
      assert.equal(alerts.code, 0, alerts.stderr);
      assert.match(alerts.stdout, new RegExp(`retry_over ${svc.pname.replace(/[/.]/g, '\\$&')}: \\(.*\\) RETRY_OVER:NONE`));
      assert.match(alerts.stdout, /down /);

      const out = join(sb.dir, 'bundle.tar.gz');
      const r = sb.admin('collect-logs', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const list = spawnSync('tar', ['tzf', out], { encoding: 'utf8' }).stdout;
      for (const want of ['procsafe.ini', 'status.json', 'procsafe.log', 'test.pfile', 'MANIFEST.txt']) {
        assert.match(list, new RegExp(want.replace('.', '\\.')), `bundle lacks ${want}:\n${list}`);
      }
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    } finally {
      await smtp.close();
    }
  });

  it('with the SMTP server down, monitoring goes on and the failed delivery is retried and logged', async () => {
    const sb2 = new FailsafeSandbox();
    try {
      const svc = sb2.service();
      const pfile = sb2.pfile({ param: { INITIAL_WAIT: 2 }, pents: [`${svc.pname}:${svc.script}:0:5:none`] });
      const start = sb2.script('start.sh', svc.script);
      // port 1 on loopback: nothing listens, connections are refused at once
      sb2.ini(`[group:app]\nstart = "${start}"\npfile = ${pfile}\n\n[alert]\nevents = down\nsmtp_host = 127.0.0.1\nsmtp_port = 1\nmail_to = ops@example.com\n`);
      const pc = sb2.failsafe();
      let up = await pc.waitLine(`(${svc.pname} ,pid=`);
      for (let i = 0; i < 3; i++) {
        kill(Number(/pid=(\d+)/.exec(up.text)![1]), 'SIGKILL');
        up = await pc.waitLine(`(${svc.pname} ,pid=`, 10_000, up.index + 1);
      }
      await pc.waitLine(/Alert mail to ops@example\.com for down .* failed \(attempt 1\/\d+\): .*ECONNREFUSED.*; next try in/);
      const s = sb2.status();
      assert.equal(s.pfiles[0].entries[0].proc_sts, 'AVAIL');
      assert.equal(s.pfiles[0].entries[0].restart_count, 3, 'every kill was healed while mail failed');
      kill(pc.pid, 'SIGTERM');
      assert.equal(await pc.exited, 0);
    } finally {
      sb2.cleanup();
    }
  });
});
