// The web server of a real FailSafe daemon ([web]): the token guards every data route, and
// /metrics is Prometheus text that a parser reads, with the heal time of a real kill in it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { FailsafeSandbox } from '../helpers/failsafe';
import { kill } from '../helpers/harness';
import { http } from '../web/http';
import { strictParse } from '../web/prom-check';

describe('the FailSafe daemon’s web server', () => {
  const sb = new FailsafeSandbox();
  after(() => sb.cleanup());

  it('answers 401 without the token, the status and metrics with it, and counts a heal in procsafe_heal_seconds', async () => {
    const svc = sb.service();
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 2 }, pents: [`${svc.pname}:${svc.script}:0:5:none`] });
    const start = sb.script('start.sh', svc.script);
    const port = 40000 + (process.pid % 20000);
    sb.ini(`[group:app]\nstart = "${start}"\npfile = ${pfile}\n\n[web]\nlisten = 127.0.0.1:${port}\n`);
    const pc = sb.failsafe();
    await pc.waitLine(`Web page: http://127.0.0.1:${port}/`);
    const up = await pc.waitLine(`(${svc.pname} ,pid=`);
    // no token_file: generated in the state directory (the run directory here), owner-only
    const tokenFile = join(sb.runDir, 'web.token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const base = `http://127.0.0.1:${port}`;

    for (const path of ['/api/status', '/metrics', '/api/alerts']) {
      const r = await http(base, 'GET', path);
      assert.equal(r.status, 401, path);
      assert.doesNotMatch(r.body, /app|svc/, 'no data without the token');
    }
    const st = await http(base, 'GET', '/api/status', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(st.status, 200);
    assert.equal((JSON.parse(st.body) as { groups: { name: string }[] }).groups[0].name, 'app');

    kill(Number(/pid=(\d+)/.exec(up.text)![1]), 'SIGKILL');
    await pc.waitLine(`(${svc.pname} ,pid=`, 10_000, up.index + 1);
    const m = await http(base, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(m.status, 200);
    const families = parsePrometheusTextFormat(m.body);
    const heal = families.find((f) => f.name === 'procsafe_heal_seconds');
    assert.ok(heal, 'procsafe_heal_seconds present');
    assert.equal(heal.type, 'HISTOGRAM');
    // the parser drops _count of a labelled histogram (one per pfile): read it strictly
    const strict = Object.fromEntries(strictParse(m.body).map((f) => [f.name, f]));
    const count = (name: string) => strict[name].samples.find((s) => s.name === `${name}_count` && s.labels.pfile === pfile)?.value;
    assert.equal(count('procsafe_heal_seconds'), 1, 'one heal observed');
    // detection is measurable with the poll (time since last seen alive); a pidfd is a kernel event
    assert.equal(count('procsafe_detection_seconds'), process.env.PROCSAFE_DEATH_WATCH === 'poll' ? 1 : 0);
    const upFam = families.find((f) => f.name === 'procsafe_entry_up')!;
    assert.equal((upFam.metrics[0] as { value?: string }).value, '1');
    kill(pc.pid, 'SIGTERM');
    assert.equal(await pc.exited, 0);
  });
});
