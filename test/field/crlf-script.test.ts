// Field case 9c: a restart script saved with CRLF line endings (edited on Windows, copied over)
// was accepted at load and failed only at the first restart (`/bin/sh^M: bad interpreter`).
// It is refused at start (exit 2, nothing started) and on reload, naming the pfile line, the
// script and the fix.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { PCHECK, Sandbox } from '../helpers/harness';
import { socketPath } from '../../src/control/protocol';

/** The start script as an operator writes it (nohup … &, no redirections), saved with CRLF. */
function crlfScript(sb: Sandbox, name: string, pname: string): string {
  const file = sb.script(name, '');
  writeFileSync(file, `#!/bin/bash\nnohup bash -c 'exec -a "$0" sleep infinity' '${pname}' &\n`.replaceAll('\n', '\r\n'));
  return file;
}

describe('a restart script with CRLF line endings', () => {
  const sb = new Sandbox();
  after(() => sb.cleanup());

  it('is refused at start: exit 2, the pfile line, the script and dos2unix; nothing is started', () => {
    const svc = sb.service('app');
    const script = crlfScript(sb, 'start-crlf.sh', svc.pname);
    const pfile = sb.pfile({ param: { INITIAL_WAIT: 0.2 }, pents: [`${svc.pname}:${script}:0:3:exit`] });
    const r = spawnSync(process.execPath, [PCHECK, '-f', pfile], { env: sb.env(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.ok(r.stderr.startsWith(`pcheck: ${pfile}:10: restart script "${script}" has Windows (CRLF) line endings`), r.stderr);
    assert.ok(r.stderr.includes(`dos2unix ${script}`), r.stderr);
    assert.equal(existsSync(socketPath(sb.runDir, sb.ipckey)), false, 'no control socket');
    assert.deepEqual(sb.pidsOf(svc), []);
  });

  it('is refused on reload: the running configuration stays and keeps healing', async () => {
    const svc = sb.service('web');
    const pfile = sb.pfile({ pents: [`${svc.pname}:${svc.script}:0:3:exit`] });
    const pid = await sb.startService(svc);
    const pc = sb.pcheck(pfile);
    await pc.waitLine(`(${svc.pname} ,pid=${pid}) Up`);
    const script = crlfScript(sb, 'start-web-crlf.sh', svc.pname);
    sb.pfile({ pents: [`${svc.pname}:${script}:0:3:exit`] });
    const r = sb.padmin(pfile, 'reload');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /:9: restart script ".*start-web-crlf\.sh" has Windows \(CRLF\) line endings.*dos2unix/);
    await pc.waitLine('Reload refused (padmin)');
    assert.equal(sb.showPent(pfile)[0].pid, String(pid));
  });
});
